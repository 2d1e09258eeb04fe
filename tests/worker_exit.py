"""A run on several processes (pytest-xdist) fails when a worker process dies.

pytest-xdist reports a worker that dies during a test (the test fails) but not one that
dies after its last report: a Qt object freed while the interpreter shuts down can abort
the process (``Fatal Python error``) once every test passed, and the run still ends with
exit code 0. Here the controller checks each worker's exit code once the workers are down,
and a worker lost between tests counts as well. Loaded by tests/conftest.py, so by every
run of the suite; only the controller of an xdist run does anything.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest

# pytest-xdist waits 10 s for a worker to exit, then kills it: on a loaded machine a UI
# worker's shutdown (freeing its windows, joining threads) can take longer, and the kill
# would hide an abort that comes late in it. Given time, a SIGKILL means a real hang.
EXIT_TIMEOUT_S = 120

_nodes: list[Any] = []  # every worker started in this run, replacements included
_lost: list[str] = []  # workers xdist saw die, in words


def pytest_configure(config: pytest.Config) -> None:
    try:
        from xdist.workermanage import NodeManager
    except ImportError:  # run without pytest-xdist
        return
    NodeManager.EXIT_TIMEOUT = max(NodeManager.EXIT_TIMEOUT, EXIT_TIMEOUT_S)


# Optional: xdist's hooks are unknown without it (``-p no:xdist``).
@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    _nodes.append(node)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    if error:
        _lost.append(f"worker {_name(node)} went down: {error}")


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session) -> Iterator[None]:
    # After xdist's own sessionfinish, which shuts the workers down and waits for them.
    result = yield
    failures = _lost + [f"worker {_name(node)} {_how(code)}"
                        for node in _nodes if (code := _exit_code(node))]
    if failures:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write("\n")  # after the progress line
            reporter.write_sep("=", "worker processes that did not exit cleanly", red=True)
            for line in failures:
                reporter.write_line(line, red=True, bold=True)
        if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    _nodes.clear()
    _lost.clear()
    return result


def _name(node: Any) -> str:
    gateway = getattr(node, "gateway", None)
    return str(getattr(gateway, "id", node))


def _exit_code(node: Any) -> int | None:
    """The worker process's exit code, once it has exited (None while it runs, or when
    the gateway is not a local subprocess)."""
    popen = getattr(getattr(getattr(node, "gateway", None), "_io", None), "popen", None)
    return None if popen is None else popen.poll()


def _how(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name} (exit code {code})"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"

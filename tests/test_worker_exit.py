"""A run on several processes fails when a worker process dies after its last test (an
abort while the interpreter shuts down, as a C extension's refcount error causes), which
pytest-xdist alone reports as a passing run (exit code 0). Each test runs a small inner
session on one worker with tests/worker_exit.py loaded, as tests/conftest.py loads it."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT

pytest_plugins = ["pytester"]

# The inner worker's conftest: INNER_DIE=exit aborts the worker at interpreter exit, after
# its report (what a ``Fatal Python error`` ends with; no core file); INNER_DIE=finish
# ends it before it tells the controller that it finished.
CONFTEST = """
import atexit, os, resource

DIE = os.environ.get("INNER_DIE", "") if os.environ.get("PYTEST_XDIST_WORKER") else ""

def _abort():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.abort()

if DIE == "exit":
    atexit.register(_abort)

def pytest_sessionfinish(session):
    if DIE == "finish":
        os._exit(3)
"""


def inner_run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
              die: str) -> pytest.RunResult:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_inner="def test_passes():\n    pass\n")
    monkeypatch.setenv("INNER_DIE", die)
    # Run from a worker of the outer session, the inner controller would take itself for one.
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # only the plugins named here
    return pytester.runpytest_subprocess("-p", "xdist", "-p", "tests.worker_exit", "-n", "1",
                                         "--max-worker-restart=0", "-p", "no:cacheprovider",
                                         timeout=300)


def test_a_worker_that_aborts_at_exit_fails_the_run(pytester: pytest.Pytester,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    result = inner_run(pytester, monkeypatch, "exit")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*worker processes that did not exit cleanly*",
                                 "worker gw0 was killed by SIGABRT (exit code -6)"])


def test_a_worker_lost_before_it_finished_fails_the_run(pytester: pytest.Pytester,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    result = inner_run(pytester, monkeypatch, "finish")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["worker gw0 went down: Not properly terminated",
                                 "worker gw0 exited with code 3"])


def test_workers_that_exit_cleanly_leave_the_run_passing(pytester: pytest.Pytester,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    result = inner_run(pytester, monkeypatch, "")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    assert "did not exit cleanly" not in result.stdout.str()

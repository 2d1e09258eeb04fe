"""Start a test's server by forking a process that has already imported it.

A server test starts ``python -m sync_server`` a few hundred times per run, and most of each
start (about 0.6 of 0.9 s on SQLite) is the interpreter importing FastAPI, pydantic and the
server's routes. Here each pytest process keeps one multiprocessing fork server that imported
them once; a start forks it and runs ``sync_server.__main__.main`` with the test's arguments,
environment, working directory and log file, in a session of its own as ``Popen`` gave it.
What the server reads from its environment at import time (``sync_server.faults``) is read
again in the child. A server with several workers still starts as a new interpreter (uvicorn
spawns its workers anyway), and ``FIELDAPP_TEST_FORK=0`` starts every server that way.

The child is the fork server's, not the test's: ``Forked`` gives ``ServerProcess`` the part
of ``Popen`` it uses (pid, poll, wait, terminate), answered by multiprocessing, which hears
the child's end from the fork server.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from multiprocessing.process import BaseProcess
from pathlib import Path

FORK_ENV = "FIELDAPP_TEST_FORK"
# Imported once by the fork server: the server and what it imports lazily on PostgreSQL.
PRELOAD = ["sync_server.__main__", "sync_server.app", "sync_server.storage.postgres",
           "psycopg", "uvicorn"]

_context: multiprocessing.context.ForkServerContext | None = None


def enabled(workers: int) -> bool:
    return workers == 1 and os.environ.get(FORK_ENV, "1") != "0"


class Forked:
    """A forked server as ``ServerProcess`` uses a ``Popen``."""

    def __init__(self, process: BaseProcess, args: Sequence[str]) -> None:
        self._process = process
        self.args = list(args)
        self.pid: int = process.pid or 0

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return self._process.exitcode

    def terminate(self) -> None:
        self._process.terminate()


def start(argv: Sequence[str], env: Mapping[str, str], cwd: Path, log: Path) -> Forked:
    """Fork the preloaded server process into ``sync_server`` run with ``argv``."""
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(PRELOAD)
    # A daemon: one a test left running is stopped when its pytest process exits (a
    # non-daemon child would hold that exit until it ended).
    process = _context.Process(target=_run, args=(list(argv), dict(env), str(cwd), str(log)),
                               name="sync_server", daemon=True)
    process.start()
    return Forked(process, argv)


def _run(argv: list[str], env: dict[str, str], cwd: str, log: str) -> None:
    """In the forked child: become what ``Popen(start_new_session=True)`` would have run."""
    os.setsid()  # its own process group, so a kill of the group takes only the server
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    time.tzset()
    sys.argv = ["sync_server", *argv]
    from sync_server import faults

    importlib.reload(faults)  # its switches are read from the environment at import
    from sync_server.__main__ import main

    try:
        main(argv)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()

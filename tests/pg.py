"""A throwaway PostgreSQL for the test run: Debian's initdb and pg_ctl, a temp dir, a loopback port.

``FIELDAPP_TEST_PG=1`` makes the tests start one cluster per session (as the ``postgres``
user when running as root: PostgreSQL refuses to run as root) and give every server a
fresh database, dropped after its test. ``FIELDAPP_TEST_PG=postgresql://…`` uses an existing
server instead; its user needs CREATEDB.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

USER = "fieldapp"

current: PgCluster | None = None  # the session's, set by tests/conftest.py


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("PostgreSQL is not installed: run `make test`, which installs it")
    return Path(initdb).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_ctl_stop(root: Path, mode: str) -> None:
    """Stop the cluster in ``root`` (``fast``: cleanly; ``immediate``: at once); one that is
    not running is left as it is."""
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*as_postgres, str(_bindir() / "pg_ctl"), "-D", str(root / "data"), "-m",
                    mode, "-w", "stop"], check=False, capture_output=True, cwd=root)


class PgCluster:
    """Databases on demand, each dropped by ``drop_all`` at the end of its test."""

    def __init__(self, admin_url: str, root: Path | None = None, keep: bool = False) -> None:
        self.admin_url = admin_url
        self.root = root  # set when this object started the cluster and must stop it
        self.keep = keep  # a kept cluster is stopped cleanly and its files left for next time
        self._names = (f"t_{os.getpid()}_{n}" for n in itertools.count(1))
        self.created: list[str] = []

    @classmethod
    def start(cls, keep: Path | None = None) -> PgCluster:
        """A new cluster in a temp dir, or with ``keep`` the one in that folder (made there
        the first time): a benchmark that runs for hours carries on after an interruption."""
        # Not under pytest's tmp dir: that is private to root, and the server runs as postgres.
        root = keep or Path(tempfile.mkdtemp(prefix="fieldapp-pg-"))
        root.mkdir(parents=True, exist_ok=True)
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if as_postgres:
            shutil.chown(root, "postgres")
        bindir, port = _bindir(), _free_port()

        def run(*args: str) -> None:
            subprocess.run([*as_postgres, *args], check=True, capture_output=True, cwd=root)

        data = root / "data"
        if keep is not None and (data / "postmaster.pid").exists():
            # Still running from an interrupted run: stopped, so it starts on a new port.
            _pg_ctl_stop(root, "fast")
        # A linguistic default collation, as production databases usually have ('a' < 'B'):
        # the server must not depend on it (its schema compares text bytewise, as SQLite).
        if not (data / "PG_VERSION").exists():
            run(str(bindir / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E",
                "UTF8", "--locale=C.UTF-8", "--locale-provider=icu", "--icu-locale=en-US")
        # Durability is not under test here: fsync off makes CREATE DATABASE and commits fast.
        options = (f"-p {port} -h 127.0.0.1 -k {root} -c fsync=off -c synchronous_commit=off"
                   " -c full_page_writes=off -c max_connections=200")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"),
            "-o", options, "-w", "-t", "60", "start")
        return cls(f"postgresql://{USER}@127.0.0.1:{port}/postgres", root, keep is not None)

    def create_database(self, name: str | None = None) -> str:
        """A new database, or with ``name`` that one, made if it is not there yet."""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            if name is None:
                name = next(self._names)
                conn.execute(f'CREATE DATABASE "{name}"')
                self.created.append(name)
            elif not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
        return self.admin_url.rsplit("/", 1)[0] + "/" + name

    def drop_all(self) -> None:
        if not self.created:
            return
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for name in self.created:
                # FORCE: a server killed by its test may leave a session behind for a moment.
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()

    def stop(self) -> None:
        self.drop_all()
        if self.root is None:
            return
        _pg_ctl_stop(self.root, "fast" if self.keep else "immediate")
        if self.keep:
            return
        for _ in range(50):  # the postmaster removes its files as it goes
            try:
                shutil.rmtree(self.root)
                return
            except OSError:
                time.sleep(0.1)

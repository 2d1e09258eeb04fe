"""Shared fixtures: a fresh replica, and a real sync server process on a free loopback port.

The server stores in SQLite in its data directory, or with ``FIELDAPP_TEST_PG`` set, in a
fresh PostgreSQL database per server (see tests/pg.py); ``ServerProcess.query`` reads
whichever it is.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import requests

from fieldapp.replica import Replica
from fieldapp.sync.client import SyncClient
from fieldapp.sync.provision import FIRST_SYNC_ENV
from sync_server.services import auth
from sync_server.services.records import insert_records, seed_forms
from sync_server.storage.db import DATABASE_URL_ENV, open_database
from tests import forked_server, pg
from tests.memory_keyring import vault  # noqa: F401  (a fixture for every test)
from tests.seed_template import SeedTemplate
from tests.world import PASSWORD, USERS, rows, seed_replica

TEST_PG = os.environ.get("FIELDAPP_TEST_PG", "")

# On several processes, a worker that dies (even after its last test) fails the run.
pytest_plugins = ["tests.worker_exit"]


@cache
def password_hash() -> str:
    """The test accounts' PASSWORD, hashed once per process (each argon2 hash takes 0.2 s;
    every login still verifies against it)."""
    return auth.hash_password(PASSWORD)


@pytest.fixture(scope="session", autouse=True)
def pg_cluster() -> Iterator[pg.PgCluster | None]:
    """With FIELDAPP_TEST_PG: a throwaway cluster (``1``) or an existing server (a URL)."""
    if not TEST_PG:
        yield None
        return
    pg.current = (pg.PgCluster(TEST_PG) if TEST_PG.startswith("postgres")
                  else pg.PgCluster.start())
    try:
        yield pg.current
    finally:
        pg.current.stop()
        pg.current = None


@pytest.fixture(scope="session", autouse=True)
def _world_template(pg_cluster: pg.PgCluster | None) -> Iterator[None]:
    yield  # set up after the cluster, so torn down before it stops
    WORLD.drop()


@pytest.fixture(autouse=True)
def _drop_test_databases(pg_cluster: pg.PgCluster | None) -> Iterator[None]:
    yield  # set up before, so torn down after, the servers of the test
    if pg_cluster:
        pg_cluster.drop_all()

ROOT = Path(__file__).resolve().parents[1]


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As root in a closed network: no sandbox, and none of Chromium's own background traffic.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (Playwright cannot download browsers here)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run `make test`, which installs it")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                     headless=True)
        yield browser
        browser.close()


@pytest.fixture
def fresh_replica(tmp_path: Path) -> Iterator[Replica]:
    replica = Replica.open(tmp_path / "client")
    seed_replica(replica)
    yield replica
    replica.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """``python -m sync_server`` as a child process that tests stop, kill and restart."""

    def __init__(self, data_dir: Path, token_ttl: float = 3600,
                 database_url: str | None = None, workers: int = 1) -> None:
        """``database_url`` shares another server's PostgreSQL; by default a fresh one when
        the tests run on PostgreSQL, else SQLite in ``data_dir``."""
        self.data_dir = data_dir
        self.workers = workers
        self.port = free_port()
        self.token_ttl = token_ttl
        self.database_url = database_url or (pg.current.create_database() if pg.current
                                             else None)
        self.proc: subprocess.Popen[bytes] | forked_server.Forked | None = None

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    scheme = "http"  # "https" once started with FIELDAPP_SSL_CERTFILE
    trust: bool | str = True  # the CA bundle the health check trusts over HTTPS

    def seed_world(self) -> None:
        """The test world (tests/world.py): users, forms and records, in a storage nothing
        has used yet copied from the process's seeded template."""
        WORLD.apply(self)

    def _seed_world(self) -> None:
        db = open_database(self.data_dir, self.database_url)
        try:
            with db.write() as conn:
                seed_forms(conn)
                for username, name, role, district in USERS:
                    auth.add_user(conn, username, name, role, PASSWORD, district, ["inspection"],
                                  password_hash=password_hash())
                for table, table_rows in rows().items():
                    insert_records(conn, table, table_rows)
        finally:
            db.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of the server's storage, whichever backend; SQLite-style SQL (``?``).
        A write is committed (a test ageing a token, say)."""
        if self.database_url:
            import psycopg
            from psycopg.rows import dict_row

            from sync_server.storage.postgres import translate

            with psycopg.connect(self.database_url, autocommit=True,
                                 row_factory=dict_row) as conn:
                return conn.execute(translate(sql), list(params)).fetchall()
        conn = sqlite3.connect(self.data_dir / "server.sqlite3")
        try:
            cur = conn.execute(sql, params)
            names = [d[0] for d in cur.description or ()]
            rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
            conn.commit()
            return rows
        finally:
            conn.close()

    @contextmanager
    def writer_blocked(self) -> Iterator[None]:
        """Hold the storage's write lock from outside, as a long write would."""
        if self.database_url:
            import psycopg

            from sync_server.storage.postgres import WRITE_LOCK

            with psycopg.connect(self.database_url) as conn:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
                yield
                conn.rollback()
            return
        conn = sqlite3.connect(self.data_dir / "server.sqlite3", isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield
            conn.execute("ROLLBACK")
        finally:
            conn.close()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row."""
        return next(iter(self.query(sql, params)[0].values()))

    def start(self, **env: str) -> ServerProcess:
        """Start the server; ``env`` adds variables such as FIELDAPP_FAULTS."""
        base = {k: v for k, v in os.environ.items() if k != DATABASE_URL_ENV}
        if self.database_url:
            base[DATABASE_URL_ENV] = self.database_url
        args = ["--data", str(self.data_dir), "--port", str(self.port),
                "--token-ttl", str(self.token_ttl), "--workers", str(self.workers)]
        environment = {**base, "PYTHONPATH": str(ROOT), **env}
        if forked_server.enabled(self.workers):
            self.proc = forked_server.start(args, environment, ROOT,
                                            self.data_dir / "server.log")
        else:
            with open(self.data_dir / "server.log", "ab") as log:
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", "sync_server", *args], cwd=ROOT, stdout=log,
                    stderr=subprocess.STDOUT, start_new_session=True, env=environment)
        self.scheme = "https" if "FIELDAPP_SSL_CERTFILE" in env else "http"
        # A wait for the health check, not a fixed time: generous, because on the shared
        # 2-core machine under load a two-worker server's imports alone took over 20 s.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if requests.get(self.url + "/api/v1/health", timeout=1, verify=self.trust).ok:
                    return self
            except requests.ConnectionError:
                # Not listening yet: a refused connect costs about a millisecond, so poll
                # often (the start takes ~1.5 s; a 0.1 s step wasted 0.05 s of each).
                time.sleep(0.02)
        self.kill()  # not left running (and holding its port) after the test that gave up
        raise RuntimeError((self.data_dir / "server.log").read_text())

    def kill(self) -> None:
        """SIGKILL the server and its worker processes at once (its own process group): the
        crash of the machine. A killed master alone would leave its workers on the port."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def discard(self) -> None:
        """The test is over and its server is thrown away: killed, not stopped. A graceful
        stop waits out uvicorn's ticks (0.17 s, a few hundred times a run); the tests that
        stop a server check what a stop does."""
        self.kill()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:  # a client still holding a connection open
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.proc = None


WORLD = SeedTemplate("world", ServerProcess._seed_world)


def synced_tablet(server: ServerProcess, path: Path,
                  username: str = "tech01") -> tuple[Replica, SyncClient]:
    """A tablet replica at ``path``, logged in to ``server`` and synced once."""
    replica = Replica.open(path)
    client = SyncClient(replica, server.url)
    client.login(username, PASSWORD)
    client.sync()
    return replica, client


@pytest.fixture(params=["snapshot", "pages"])
def first_sync(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test runs twice: its empty tablets provisioned from the server's snapshot, and
    page by page through the merge (the same correctness either way)."""
    monkeypatch.setenv(FIRST_SYNC_ENV, request.param)
    return str(request.param)


@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """The test world on a started server; ``@pytest.mark.server_env(NAME="value")`` starts
    it with those variables (instead of a start, stop and start again)."""
    data = tmp_path / "server"
    data.mkdir()
    proc = ServerProcess(data)
    proc.seed_world()
    marker = request.node.get_closest_marker("server_env")
    proc.start(**(marker.kwargs if marker else {}))
    yield proc
    proc.discard()

"""Shared fixtures: a fresh replica, and a real sync server process on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from fieldapp.replica import Replica
from sync_server import auth
from sync_server.db import Database
from sync_server.seed import insert_records, seed_forms
from tests.world import PASSWORD, USERS, rows, seed_replica

ROOT = Path(__file__).resolve().parents[1]


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

    def __init__(self, data_dir: Path, token_ttl: float = 3600) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.token_ttl = token_ttl
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def seed_world(self) -> None:
        db = Database(self.data_dir / "server.sqlite3")
        with db.write() as conn:
            seed_forms(conn)
            for username, name, role, district in USERS:
                auth.add_user(conn, username, name, role, PASSWORD, district, ["inspection"])
            for table, table_rows in rows().items():
                insert_records(conn, table, table_rows)

    def start(self, **env: str) -> ServerProcess:
        """Start the server; ``env`` adds variables such as FIELDAPP_FAULTS."""
        with open(self.data_dir / "server.log", "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "sync_server", "--data", str(self.data_dir),
                 "--port", str(self.port), "--token-ttl", str(self.token_ttl)],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONPATH": str(ROOT), **env})
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/api/v1/health", timeout=1).ok:
                    return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError((self.data_dir / "server.log").read_text())

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    data = tmp_path / "server"
    data.mkdir()
    proc = ServerProcess(data)
    proc.seed_world()
    proc.start()
    yield proc
    proc.stop()

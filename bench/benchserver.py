"""Start the real sync server as a separate process for a benchmark (as in production: the
benchmark's own client work does not share the server's GIL)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def start_server(data_dir: Path, database_url: str | None = None,
                 workers: int = 1) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if database_url:
        env["FIELDAPP_DATABASE_URL"] = database_url
    proc = subprocess.Popen([sys.executable, "-m", "sync_server", "--data", str(data_dir),
                             "--port", str(port), "--workers", str(workers)], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            requests.get(url + "/api/v1/health", timeout=1)
            return proc, url
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start")


@contextmanager
def storage(data_dir: Path, pg: bool, keep: Path | None = None) -> Iterator[str | None]:
    """The database URL to benchmark on: a throwaway PostgreSQL cluster (Debian's
    postgresql, as the tests use) when ``pg``, else None for SQLite in ``data_dir``. With
    ``keep``, the cluster in that folder and its database named for ``data_dir``, both kept
    for a run that carries on where an interrupted one stopped."""
    if not pg:
        yield None
        return
    sys.path.insert(0, str(ROOT))
    from tests.pg import PgCluster

    cluster = PgCluster.start(keep)
    try:
        yield cluster.create_database(data_dir.name if keep else None)
    finally:
        cluster.stop()


def describe(database_url: str | None, workers: int) -> str:
    backend = "PostgreSQL" if database_url else "SQLite"
    return f"{backend}, {workers} server process{'es' if workers > 1 else ''}"

"""The real FastAPI app served by uvicorn on a thread, on a free loopback port, for UI tests
that sync against it."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from fieldapp.local_time import LOCAL_ZONE
from fieldapp.ui.demo_seed import demo_rows
from tests.ui.ui_helpers import free_port


def demo_app(data_dir: Path, password: str) -> FastAPI:
    """A server with tech01 (秦淮区), an admin, the forms and tech01's demo route of today."""
    from sync_server.app import create_app
    from sync_server.config import Settings
    from sync_server.services import auth
    from sync_server.services.records import insert_records, seed_forms

    app = create_app(Settings(data_dir=data_dir))
    rows, _ = demo_rows(dt.datetime.now(LOCAL_ZONE).date())
    with app.state.server.db.write() as conn:
        auth.add_user(conn, "tech01", "王建国", "technician", password, "秦淮区")
        auth.add_user(conn, "admin", "管理员", "admin", password)
        seed_forms(conn)
        for table in ("customers", "meters", "readings", "contracts", "payments", "jobs"):
            insert_records(conn, table, [row for t, row in rows if t == table])
    return app


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """The app's URL while it runs; held waits are answered before it stops."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        app.state.server.wake.release_all_from_thread()
        server.should_exit = True
        thread.join(timeout=10)

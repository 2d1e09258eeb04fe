"""The sync client reaches the replica only through its ``db`` runner: on the tablet that is
the app's one database worker, so the sync thread itself never runs a statement."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from PIL import Image

from fieldapp.replica import Replica
from fieldapp.sync.client import SyncClient
from tests.conftest import ServerProcess
from tests.world import PASSWORD


def test_login_and_a_full_sync_run_every_statement_on_the_runner(
        tmp_path: Path, server: ServerProcess) -> None:
    replica = Replica.open(tmp_path / "tablet")
    worker = ThreadPoolExecutor(1, "db-worker")
    steps: list[str] = []

    def on_worker(step: Callable[[], Any]) -> Any:
        steps.append(getattr(step, "__name__", repr(step)))
        return worker.submit(step).result()

    statements: list[str] = []
    replica.db.conn.set_trace_callback(
        lambda _sql: statements.append(threading.current_thread().name))
    try:
        client = SyncClient(replica, server.url, db=on_worker)
        client.login("tech01", PASSWORD)
        client.sync()  # provisioning pull
        photo = tmp_path / "meter.png"
        Image.new("RGB", (640, 480), (10, 90, 30)).save(photo)
        worker.submit(replica.evidence.add_photo, "job-1", photo).result()
        worker.submit(replica.jobs.transition, "job-1", "accepted").result()
        report = client.sync()  # upload, push and pull
    finally:
        replica.db.conn.set_trace_callback(None)
        worker.shutdown()
    assert report.uploaded_files == 1 and sum(report.pushed.values()) >= 2
    assert statements and {name.split("_")[0] for name in statements} == {"db-worker"}
    assert len(steps) > 10  # every step went through the runner, not one big call
    check = Replica.open(tmp_path / "tablet")
    try:
        assert check.jobs.get("job-1")["status"] == "accepted"
        assert check.outbox.counts()["pending"] == 0
        assert check.session is not None and check.session.username == "tech01"
    finally:
        check.close()
        replica.close()

"""Tablet and server make the same report from the same synced data: same hash, same bytes."""

from __future__ import annotations

from pathlib import Path

from fieldapp.replica import Replica
from fieldapp.reports import inspection_pdf
from fieldapp.reports.report_data import blob_reader, from_replica, load
from fieldapp.sync.client import SyncClient
from tests.conftest import ServerProcess
from tests.reports.reportkit import rich_inspection
from tests.world import PASSWORD


def test_server_copy_matches_the_tablet(server: ServerProcess, tmp_path: Path) -> None:
    replica = Replica.open(tmp_path / "tablet")
    try:
        client = SyncClient(replica, server.url)
        client.login("tech01", PASSWORD, device_name="pad-3")
        client.sync()
        sub_id = rich_inspection(replica, "job-1", tmp_path)
        tablet = from_replica(replica, sub_id)
        client.sync()
        assert replica.outbox.counts()["pending"] == 0

        def display_name(username: str) -> str | None:
            rows = server.query("SELECT display_name FROM users WHERE username = ?", [username])
            return rows[0]["display_name"] if rows else None

        # server.query reads whichever backend the server stores in (SQLite or PostgreSQL).
        on_server = load(server.query, blob_reader(server.data_dir / "attachments"), sub_id,
                         display_name=display_name)
        assert on_server.inspector_name == "王建国"
        assert all(p.data for p in on_server.photos) and on_server.signature.png
        assert on_server.content_hash == tablet.content_hash
        assert inspection_pdf.render(on_server) == inspection_pdf.render(tablet)
    finally:
        replica.close()

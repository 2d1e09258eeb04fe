"""The snapshot's JSON (sync_server/sync/snapshot.py) writes a record's values as the pull's
models write them: a tablet provisioned from it stores what the pages would have brought."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

from fieldapp.wire import PullResponse, RecordChange, SnapshotResponse
from sync_server.sync import snapshot

# What PostgreSQL or a driver may hand back besides text and numbers.
ODD = {"a_date": date(2026, 11, 24), "a_time": datetime(2026, 11, 24, 8, 30, tzinfo=UTC),
       "a_decimal": Decimal("12.50"), "nan": float("nan"), "inf": float("inf"),
       "rounding": 0.1 + 0.2, "text": "燃气表\u2028漏气\"\\"}


def test_odd_values_are_written_as_the_pull_writes_them():
    pulled = PullResponse(changes=[RecordChange(table="customers", record_id="c-1", version=3,
                                                row=ODD)],
                          cursor=3, more=False, server_hlc="1:0:s").model_dump_json()
    row = json.loads(pulled)["changes"][0]["row"]
    sent = json.loads(snapshot.body({"customers": [list(ODD.values())]}, 3, "1:0:s", None))
    [table] = sent["tables"]
    assert dict(zip(ODD, table["rows"][0], strict=True)) == row
    assert row["nan"] is None and row["a_time"] == "2026-11-24T08:30:00Z"


def test_the_body_is_a_snapshot_the_tablet_reads():
    rows = [["c-1", *(["x"] * (len(snapshot.columns("customers")) - 3)), 7, "1:0:d"]]
    snap = SnapshotResponse.model_validate_json(
        snapshot.body({"customers": rows}, 7, "1:0:s", "f00d"))
    assert (snap.format, snap.cursor, snap.epoch) == (snapshot.SNAPSHOT_FORMAT, 7, "f00d")
    assert snap.tables[0].columns == snapshot.columns("customers")
    assert snap.tables[0].rows == rows

"""A pull page is encoded without a model per record (``pull.body``): the bytes must be the
ones the wire's ``PullResponse`` model writes, for every kind of value a row can hold."""

from __future__ import annotations

import datetime
import decimal
import math

from fieldapp.wire import PullResponse, RecordChange
from sync_server.sync.pull import body


def _changes() -> list[dict]:
    row = {"customer_id": "c-1", "text": "入户记录 \"引号\" \\ 换行\n", "reading": 12.5,
           "whole": 3.0, "count": 7, "missing": None, "nan": math.nan, "inf": math.inf,
           "due": datetime.date(2026, 12, 7), "amount": decimal.Decimal("123.40"),
           "big": 2**62}
    return [{"table": "readings", "record_id": "r-1", "version": 41, "row": row},
            {"table": "jobs", "record_id": "j-9", "version": 42, "row": None}]


def test_the_page_is_byte_for_byte_what_the_model_writes() -> None:
    changes = _changes()
    model = PullResponse(changes=[RecordChange(**c) for c in changes], cursor=42, more=True,
                         server_hlc="000001765000000000:00000:server", epoch="e-1")
    assert body(changes, 42, True, model.server_hlc, "e-1") == model.model_dump_json().encode()


def test_the_page_reads_back_as_the_wire_model() -> None:
    back = PullResponse.model_validate_json(body(_changes(), 42, False, "h", None))
    assert back.cursor == 42 and back.more is False and back.epoch is None
    first, gone = back.changes
    assert first.row is not None and first.row["text"] == "入户记录 \"引号\" \\ 换行\n"
    assert first.row["nan"] is None and first.row["inf"] is None  # as the model writes them
    assert first.row["due"] == "2026-12-07" and first.row["amount"] == "123.40"
    assert gone.row is None and gone.version == 42

"""A meter's reading history from the billing system, keyed on the meter's barcode and the
reading's time: the same file twice changes nothing, a corrected value updates its reading.

A meter's index only goes up, so a reading lower than the one before it (in the file or
already stored), or higher than a stored one after it, is refused by row: a replaced meter
has a new barcode and its own history. The newest reading becomes the meter's last reading,
which the tablet shows and checks the next reading against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from fieldapp.local_time import moment as stored_moment
from fieldapp.local_time import now_iso
from sync_server.services.imports import keyed, values
from sync_server.services.imports.keyed import Tally
from sync_server.services.imports.mapping import Field
from sync_server.services.imports.rows import Checked, rows
from sync_server.services.imports.table_file import Table
from sync_server.services.records import insert_records
from sync_server.storage.db import Connection

FIELDS: dict[str, Field] = {
    "meter_barcode": Field("表条码", ("表条码", "条码", "表号", "燃气表条码", "barcode"),
                           required=True),
    "read_at": Field("抄表时间", ("抄表时间", "抄表日期", "读表时间", "抄见日期", "read_at"),
                     required=True),
    "value": Field("读数", ("读数", "本期读数", "本次读数", "表读数", "止码", "本期止码", "value"),
                   required=True),
    "source": Field("抄表方式", ("抄表方式", "读数来源", "来源", "source")),
    "account_no": Field("户号", ("户号", "用户编号", "用户号", "客户编号", "account_no")),
}
SOURCES = {"人工": "billing", "人工抄表": "billing", "抄表员": "billing",
           "远传": "remote", "物联网": "remote", "估抄": "estimate", "估算": "estimate",
           "自报": "customer", "客户自报": "customer"}
CHUNK = 500  # meters whose stored readings are read in one query


@dataclass
class ReadingPlan(Checked):
    readings: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def summary(self) -> str:
        return f"{len(self.readings)} 条读数，{len({k[0] for k in self.readings})} 块表"


@dataclass
class _Entry:
    at: str
    value: Decimal
    row: int | None  # the file's row, None when stored


def check(conn: Connection, table: Table, mapping: dict[str, str]) -> ReadingPlan:
    plan = ReadingPlan(rows=len(table.rows))
    meters = {r["barcode"]: r for r in conn.execute(
        "SELECT m.id, m.barcode, m.customer_id, c.account_no FROM meters m"
        " JOIN customers c ON c.id = m.customer_id WHERE m.barcode IS NOT NULL")}
    now = datetime.fromisoformat(now_iso())
    found: list[tuple[Any, dict[str, Any]]] = []  # (row, reading) of rows good on their own
    first_row: dict[tuple[str, str], int] = {}
    for row in rows(table, mapping, FIELDS):
        value, bad = row.value, row.bad
        barcode = value("meter_barcode")
        meter = meters.get(barcode)
        if not barcode:
            bad("meter_barcode", "缺少表条码")
        elif meter is None:
            bad("meter_barcode", f"表条码 {barcode} 不存在：请先导入客户和表具")
        elif value("account_no") and value("account_no") != meter["account_no"]:
            bad("account_no", f"表 {barcode} 属于户号 {meter['account_no']}，"
                              f"不是 {value('account_no')}")
        at = keyed.past_moment(row, "read_at", now)
        index = values.reading(value("value"))
        if index is None:
            bad("value", f"读数「{value('value')}」应是不小于 0 的数，最多三位小数")
        source = value("source")
        if source and source not in SOURCES:
            bad("source", f"抄表方式「{source}」不认识（{'、'.join(SOURCES)}）")
        earlier = first_row.get((barcode, at or ""))
        if earlier is not None:
            bad("read_at", f"表 {barcode} 在 {value('read_at')} 的读数与第 {earlier} 行重复")
        if row.problems or meter is None or at is None or index is None:
            plan.passed(row)
            continue
        first_row[(barcode, at)] = row.number
        found.append((row, {"row": row.number, "meter_id": meter["id"],
                            "customer_id": meter["customer_id"],
                            "read_at": at, "value": float(index), "index": index,
                            "source": SOURCES.get(source, "billing"), "barcode": barcode}))
    _check_order(conn, found)
    for row, reading in found:
        if plan.passed(row):
            plan.readings[(reading.pop("barcode"), reading["read_at"])] = {
                k: v for k, v in reading.items() if k != "row"}
    plan.problems.sort(key=lambda p: p.row)  # the order checks come last; show by row
    return plan


def _check_order(conn: Connection, found: list[tuple[Any, dict[str, Any]]]) -> None:
    """Each meter's readings by time, the file's with the stored ones around them: a file
    row lower than the reading before it, or higher than a stored one after it, is bad. One
    block of meters at a time, and of their history only the readings next to the file's
    (see ``_near``), so the thirteenth month's file reads two months, not twelve."""
    rows_by_number = {row.number: row for row, _ in found}
    file_by_meter: dict[str, list[dict[str, Any]]] = {}
    for _, reading in found:
        file_by_meter.setdefault(reading["meter_id"], []).append(reading)
    meter_ids = sorted(file_by_meter)
    for start in range(0, len(meter_ids), CHUNK):
        chunk = meter_ids[start:start + CHUNK]
        moments = [r["read_at"] for m in chunk for r in file_by_meter[m]]
        by_meter: dict[str, dict[str, _Entry]] = {}
        for r in _near(conn, chunk, moments):
            if r["read_at"] and r["value"] is not None:
                at = stored_moment(r["read_at"]).isoformat(timespec="seconds")
                by_meter.setdefault(r["meter_id"], {})[at] = _Entry(
                    at, Decimal(str(r["value"])), None)
        for meter_id in chunk:  # the file's value replaces a stored one at the same time
            entries = by_meter.setdefault(meter_id, {})
            for reading in file_by_meter[meter_id]:
                entries[reading["read_at"]] = _Entry(reading["read_at"], reading["index"],
                                                     reading["row"])
        for entries in by_meter.values():
            _judge(sorted(entries.values(), key=lambda e: stored_moment(e.at)),
                   rows_by_number)


def _window(moments: list[str]) -> tuple[str, str]:
    """Days, as text that stored times compare against, that hold every stored reading
    at or between ``moments``. Stored times are ISO 8601 but not all in one offset (a
    tablet's, the import's, UTC), and an offset moves a time's written day by one at most:
    from the day before the first to two days after the last (the end is exclusive)."""
    days = [date.fromisoformat(m[:10]) for m in moments]
    return _day(min(days), -1), _day(max(days), 2)


def _near(conn: Connection, meter_ids: list[str], moments: list[str]) -> list[Any]:
    """The stored readings of ``meter_ids`` that can be next to one at ``moments``: those
    inside their window (``_window``), and each meter's last before it and first after it.

    Text order is time order but for the offsets: the latest reading before the window,
    by time, is written at most two days before the latest as text (one day each for its
    own offset and the other's). So each meter's latest and earliest as text outside the
    window are found first (one index seek each), then one read from two days before the
    earliest of those latest to three days after the latest of the earliest: in a monthly
    import, last month's readings and this month's, never the whole history."""
    low, high = _window(moments)
    marks = ", ".join("?" * len(meter_ids))
    outside = conn.execute(
        "SELECT (SELECT max(r.read_at) FROM readings r"
        "        WHERE r.meter_id = m.id AND r.read_at < ?),"
        " (SELECT min(r.read_at) FROM readings r WHERE r.meter_id = m.id AND r.read_at >= ?)"
        f" FROM meters m WHERE m.id IN ({marks})",  # noqa: S608
        [low, high, *meter_ids]).fetchall()
    before = [_day(r[0], -2) for r in outside if r[0]]
    after = [_day(r[1], 3) for r in outside if r[1]]
    return conn.execute(
        "SELECT meter_id, read_at, value FROM readings"
        f" WHERE meter_id IN ({marks}) AND read_at >= ? AND read_at < ?",  # noqa: S608
        [*meter_ids, min([*before, low]), max([*after, high])]).fetchall()


def _day(when: date | str, days: int) -> str:
    """``days`` after the day ``when`` is written on, as text; a stored text that is not a
    time widens the read to everything (its judge then says what is wrong with it)."""
    try:
        start = when if isinstance(when, date) else date.fromisoformat(when[:10])
    except ValueError:
        return "" if days < 0 else "\uffff"
    return (start + timedelta(days=days)).isoformat()


def _judge(ordered: list[_Entry], rows_by_number: dict[int, Any]) -> None:
    for i, entry in enumerate(ordered):
        if entry.row is None:
            continue
        row = rows_by_number[entry.row]
        before = ordered[i - 1] if i else None
        after = ordered[i + 1] if i + 1 < len(ordered) else None
        if before is not None and before.value > entry.value:
            row.bad("value", f"读数 {_num(entry.value)} 小于前一次{_said(before)}的"
                             f" {_num(before.value)}")
        elif after is not None and after.row is None and after.value < entry.value:
            row.bad("value", f"读数 {_num(entry.value)} 大于之后{_said(after)}的"
                             f" {_num(after.value)}")


def _num(value: Decimal) -> str:
    return f"{value.normalize():f}"  # 120.0 as 120, 100.50 as 100.5


def _said(entry: _Entry) -> str:
    when = stored_moment(entry.at).strftime("%Y-%m-%d %H:%M")
    return f"（第 {entry.row} 行，{when}）" if entry.row else f"（已有，{when}）"


def apply(conn: Connection, plan: ReadingPlan, *, by_user: str) -> str:
    by_meter: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
    for r in plan.readings.values():
        by_meter.setdefault(r["meter_id"], {})[(r["meter_id"], r["read_at"])] = {
            k: v for k, v in r.items() if k != "index"}
    meter_ids = sorted(by_meter)
    tally = Tally()
    for start in range(0, len(meter_ids), CHUNK):
        chunk = meter_ids[start:start + CHUNK]
        part = {k: v for m in chunk for k, v in by_meter[m].items()}
        # A stored reading at one of the file's times is inside their window: the rest
        # of the history is neither read nor touched.
        low, high = _window([at for _, at in part])
        done, _ = keyed.write(conn, "readings", part, _key, by_user=by_user,
                              where=f"meter_id IN ({', '.join('?' * len(chunk))})"
                                    " AND read_at >= ? AND read_at < ?",
                              params=[*chunk, low, high])
        tally += done
        _latest(conn, chunk, [r for m in chunk for r in by_meter[m].values()], by_user)
    return tally.said("读数")


def _key(r: dict[str, Any]) -> tuple[str, str | None]:
    """A stored reading's natural key: its meter and its time as the import writes it."""
    at = stored_moment(r["read_at"]).isoformat(timespec="seconds") if r["read_at"] else None
    return r["meter_id"], at


def _latest(conn: Connection, meter_ids: list[str], readings: list[dict[str, Any]],
            by_user: str) -> None:
    """Each meter's newest reading as its last reading, when the file's is newer."""
    newest: dict[str, dict[str, Any]] = {}
    for reading in readings:
        best = newest.get(reading["meter_id"])
        if best is None or stored_moment(reading["read_at"]) > stored_moment(best["read_at"]):
            newest[reading["meter_id"]] = reading
    changed = []
    for meter in keyed.stored_rows(conn, "meters",
                                   f"id IN ({', '.join('?' * len(meter_ids))})", meter_ids):
        reading = newest[meter["id"]]
        if meter["last_read_at"] and stored_moment(meter["last_read_at"]) >= \
                stored_moment(reading["read_at"]):
            continue
        changed.append({**meter, "last_reading": reading["value"],
                        "last_read_at": reading["read_at"]})
    insert_records(conn, "meters", changed, by_user)

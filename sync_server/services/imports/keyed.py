"""Writing imported records keyed on the billing system's natural key (an account number, a
meter's barcode, a contract's number, a meter and a reading's time): a record already stored
under the key keeps its id and whatever the file does not carry, only what differs is written,
and each write goes through the change log, so tablets receive what enters their scope."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fieldapp.ids import new_id
from fieldapp.records import TABLES
from sync_server.services.imports import progress, values
from sync_server.services.imports.rows import Row
from sync_server.services.records import insert_records
from sync_server.storage.db import Connection

WRITE_CHUNK = 1000  # records between two progress reports
TABLE_ZH = {"customers": "客户", "meters": "表具", "contracts": "合同", "readings": "读数",
            "bills": "账单", "payments": "缴费"}


@dataclass
class Tally:
    added: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: Tally) -> Tally:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self

    def said(self, what: str) -> str:
        return f"{what}：新增 {self.added}，更新 {self.updated}，未变 {self.unchanged}"


def write(conn: Connection, table: str, planned: dict[Any, dict[str, Any]],
          key: Callable[[dict[str, Any]], Hashable], *, by_user: str,
          where: str = "", params: list[Any] | None = None) -> tuple[Tally, dict[Any, str]]:
    """Write ``planned`` (natural key → fields) into ``table``, matching stored records by
    ``key(row)`` among those ``where`` selects; returns the tally and each key's record id."""
    tally = Tally()
    stored = {key(r): r for r in stored_rows(conn, table, where, params)}
    ids: dict[Any, str] = {}
    changed = []
    for natural, fields in planned.items():
        record, kind = merged(table, stored.get(natural), fields)
        ids[natural] = record["id"]
        if kind:
            changed.append(record)
        tally.added += kind == "added"
        tally.updated += kind == "updated"
        tally.unchanged += not kind
    phase = f"写入{TABLE_ZH.get(table, table)}"
    for start in range(0, len(changed), WRITE_CHUNK):
        progress.report(phase, start, len(changed))
        insert_records(conn, table, changed[start:start + WRITE_CHUNK], by_user)
    progress.report(phase, len(changed), len(changed))
    return tally, ids


def merged(table: str, stored: dict[str, Any] | None,
           imported: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The record to keep (what the file does not carry stays as stored: a meter's last
    reading, a customer's position) and whether it is "added", "updated" or unchanged ("")."""
    columns = TABLES[table].columns
    record = {**dict.fromkeys(columns), **(stored or {}), **imported}
    record["id"] = stored["id"] if stored else new_id()
    if stored is None:
        return record, "added"
    return record, "" if all(stored.get(c) == record.get(c) for c in columns) else "updated"


def stored_rows(conn: Connection, table: str, where: str = "",
                params: list[Any] | None = None) -> list[dict[str, Any]]:
    names = ["id", *TABLES[table].columns]
    sql = f'SELECT {", ".join(names)} FROM "{table}"' + (  # noqa: S608
        f" WHERE {where}" if where else "")
    # Zipped with the names once: dict(row) would look each name up in every row.
    return [dict(zip(names, r, strict=True)) for r in conn.execute(sql, params or [])]


def by_account(conn: Connection) -> dict[str, str]:
    """Customer id by account number: how every history file names its customer."""
    return {r[0]: r[1] for r in conn.execute("SELECT account_no, id FROM customers")}


def customer_of(row: Row, accounts: dict[str, str]) -> str | None:
    """The id of the customer a history row names by account number, or the row is bad."""
    account = row.value("account_no")
    if not account:
        row.bad("account_no", "缺少户号")
        return None
    customer_id = accounts.get(account)
    if customer_id is None:
        row.bad("account_no", f"户号 {account} 不存在：请先导入客户")
    return customer_id


def past_moment(row: Row, name: str, now: datetime) -> str | None:
    """A row's moment (a reading's, a payment's) as stored, or the row is bad: unreadable,
    or later than now."""
    text = row.value(name)
    at = values.moment(text)
    zh = row.field_zh(name)
    if at is None:
        row.bad(name, f"{zh}「{text}」无法识别（{values.MOMENT_EXAMPLE}）")
    elif datetime.fromisoformat(at) > now:
        row.bad(name, f"{zh} {text} 在现在之后")
        return None
    return at

"""Customers and their meters from the utility's billing system, checked row by row, then
written through the change log (so tablets receive what enters their scope).

Keyed on the natural keys: a customer by its account number, a meter by its barcode. The
same file imported twice changes nothing; a changed row updates its record; a customer
with two meters is two rows with the same account number. ``check`` writes nothing and
names every bad row by its number and column; ``apply`` writes the good rows, or none when
the operator asked for all or nothing and any row is bad.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from fieldapp.ids import new_id
from fieldapp.records import TABLES
from sync_server.services.imports.mapping import CUSTOMER_FIELDS
from sync_server.services.imports.table_file import Table
from sync_server.services.installation import published_districts
from sync_server.services.records import insert_records
from sync_server.storage.db import Connection

CUSTOMER_COLUMNS = ("account_no", "name", "phone", "address", "district", "household_size",
                    "tags", "kind")
METER_COLUMNS = ("meter_barcode", "meter_serial", "meter_model", "meter_installed_on")
KINDS = {"居民": "residential", "民用": "residential", "residential": "residential",
         "非居民": "commercial", "商业": "commercial", "工商业": "commercial",
         "commercial": "commercial", "工业": "industrial", "industrial": "industrial"}
_TAG_SPLIT = re.compile(r"[，,;；、|\s]+")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Problem:
    row: int
    column: str  # the file's header, or the field's Chinese name when it has no column
    message: str

    def __str__(self) -> str:
        return f"第 {self.row} 行「{self.column}」：{self.message}"


@dataclass
class Plan:
    """What a file would do: the good rows' records, and every bad row's problems."""

    customers: dict[str, dict[str, Any]] = field(default_factory=dict)  # by account number
    meters: dict[str, dict[str, Any]] = field(default_factory=dict)  # by barcode
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0
    bad_rows: set[int] = field(default_factory=set)


@dataclass
class Outcome:
    customers_added: int = 0
    customers_updated: int = 0
    meters_added: int = 0
    meters_updated: int = 0
    unchanged: int = 0
    written: bool = False


def check(conn: Connection, table: Table, mapping: dict[str, str]) -> Plan:
    """Read and check every row; nothing is written."""
    plan = Plan(rows=len(table.rows))
    column = {name: table.headers.index(header) for name, header in mapping.items()}
    districts = set(published_districts(conn))
    meter_owner = {r[0]: r[1] for r in conn.execute(
        "SELECT m.barcode, c.account_no FROM meters m JOIN customers c ON c.id = m.customer_id"
        " WHERE m.barcode IS NOT NULL")}
    barcode_row: dict[str, int] = {}
    for number, cells in table.rows:
        found: list[Problem] = []

        def value(name: str, cells: list[str] = cells) -> str:
            return cells[column[name]].strip() if name in column else ""

        def bad(name: str, message: str, number: int = number,
                found: list[Problem] = found) -> None:
            found.append(Problem(number, mapping.get(name, CUSTOMER_FIELDS[name].zh), message))

        customer = _customer(value, bad, districts)
        meter = _meter(value, bad) if value("meter_barcode") else None
        account = customer.get("account_no") or ""
        if meter is not None:
            barcode = meter["barcode"]
            if barcode in barcode_row:
                bad("meter_barcode", f"表条码 {barcode} 与第 {barcode_row[barcode]} 行重复")
            elif meter_owner.get(barcode, account) != account:
                bad("meter_barcode", f"表条码 {barcode} 已属于户号 {meter_owner[barcode]}")
        earlier = plan.customers.get(account)
        if earlier is not None and not found:
            for name in CUSTOMER_COLUMNS:
                if customer[name] != earlier[name]:
                    bad(name, f"同一户号 {account} 的行{CUSTOMER_FIELDS[name].zh}不一致"
                        f"（前面是「{earlier[name] or '空'}」）")
        if found:
            plan.problems += found
            plan.bad_rows.add(number)
            continue
        plan.customers.setdefault(account, customer)
        if meter is not None:
            barcode_row[meter["barcode"]] = number
            plan.meters[meter["barcode"]] = {**meter, "account_no": account}
    return plan


def _customer(value: Callable[[str], str], bad: Callable[[str, str], None],
              districts: set[str]) -> dict[str, Any]:
    row: dict[str, Any] = {name: value(name) or None for name in CUSTOMER_COLUMNS}
    for name in ("account_no", "name", "address", "district"):
        if not row[name]:
            bad(name, f"缺少{CUSTOMER_FIELDS[name].zh}")
    if row["account_no"] and not re.fullmatch(r"[0-9A-Za-z-]{1,32}", row["account_no"]):
        bad("account_no", f"户号「{row['account_no']}」只能是字母、数字和 -，最多 32 位")
    if row["district"] and districts and row["district"] not in districts:
        bad("district", f"未知区域「{row['district']}」（已设：{'、'.join(sorted(districts))}）")
    if row["phone"]:
        row["phone"] = re.sub(r"[\s\-()（）]", "", row["phone"])
        if not re.fullmatch(r"\+?[0-9]{5,20}", row["phone"]):
            bad("phone", f"电话「{value('phone')}」不是电话号码")
    if row["household_size"] is not None:
        try:
            size = int(row["household_size"])
            if not 1 <= size <= 50:
                raise ValueError
            row["household_size"] = size
        except ValueError:
            bad("household_size", f"人口「{row['household_size']}」应是 1 到 50 的整数")
    tags = [t for t in _TAG_SPLIT.split(row["tags"] or "") if t]
    row["tags"] = json.dumps(tags, ensure_ascii=False)
    if row["kind"] is None:
        row["kind"] = "residential"
    elif row["kind"] in KINDS:
        row["kind"] = KINDS[row["kind"]]
    else:
        bad("kind", f"用户类型「{row['kind']}」不认识（居民、商业、工业）")
    return row


def _meter(value: Callable[[str], str], bad: Callable[[str, str], None]) -> dict[str, Any]:
    barcode = value("meter_barcode")
    if not re.fullmatch(r"[0-9A-Za-z-]{4,40}", barcode):
        bad("meter_barcode", f"表条码「{barcode}」只能是字母、数字和 -，4 到 40 位")
    installed = value("meter_installed_on")
    day = _date(installed) if installed else None
    if installed and day is None:
        bad("meter_installed_on", f"日期「{installed}」无法识别（请写成 2024-03-15）")
    elif day is not None and day > date.today():
        bad("meter_installed_on", f"安装日期 {day} 在今天之后")
    return {"barcode": barcode, "serial": value("meter_serial") or None,
            "model": value("meter_model") or None,
            "installed_on": day.isoformat() if day else None}


def _date(text: str) -> date | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text.split(" ")[0], fmt).date()
        except ValueError:
            continue
    return None


def apply(conn: Connection, plan: Plan, *, by_user: str,
          progress: Progress | None = None) -> Outcome:
    """Write the plan's good rows in the caller's transaction (only what differs from what
    is stored), each through the change log."""
    outcome = Outcome(written=True)
    say = progress or (lambda done, total: None)
    spec_c, spec_m = TABLES["customers"].columns, TABLES["meters"].columns
    current = {r["account_no"]: dict(r) for r in _rows(conn, "customers")}
    meters = {r["barcode"]: dict(r) for r in _rows(conn, "meters") if r["barcode"]}
    total, done = len(plan.customers) + len(plan.meters), 0
    ids: dict[str, str] = {}
    changed: list[dict[str, Any]] = []
    for account, row in plan.customers.items():
        stored = current.get(account)
        record = {**{c: None for c in spec_c}, **(stored or {}), **row}
        record["id"] = stored["id"] if stored else new_id()
        ids[account] = record["id"]
        if stored and all(stored.get(c) == record.get(c) for c in spec_c):
            outcome.unchanged += 1
        else:
            changed.append(record)
            outcome.customers_added += stored is None
            outcome.customers_updated += stored is not None
    insert_records(conn, "customers", changed, by_user)
    done += len(plan.customers)
    say(done, total)
    changed = []
    for barcode, meter in plan.meters.items():
        stored = meters.get(barcode)
        record = {**{c: None for c in spec_m}, **(stored or {}),
                  **{k: v for k, v in meter.items() if k != "account_no"},
                  "customer_id": ids[meter["account_no"]]}
        record["id"] = stored["id"] if stored else new_id()
        if stored and all(stored.get(c) == record.get(c) for c in spec_m):
            outcome.unchanged += 1
        else:
            changed.append(record)
            outcome.meters_added += stored is None
            outcome.meters_updated += stored is not None
    insert_records(conn, "meters", changed, by_user)
    say(total, total)
    return outcome


def _rows(conn: Connection, table: str) -> list[Any]:
    cols = ", ".join(["id", *TABLES[table].columns])
    return list(conn.execute(f'SELECT {cols} FROM "{table}"'))  # noqa: S608 (our own names)

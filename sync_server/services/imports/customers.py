"""Customers and their meters from the utility's billing system, checked row by row, then
written through the change log (so tablets receive what enters their scope).

Keyed on the natural keys: a customer by its account number, a meter by its barcode. The
same file imported twice changes nothing; a changed row updates its record; a customer
with two meters is two rows with the same account number. ``check`` writes nothing and
names every bad row by its number and column; ``apply`` writes the good rows, or none when
the operator asked for all or nothing and any row is bad.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sync_server.services import customer_fields
from sync_server.services.imports import keyed, values
from sync_server.services.imports.mapping import CUSTOMER_FIELDS
from sync_server.services.imports.rows import Checked, Row, rows
from sync_server.services.imports.table_file import Table
from sync_server.services.installation import published_districts
from sync_server.storage.db import Connection

CUSTOMER_COLUMNS = ("account_no", "name", "phone", "address", "district", "household_size",
                    "tags", "kind")
METER_COLUMNS = ("meter_barcode", "meter_serial", "meter_model", "meter_installed_on")
KINDS = {"居民": "residential", "民用": "residential", "residential": "residential",
         "非居民": "commercial", "商业": "commercial", "工商业": "commercial",
         "commercial": "commercial", "工业": "industrial", "industrial": "industrial"}


@dataclass
class Plan(Checked):
    """What a file would do: the good rows' records, and every bad row's problems."""

    customers: dict[str, dict[str, Any]] = field(default_factory=dict)  # by account number
    meters: dict[str, dict[str, Any]] = field(default_factory=dict)  # by barcode

    def summary(self) -> str:
        return f"{len(self.customers)} 个客户，{len(self.meters)} 块表"


@dataclass
class Outcome:
    customers_added: int = 0
    customers_updated: int = 0
    meters_added: int = 0
    meters_updated: int = 0
    unchanged: int = 0


def check(conn: Connection, table: Table, mapping: dict[str, str]) -> Plan:
    """Read and check every row; nothing is written."""
    plan = Plan(rows=len(table.rows))
    districts = set(published_districts(conn))
    meter_owner = {r[0]: r[1] for r in conn.execute(
        "SELECT m.barcode, c.account_no FROM meters m JOIN customers c ON c.id = m.customer_id"
        " WHERE m.barcode IS NOT NULL")}
    barcode_row: dict[str, int] = {}
    for row in rows(table, mapping, CUSTOMER_FIELDS):
        customer = _customer(row, districts)
        meter = _meter(row) if row.value("meter_barcode") else None
        account = customer.get("account_no") or ""
        if meter is not None:
            barcode = meter["barcode"]
            if barcode in barcode_row:
                row.bad("meter_barcode", f"表条码 {barcode} 与第 {barcode_row[barcode]} 行重复")
            elif meter_owner.get(barcode, account) != account:
                row.bad("meter_barcode", f"表条码 {barcode} 已属于户号 {meter_owner[barcode]}")
        earlier = plan.customers.get(account)
        if earlier is not None and not row.problems:
            for name in CUSTOMER_COLUMNS:
                if customer[name] != earlier[name]:
                    row.bad(name, f"同一户号 {account} 的行{CUSTOMER_FIELDS[name].zh}不一致"
                            f"（前面是「{earlier[name] or '空'}」）")
        if not plan.passed(row):
            continue
        plan.customers.setdefault(account, customer)
        if meter is not None:
            barcode_row[meter["barcode"]] = row.number
            plan.meters[meter["barcode"]] = {**meter, "account_no": account}
    return plan


def _customer(r: Row, districts: set[str]) -> dict[str, Any]:
    value, bad = r.value, r.bad
    row: dict[str, Any] = {name: value(name) or None for name in CUSTOMER_COLUMNS}
    for name in ("account_no", "name", "address", "district"):
        if not row[name]:
            bad(name, f"缺少{CUSTOMER_FIELDS[name].zh}")
    if row["account_no"] and not re.fullmatch(r"[0-9A-Za-z-]{1,32}", row["account_no"]):
        bad("account_no", f"户号「{row['account_no']}」只能是字母、数字和 -，最多 32 位")
    if row["district"] and districts and row["district"] not in districts:
        bad("district", f"未知区域「{row['district']}」（已设：{'、'.join(sorted(districts))}）")
    try:
        row["phone"] = customer_fields.phone(value("phone"))
    except ValueError:
        bad("phone", f"电话「{value('phone')}」不是电话号码")
    try:
        row["household_size"] = customer_fields.household_size(value("household_size"))
    except ValueError:
        bad("household_size", f"人口「{value('household_size')}」应是 1 到 50 的整数")
    row["tags"] = customer_fields.tags(value("tags"))
    if row["kind"] is None:
        row["kind"] = "residential"
    elif row["kind"] in KINDS:
        row["kind"] = KINDS[row["kind"]]
    else:
        bad("kind", f"用户类型「{row['kind']}」不认识（居民、商业、工业）")
    return row


def _meter(r: Row) -> dict[str, Any]:
    value, bad = r.value, r.bad
    barcode = value("meter_barcode")
    if not re.fullmatch(r"[0-9A-Za-z-]{4,40}", barcode):
        bad("meter_barcode", f"表条码「{barcode}」只能是字母、数字和 -，4 到 40 位")
    installed = value("meter_installed_on")
    day = values.day(installed) if installed else None
    if installed and day is None:
        bad("meter_installed_on", f"日期「{installed}」无法识别（{values.DATE_EXAMPLE}）")
    elif day is not None and day > date.today():
        bad("meter_installed_on", f"安装日期 {day} 在今天之后")
    return {"barcode": barcode, "serial": value("meter_serial") or None,
            "model": value("meter_model") or None,
            "installed_on": day.isoformat() if day else None}


def apply(conn: Connection, plan: Plan, *, by_user: str) -> Outcome:
    """Write the plan's good rows in the caller's transaction (only what differs from what
    is stored), each through the change log."""
    people, ids = keyed.write(conn, "customers", plan.customers, lambda r: r["account_no"],
                              by_user=by_user)
    meters = {barcode: {**{k: v for k, v in meter.items() if k != "account_no"},
                        "customer_id": ids[meter["account_no"]]}
              for barcode, meter in plan.meters.items()}
    devices, _ = keyed.write(conn, "meters", meters, lambda r: r["barcode"], by_user=by_user,
                             where="barcode IS NOT NULL")
    return Outcome(customers_added=people.added, customers_updated=people.updated,
                   meters_added=devices.added, meters_updated=devices.updated,
                   unchanged=people.unchanged + devices.unchanged)

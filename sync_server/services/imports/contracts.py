"""Supply contracts (供用气合同) from the billing system, keyed on the contract's number."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sync_server.services.imports import keyed, values
from sync_server.services.imports.mapping import Field
from sync_server.services.imports.rows import Checked, rows
from sync_server.services.imports.table_file import Table
from sync_server.storage.db import Connection

FIELDS: dict[str, Field] = {
    "account_no": Field("户号", ("户号", "用户编号", "用户号", "客户编号", "account_no"),
                        required=True),
    "number": Field("合同号", ("合同号", "合同编号", "合同编码", "number"), required=True),
    "tariff": Field("价格类别", ("价格类别", "用气性质", "气价类别", "价格", "tariff")),
    "signed_on": Field("签订日期", ("签订日期", "签约日期", "合同日期", "signed_on")),
    "status": Field("合同状态", ("合同状态", "状态", "status")),
}
STATUSES = {"有效": "active", "在用": "active", "正常": "active", "active": "active",
            "终止": "ended", "解除": "ended", "销户": "ended", "已终止": "ended",
            "ended": "ended"}


@dataclass
class ContractPlan(Checked):
    contracts: dict[str, dict[str, Any]] = field(default_factory=dict)  # by number

    def summary(self) -> str:
        return f"{len(self.contracts)} 份合同"


def check(conn: Connection, table: Table, mapping: dict[str, str]) -> ContractPlan:
    plan = ContractPlan(rows=len(table.rows))
    accounts = keyed.by_account(conn)
    owner = {r[0]: r[1] for r in conn.execute(
        "SELECT k.number, c.account_no FROM contracts k JOIN customers c"
        " ON c.id = k.customer_id WHERE k.number IS NOT NULL")}
    first_row: dict[str, int] = {}
    for row in rows(table, mapping, FIELDS):
        value, bad = row.value, row.bad
        customer_id = keyed.customer_of(row, accounts)
        number = value("number")
        if not number:
            bad("number", "缺少合同号")
        elif number in first_row:
            bad("number", f"合同号 {number} 与第 {first_row[number]} 行重复")
        elif owner.get(number, value("account_no")) != value("account_no"):
            bad("number", f"合同号 {number} 已属于户号 {owner[number]}")
        signed = value("signed_on")
        day = values.day(signed) if signed else None
        if signed and day is None:
            bad("signed_on", f"日期「{signed}」无法识别（{values.DATE_EXAMPLE}）")
        status = value("status")
        if status and status not in STATUSES:
            bad("status", f"合同状态「{status}」不认识（有效、终止）")
        if not plan.passed(row):
            continue
        first_row[number] = row.number
        plan.contracts[number] = {
            "customer_id": customer_id, "number": number, "tariff": value("tariff") or None,
            "signed_on": day.isoformat() if day else None,
            "status": STATUSES.get(status, "active")}
    return plan


def apply(conn: Connection, plan: ContractPlan, *, by_user: str) -> str:
    tally, _ = keyed.write(conn, "contracts", plan.contracts, lambda r: r["number"],
                           by_user=by_user, where="number IS NOT NULL")
    return tally.said("合同")

"""Payments (缴费记录) from the billing system. A payment has no number of its own in most
exports, so its natural key is the customer, the moment, the amount and the channel: the
same file twice changes nothing, and two rows alike in all four are refused as one payment
written twice."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fieldapp.local_time import moment as stored_moment
from fieldapp.local_time import now_iso
from sync_server.services.imports import keyed, values
from sync_server.services.imports.mapping import Field
from sync_server.services.imports.rows import Checked, rows
from sync_server.services.imports.table_file import Table
from sync_server.storage.db import Connection

FIELDS: dict[str, Field] = {
    "account_no": Field("户号", ("户号", "用户编号", "用户号", "客户编号", "account_no"),
                        required=True),
    "paid_at": Field("缴费时间", ("缴费时间", "缴费日期", "交费日期", "收费日期", "paid_at"),
                     required=True),
    "amount": Field("金额", ("金额", "缴费金额", "实收金额", "amount"), required=True),
    "period": Field("账期", ("账期", "所属期", "费用月份", "period")),
    "method": Field("缴费方式", ("缴费方式", "收费渠道", "支付方式", "method")),
}
_MONTH = re.compile(r"(\d{4})\s*[-/.年]?\s*(\d{1,2})\s*月?")
Key = tuple[str, str, int, str]


@dataclass
class PaymentPlan(Checked):
    payments: dict[Key, dict[str, Any]] = field(default_factory=dict)

    def summary(self) -> str:
        return f"{len(self.payments)} 笔缴费"


def check(conn: Connection, table: Table, mapping: dict[str, str]) -> PaymentPlan:
    plan = PaymentPlan(rows=len(table.rows))
    accounts = keyed.by_account(conn)
    now = datetime.fromisoformat(now_iso())
    first_row: dict[Key, int] = {}
    for row in rows(table, mapping, FIELDS):
        value, bad = row.value, row.bad
        customer_id = keyed.customer_of(row, accounts)
        paid_at = keyed.past_moment(row, "paid_at", now)
        cents = values.yuan_cents(value("amount"))
        if cents is None or cents <= 0:
            bad("amount", f"金额「{value('amount')}」应是大于 0 的元数，最多两位小数")
        period = _period(value("period"))
        method = value("method")
        if customer_id and paid_at and cents:
            key = (customer_id, paid_at, cents, method)
            if key in first_row:
                bad("paid_at", f"与第 {first_row[key]} 行是同一笔缴费"
                               "（户号、时间、金额、方式都相同）")
        if not plan.passed(row) or customer_id is None or paid_at is None or cents is None:
            continue
        first_row[key] = row.number
        plan.payments[key] = {"customer_id": customer_id, "paid_at": paid_at,
                              "amount": cents / 100, "period": period,
                              "method": method or None}
    return plan


def _period(text: str) -> str | None:
    """A billing month as the tablets show it (2024-03); other spellings kept as written."""
    found = _MONTH.fullmatch(text)
    if found and 1 <= int(found[2]) <= 12:
        return f"{found[1]}-{int(found[2]):02d}"
    return text or None


def _key(r: dict[str, Any]) -> Key:
    at = stored_moment(r["paid_at"]).isoformat(timespec="seconds") if r["paid_at"] else ""
    return (r["customer_id"], at, round((r["amount"] or 0) * 100), r["method"] or "")


def apply(conn: Connection, plan: PaymentPlan, *, by_user: str) -> str:
    tally, _ = keyed.write(conn, "payments", plan.payments, _key, by_user=by_user)
    return tally.said("缴费")

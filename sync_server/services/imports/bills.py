"""Bills (账单) and so the customer's arrears from the billing system, keyed on the customer,
the meter (when the file names one) and the period's last day.

An unpaid bill is owed: the desk, the portal and the tablet show it as arrears, and the
reminders and 催缴 visits follow it as they follow the bills FieldApp makes. The bill keeps
its volume as one line of its year, so this year's tier position counts the billing
system's bills too (the tier itself only when the file carries it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sync_server.services.imports import keyed, values
from sync_server.services.imports.mapping import Field
from sync_server.services.imports.rows import Checked, Row, rows
from sync_server.services.imports.table_file import Table
from sync_server.storage.db import Connection

FIELDS: dict[str, Field] = {
    "account_no": Field("户号", ("户号", "用户编号", "用户号", "客户编号", "account_no"),
                        required=True),
    "period_start": Field("起始日期", ("起始日期", "账期开始", "开始日期", "period_start"),
                          required=True),
    "period_end": Field("截止日期", ("截止日期", "账期结束", "结束日期", "period_end"),
                        required=True),
    "amount": Field("金额", ("金额", "应收金额", "应缴金额", "账单金额", "amount"),
                    required=True),
    "meter_barcode": Field("表条码", ("表条码", "条码", "表号", "barcode")),
    "previous_value": Field("上期读数", ("上期读数", "起码", "上期止码", "previous_value")),
    "current_value": Field("本期读数", ("本期读数", "止码", "本期止码", "current_value")),
    "volume": Field("用气量", ("用气量", "气量", "用量", "volume")),
    "tier": Field("阶梯", ("阶梯", "档位", "tier")),
    "issued_at": Field("出账日期", ("出账日期", "开票日期", "issued_at")),
    "due_on": Field("缴费期限", ("缴费期限", "到期日", "最后缴费日", "due_on")),
    "status": Field("状态", ("状态", "缴费状态", "账单状态", "status")),
    "paid_at": Field("缴费日期", ("缴费日期", "缴费时间", "paid_at")),
}
STATUSES = {"已缴": "paid", "已缴费": "paid", "结清": "paid", "已结清": "paid", "paid": "paid",
            "未缴": "unpaid", "未缴费": "unpaid", "欠费": "unpaid", "unpaid": "unpaid",
            "逾期": "overdue", "overdue": "overdue"}
LITRE = Decimal("0.001")
Key = tuple[str, str | None, str]


@dataclass
class BillPlan(Checked):
    bills: dict[Key, dict[str, Any]] = field(default_factory=dict)

    def summary(self) -> str:
        owed = sum(b["amount_cents"] for b in self.bills.values() if b["status"] != "paid")
        return f"{len(self.bills)} 张账单，其中欠费 {owed / 100:.2f} 元"


def check(conn: Connection, table: Table, mapping: dict[str, str]) -> BillPlan:
    plan = BillPlan(rows=len(table.rows))
    accounts = keyed.by_account(conn)
    meters = {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT barcode, id, customer_id FROM meters WHERE barcode IS NOT NULL")}
    first_row: dict[Key, int] = {}
    for row in rows(table, mapping, FIELDS):
        value, bad = row.value, row.bad
        customer_id = keyed.customer_of(row, accounts)
        meter_id = None
        barcode = value("meter_barcode")
        if barcode and barcode not in meters:
            bad("meter_barcode", f"表条码 {barcode} 不存在：请先导入客户和表具")
        elif barcode and customer_id and meters[barcode][1] != customer_id:
            bad("meter_barcode", f"表 {barcode} 不属于户号 {value('account_no')}")
        elif barcode:
            meter_id = meters[barcode][0]
        start, end = _day(row, "period_start", True), _day(row, "period_end", True)
        if start and end and end < start:
            bad("period_end", f"截止日期 {end} 早于起始日期 {start}")
        cents = values.yuan_cents(value("amount"))
        if cents is None or cents < 0:
            bad("amount", f"金额「{value('amount')}」应是不小于 0 的元数，最多两位小数")
        volume = _volume(row)
        status = _status(row)
        if customer_id and end:
            key: Key = (customer_id, meter_id, end.isoformat())
            if key in first_row:
                bad("period_end", f"同一户（同一块表）截止 {end} 的账单与第 {first_row[key]}"
                                  " 行重复")
        due, issued = _day(row, "due_on"), _day(row, "issued_at")
        paid_at = value("paid_at")
        paid_moment = values.moment(paid_at) if paid_at else None
        if paid_at and paid_moment is None:
            bad("paid_at", f"缴费日期「{paid_at}」无法识别（{values.MOMENT_EXAMPLE}）")
        if not plan.passed(row) or customer_id is None or start is None or end is None \
                or cents is None:
            continue
        first_row[key] = row.number
        plan.bills[key] = {
            "customer_id": customer_id, "meter_id": meter_id,
            "period_start": start.isoformat(), "period_end": end.isoformat(),
            "previous_value": _number(value("previous_value")),
            "current_value": _number(value("current_value")),
            "volume": str(volume) if volume is not None else None, "amount_cents": cents,
            "lines": json.dumps([_line(end, volume, cents, value("tier"), start)]
                                if volume is not None else [], ensure_ascii=False),
            "issued_at": values.moment(issued.isoformat()) if issued else None,
            "due_on": due.isoformat() if due else None,
            "status": status or ("paid" if paid_moment else "unpaid"),
            "paid_at": paid_moment}
    return plan


def _day(row: Row, name: str, required: bool = False) -> date | None:
    text = row.value(name)
    if not text:
        if required:
            row.bad(name, f"缺少{FIELDS[name].zh}")
        return None
    day = values.day(text)
    if day is None:
        row.bad(name, f"日期「{text}」无法识别（{values.DATE_EXAMPLE}）")
    return day


def _number(text: str) -> float | None:
    found = values.reading(text) if text else None
    return float(found) if found is not None else None


def _volume(row: Row) -> Decimal | None:
    """The billed volume: the file's, else the difference of the two readings; both must
    agree when both are given."""
    before, after = (row.value("previous_value"), row.value("current_value"))
    readings = []
    for name, text in (("previous_value", before), ("current_value", after)):
        found = values.reading(text) if text else None
        if text and found is None:
            row.bad(name, f"读数「{text}」应是不小于 0 的数，最多三位小数")
        readings.append(found)
    low, high = readings
    if low is not None and high is not None and high < low:
        row.bad("current_value", f"本期读数 {high} 小于上期读数 {low}")
        return None
    text = row.value("volume")
    if text:
        try:
            given = Decimal(text).quantize(LITRE)
        except InvalidOperation:
            row.bad("volume", f"用气量「{text}」不是数")
            return None
        if not given.is_finite() or given < 0:
            row.bad("volume", f"用气量「{text}」应不小于 0")
            return None
        if low is not None and high is not None and (high - low).quantize(LITRE) != given:
            row.bad("volume", f"用气量 {given} 与读数之差 {high - low} 不符")
        return given
    return (high - low).quantize(LITRE) if low is not None and high is not None else None


def _status(row: Row) -> str | None:
    text = row.value("status")
    if text and text not in STATUSES:
        row.bad("status", f"状态「{text}」不认识（已缴、未缴、逾期）")
    return STATUSES.get(text)


def _line(end: date, volume: Decimal, cents: int, tier: str,
          start: date) -> dict[str, Any]:
    """The bill as one line of its year: what the tier position adds up."""
    return {"year": end.year, "tier": int(tier) if tier.isdigit() else None,
            "volume": str(volume),
            "price_cents": round(cents / volume) if volume else 0,
            "amount_cents": cents, "start": start.isoformat(), "end": end.isoformat()}


def _key(r: dict[str, Any]) -> Key:
    return (r["customer_id"], r["meter_id"], r["period_end"])


def apply(conn: Connection, plan: BillPlan, *, by_user: str) -> str:
    tally, _ = keyed.write(conn, "bills", plan.bills, _key, by_user=by_user)
    return tally.said("账单")

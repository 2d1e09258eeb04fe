"""账务: bills from readings in order across a tier boundary, nothing billed twice, a reading
that went backwards held back, reminders before the due date, an overdue bill chased with a
催缴 job, and a payment that must match the bill to the fen."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from sync_server.clock import ServerClock
from sync_server.errors import ApiError
from sync_server.services import billing
from sync_server.services.auth import Principal
from sync_server.storage.db import Storage
from tests.server.test_rules import TECH01, push, rows

CASHIER = Principal("dispatcher", "赵敏", "dispatcher", None, "web-counter")
TODAY = date(2026, 5, 10)


@pytest.fixture
def ledger(db: Storage) -> Storage:
    """meter-1 of cust-1 (one person) read on 5 Jan, 5 Mar and 5 May 2026."""
    with db.write() as conn:
        billing.install_defaults(conn)
        billing.set_billing_from(conn, date(2026, 1, 1))
        conn.execute("DELETE FROM readings WHERE meter_id = 'meter-1'")
    for day, value in (("2026-01-05", 1000), ("2026-03-05", 1280), ("2026-05-05", 1330)):
        read(db, day, value)
    return db


def read(db: Storage, day: str, value: float) -> None:
    push(db, TECH01, "readings", f"rd-{day}", {
        "customer_id": "cust-1", "meter_id": "meter-1", "read_at": f"{day}T09:00:00+08:00",
        "value": value, "source": "tablet:meter_reading"}, op="insert")


def run(db: Storage) -> billing.RunResult:
    with db.write() as conn:
        return billing.run(conn, CASHIER, ServerClock(), TODAY)


def meter1_bills(db: Storage) -> list[dict]:
    return rows(db, "SELECT * FROM bills WHERE meter_id = 'meter-1' ORDER BY period_end")


def test_bills_follow_the_readings_across_a_tier_boundary(ledger: Storage) -> None:
    result = run(ledger)
    first, second = meter1_bills(ledger)
    assert (first["period_start"], first["period_end"], first["volume"]) == (
        "2026-01-05", "2026-03-05", "280.000")
    assert first["amount_cents"] == 280 * 253
    # 280 already used this year: 20 more in tier 1, 30 in tier 2
    assert [(ln["tier"], ln["volume"], ln["amount_cents"])
            for ln in json.loads(second["lines"])] == [(1, "20.000", 5060), (2, "30.000", 9120)]
    assert second["amount_cents"] == 14180
    assert (second["status"], second["due_on"]) == ("unpaid", "2026-05-25")
    assert result.billed == len(rows(ledger, "SELECT id FROM bills")) >= 2
    logged = rows(ledger, "SELECT by_user FROM changes WHERE tbl = 'bills'"
                          " AND record_id = ?", [second["id"]])
    assert logged == [{"by_user": "dispatcher"}]  # synced to the tablets like any record

    assert run(ledger).billed == 0  # nothing twice
    read(ledger, "2026-07-05", 1300)  # lower than before: a meter swap, or a typo
    held = run(ledger)
    assert held.billed == 0 and "读数小于上次" in held.skipped[0]
    assert len(meter1_bills(ledger)) == 2


def test_what_the_old_system_billed_is_left_alone(ledger: Storage) -> None:
    with ledger.write() as conn:
        billing.set_billing_from(conn, date(2026, 4, 1))
    run(ledger)
    # 5 Mar → 5 May; 5 Jan → 5 Mar was billed before, and its 280 m³ count for the tiers
    [only] = meter1_bills(ledger)
    assert (only["period_start"], only["amount_cents"]) == ("2026-03-05", 14180)


def test_a_business_pays_one_price(ledger: Storage) -> None:
    with ledger.write() as conn:
        conn.execute("UPDATE customers SET kind = 'commercial' WHERE id = 'cust-1'")
    run(ledger)
    first, second = meter1_bills(ledger)
    assert (first["amount_cents"], second["amount_cents"]) == (280 * 365, 50 * 365)


def test_reminders_before_the_due_date_and_a_dunning_job_after(ledger: Storage) -> None:
    run(ledger)
    bill = meter1_bills(ledger)[-1]
    due = date.fromisoformat(bill["due_on"])

    def remind(day: date) -> int:
        with ledger.write() as conn:
            moment = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
            return billing.remind(conn, ServerClock(), moment)

    remind(due - timedelta(days=5))
    remind(due - timedelta(days=5))
    remind(due - timedelta(days=1))
    texts = [r["text"] for r in rows(ledger, "SELECT text FROM notifications"
                                             " WHERE customer_id = 'cust-1' ORDER BY id")]
    assert len([t for t in texts if "141.80 元将于 05月25日 到期" in t]) == 2

    remind(due + timedelta(days=1))
    remind(due + timedelta(days=2))
    assert rows(ledger, "SELECT status FROM bills WHERE id = ?", [bill["id"]]) == [
        {"status": "overdue"}]
    [job] = rows(ledger, "SELECT * FROM jobs WHERE kind = 'dunning'"
                         " AND customer_id = 'cust-1'")
    assert (job["customer_id"], job["status"], job["district"]) == ("cust-1", "pending",
                                                                   "秦淮区")
    assert "欠费合计" in job["summary"]  # one visit for all of the customer's arrears
    assert any("已逾期" in r["text"] for r in rows(ledger, "SELECT text FROM notifications"))


def test_a_payment_must_match_the_bill(ledger: Storage) -> None:
    run(ledger)
    bill = meter1_bills(ledger)[-1]

    def pay(amount: str, method: str = "wechat") -> None:
        with ledger.write() as conn:
            billing.pay(conn, CASHIER, ServerClock(), bill["id"], method, amount, TODAY)

    for amount, code in (("141.79", "wrong_amount"), ("141.805", "bad_amount"),
                         ("abc", "bad_amount"), ("NaN", "bad_amount")):
        with pytest.raises(ApiError) as refused:
            pay(amount)
        assert refused.value.code == code, amount
    with pytest.raises(ApiError) as wrong_method:
        pay("141.80", "cash_in_envelope")
    assert wrong_method.value.code == "bad_method"

    pay("141.8")
    [paid] = rows(ledger, "SELECT status, paid_at FROM bills WHERE id = ?", [bill["id"]])
    assert paid["status"] == "paid" and paid["paid_at"]
    [payment] = rows(ledger, "SELECT amount, method, period FROM payments"
                             " WHERE customer_id = 'cust-1' AND period LIKE '%~%'")
    assert (payment["amount"], payment["period"]) == (141.8, "2026-03-05~2026-05-05")
    with pytest.raises(ApiError) as twice:
        pay("141.80")
    assert twice.value.code == "already_paid"
    with ledger.write() as conn:  # a paid bill is not chased (the unpaid one is)
        billing.remind(conn, ServerClock(), datetime(2026, 6, 30, tzinfo=UTC))
    assert rows(ledger, "SELECT status FROM bills WHERE id = ?", [bill["id"]]) == [
        {"status": "paid"}]
    chased = rows(ledger, "SELECT bill_id FROM bill_notices WHERE kind = 'dunning'")
    assert {"bill_id": meter1_bills(ledger)[0]["id"]} in chased
    assert {"bill_id": bill["id"]} not in chased

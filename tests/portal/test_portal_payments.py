"""Paying a bill online: only a signed callback for an order this server opened, with its
exact amount, pays it; a replay changes nothing; a paid bill is not reminded or chased."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, date, datetime, timedelta

import pytest
import requests

from sync_server.clock import ServerClock
from sync_server.services import billing
from sync_server.storage.db import open_database
from tests.conftest import ServerProcess
from tests.portal.conftest import Inbox, csrf, execute, sign_in


@pytest.fixture
def portal(paying_portal: ServerProcess) -> ServerProcess:
    """These tests pay bills: the portal started with the simulated payment provider."""
    return paying_portal


def _callback(server: ServerProcess, body: dict, key: bytes | None = None) -> requests.Response:
    raw = json.dumps(body).encode()
    key = key or bytes.fromhex(server.scalar(
        "SELECT value FROM server_state WHERE key = 'secret.payment.simulated'"))
    return requests.post(server.url + "/portal/pay/callback/simulated", data=raw, timeout=10,
                         headers={"X-Signature": hmac.new(key, raw, hashlib.sha256).hexdigest(),
                                  "Content-Type": "application/json"})


def _overdue(server: ServerProcess, bill_id: str) -> None:
    """The bill past due, and the reminder round that marks it and sends a 催缴 visit."""
    execute(server, "UPDATE bills SET due_on = ? WHERE id = ?",
            [(date.today() - timedelta(days=2)).isoformat(), bill_id])
    db = open_database(server.data_dir, server.database_url)
    try:
        with db.write() as conn:
            billing.remind(conn, ServerClock(), datetime.now(UTC))
    finally:
        db.close()


def test_the_customer_pays_on_the_simulated_provider_and_dunning_stops(
        portal: ServerProcess, inbox: type[Inbox]) -> None:
    bills = [r["id"] for r in portal.query(
        "SELECT id FROM bills WHERE customer_id = 'cust-1' ORDER BY period_end")]
    for bill in bills:
        _overdue(portal, bill)
    assert portal.scalar("SELECT status FROM jobs WHERE kind = 'dunning'") == "pending"
    s = sign_in(portal, inbox)
    for bill in bills:
        page = s.get(portal.url + "/portal/bills", timeout=10).text
        checkout = s.post(f"{portal.url}/portal/bills/{bill}/pay", data={"csrf": csrf(page)},
                          timeout=10)
        assert "/portal/pay/sim/PO" in checkout.url and "演示用的支付页面" in checkout.text
        # Paying twice from two tabs is one order.
        again = s.post(f"{portal.url}/portal/bills/{bill}/pay", data={"csrf": csrf(page)},
                       timeout=10)
        assert again.url == checkout.url
        result = s.post(checkout.url, data={"csrf": csrf(checkout.text), "outcome": "paid"},
                        timeout=10)
        assert "缴费成功" in result.text
        assert portal.scalar("SELECT status FROM bills WHERE id = ?", [bill]) == "paid"
    methods = [r["method"] for r in portal.query(
        "SELECT method FROM payments WHERE customer_id = 'cust-1' AND method = '网上营业厅'")]
    assert len(methods) == len(bills)
    # Owing nothing more: the visit is called off and the next round reminds no one.
    assert portal.scalar("SELECT status FROM jobs WHERE kind = 'dunning'") == "cancelled"
    assert portal.scalar("SELECT to_status FROM job_status_history WHERE job_id ="
                         " (SELECT id FROM jobs WHERE kind = 'dunning')") == "cancelled"
    before = portal.scalar("SELECT count(*) FROM notifications")
    _overdue(portal, bills[0])
    assert portal.scalar("SELECT count(*) FROM notifications") == before
    assert "0.00 元" in s.get(portal.url + "/portal/", timeout=10).text


def test_forged_replayed_and_wrong_callbacks_change_nothing(portal: ServerProcess,
                                                            inbox: type[Inbox]) -> None:
    s = sign_in(portal, inbox)
    bill = portal.scalar("SELECT id FROM bills WHERE customer_id = 'cust-1' LIMIT 1")
    page = s.get(portal.url + "/portal/bills", timeout=10).text
    order_id = s.post(f"{portal.url}/portal/bills/{bill}/pay", data={"csrf": csrf(page)},
                      timeout=10).url.rsplit("/", 1)[1]
    amount = portal.scalar("SELECT amount_cents FROM payment_orders WHERE id = ?", [order_id])
    paid = {"order_id": order_id, "status": "paid", "amount_cents": amount,
            "provider_ref": "SIM0001"}
    forged = _callback(portal, paid, key=b"guessed")
    assert forged.status_code == 401 and forged.json()["outcome"] == "bad_signature"
    short = _callback(portal, {**paid, "amount_cents": 1})
    assert short.status_code == 400 and short.json()["outcome"] == "amount_mismatch"
    unknown = _callback(portal, {**paid, "order_id": "PO-none"})
    assert unknown.status_code == 404
    junk = _callback(portal, {"hello": 1})
    assert junk.status_code == 400 and junk.json()["outcome"] == "malformed"
    assert portal.scalar("SELECT status FROM bills WHERE id = ?", [bill]) == "unpaid"
    assert portal.scalar("SELECT count(*) FROM payments WHERE method = '网上营业厅'") == 0
    good = _callback(portal, paid)
    assert good.status_code == 200 and good.json()["outcome"] == "paid"
    replay = _callback(portal, paid)
    assert replay.status_code == 200 and replay.json()["outcome"] == "duplicate"
    assert portal.scalar("SELECT count(*) FROM payments WHERE method = '网上营业厅'") == 1
    outcomes = [r["outcome"] for r in portal.query(
        "SELECT outcome FROM payment_callbacks ORDER BY id")]
    assert outcomes == ["bad_signature", "amount_mismatch", "unknown_order", "malformed",
                        "paid", "duplicate"]
    # The bill is paid: the customer's pay button is gone and a new order is refused.
    after = s.get(portal.url + "/portal/bills", timeout=10).text
    assert f"/portal/bills/{bill}/pay" not in after
    late = s.post(f"{portal.url}/portal/bills/{bill}/pay", data={"csrf": csrf(after)},
                  timeout=10)
    assert late.status_code == 409 and "已缴清" in late.text


def test_a_cancelled_payment_leaves_the_bill_to_pay(portal: ServerProcess,
                                                    inbox: type[Inbox]) -> None:
    s = sign_in(portal, inbox)
    bill = portal.scalar("SELECT id FROM bills WHERE customer_id = 'cust-1' LIMIT 1")
    page = s.get(portal.url + "/portal/bills", timeout=10).text
    checkout = s.post(f"{portal.url}/portal/bills/{bill}/pay", data={"csrf": csrf(page)},
                      timeout=10)
    gave_up = s.post(checkout.url, data={"csrf": csrf(checkout.text), "outcome": "cancel"},
                     timeout=10)
    assert "支付未完成，账单仍待缴" in gave_up.text
    assert portal.scalar("SELECT status FROM bills WHERE id = ?", [bill]) == "unpaid"
    retry = s.post(f"{portal.url}/portal/bills/{bill}/pay", data={"csrf": csrf(page)},
                   timeout=10)
    assert retry.url != checkout.url  # a new order: the failed one is closed


def test_a_bill_paid_at_the_counter_meanwhile_is_flagged_for_refund(
        portal: ServerProcess, inbox: type[Inbox]) -> None:
    s = sign_in(portal, inbox)
    bill = portal.scalar("SELECT id FROM bills WHERE customer_id = 'cust-1' LIMIT 1")
    page = s.get(portal.url + "/portal/bills", timeout=10).text
    checkout = s.post(f"{portal.url}/portal/bills/{bill}/pay", data={"csrf": csrf(page)},
                      timeout=10)
    db = open_database(portal.data_dir, portal.database_url)
    try:
        with db.write() as conn:
            row = conn.execute("SELECT * FROM bills WHERE id = ?", [bill]).fetchone()
            billing.settle(conn, billing.SYSTEM, ServerClock(), row, "营业厅")
    finally:
        db.close()
    result = s.post(checkout.url, data={"csrf": csrf(checkout.text), "outcome": "paid"},
                    timeout=10)
    assert "原路退回" in result.text
    assert portal.scalar("SELECT count(*) FROM payments WHERE customer_id = 'cust-1'"
                         " AND method IN ('营业厅', '网上营业厅')") == 1
    assert "请退款" in portal.scalar("SELECT message FROM alerts WHERE kind = 'payment_twice'")

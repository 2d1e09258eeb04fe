"""Without ``--demo`` or ``--simulated-payments`` no payment provider is offered: the bills
page says online payment is not configured, and nothing a customer or anyone else sends can
mark a bill paid (the simulated provider's pages and callback are not found)."""

from __future__ import annotations

import hashlib
import hmac
import json

import requests

from sync_server.config import Settings
from tests.conftest import ServerProcess
from tests.portal.conftest import Inbox, csrf, execute, sign_in


def test_without_a_provider_nothing_can_be_paid(portal: ServerProcess,
                                                inbox: type[Inbox]) -> None:
    s = sign_in(portal, inbox)
    bill = portal.scalar("SELECT id FROM bills WHERE customer_id = 'cust-1' LIMIT 1")
    page = s.get(portal.url + "/portal/bills", timeout=10).text
    assert "网上缴费暂未开通" in page and 'id="no-online-payment"' in page
    assert "/pay" not in page and "模拟支付" not in page  # no button, no provider named
    assert f'id="bill-{bill}"' in page  # the bills themselves are shown

    opened = s.post(f"{portal.url}/portal/bills/{bill}/pay", data={"csrf": csrf(page)},
                    timeout=10, allow_redirects=False)
    assert opened.status_code == 404 and "网上缴费暂未开通" in opened.text
    assert portal.scalar("SELECT count(*) FROM payment_orders") == 0

    # An order from when the server ran with the simulated provider: no longer payable.
    execute(portal, "INSERT INTO payment_orders(id, bill_id, customer_id, amount_cents,"
            " provider, created_at) SELECT 'PO-old', id, customer_id, amount_cents,"
            " 'simulated', '2026-01-01T00:00:00+00:00' FROM bills WHERE id = ?", [bill])
    checkout = s.get(f"{portal.url}/portal/pay/sim/PO-old", timeout=10)
    assert checkout.status_code == 404 and "网上缴费暂未开通" in checkout.text
    confirm = s.post(f"{portal.url}/portal/pay/sim/PO-old", timeout=10,
                     data={"csrf": csrf(page), "outcome": "paid"})
    assert confirm.status_code == 404
    # Even a callback signed with the simulated provider's own key is not heard.
    amount = portal.scalar("SELECT amount_cents FROM bills WHERE id = ?", [bill])
    raw = json.dumps({"order_id": "PO-old", "status": "paid", "amount_cents": amount,
                      "provider_ref": "SIM1"}).encode()
    key = bytes.fromhex(portal.scalar(
        "SELECT value FROM server_state WHERE key = 'secret.payment.simulated'"))
    callback = requests.post(portal.url + "/portal/pay/callback/simulated", data=raw,
                             timeout=10, headers={
                                 "X-Signature": hmac.new(key, raw, hashlib.sha256).hexdigest(),
                                 "Content-Type": "application/json"})
    assert (callback.status_code, callback.json()) == (404, {"error": "unknown_provider"})

    assert portal.scalar("SELECT status FROM bills WHERE id = ?", [bill]) != "paid"
    assert portal.scalar("SELECT status FROM payment_orders WHERE id = 'PO-old'") == "created"
    assert portal.scalar("SELECT count(*) FROM payment_callbacks") == 0
    assert portal.scalar("SELECT count(*) FROM payments WHERE method = '网上营业厅'") == 0


def test_the_switch_reaches_every_worker_process(monkeypatch, tmp_path) -> None:
    # With --workers each process builds its app from the variables the main one set.
    for offered in (True, False):
        for name, value in Settings(data_dir=tmp_path, simulated_payments=offered,
                                    database_url=None).to_env().items():
            monkeypatch.setenv(name, value)
        assert Settings.from_env().simulated_payments is offered

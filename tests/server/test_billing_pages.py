"""账务 over HTTP: a billing run from the readings, a bill's tier lines, a payment at the
counter refused until it matches, and the tablet showing the bill paid after its sync."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from fieldapp.billing.tariff import yuan
from sync_server.services import billing
from sync_server.storage.db import open_database
from tests.conftest import ServerProcess, synced_tablet
from tests.server.test_conflict_review import csrf, office_session


def test_bill_run_breakdown_payment_and_the_tablet(server: ServerProcess, tmp_path: Path):
    replica, client = synced_tablet(server, tmp_path / "tablet")
    db = open_database(server.data_dir, server.database_url)
    with db.write() as conn:  # the world's readings are FieldApp's to bill
        billing.set_billing_from(conn, date.today() - timedelta(days=90))
    db.close()
    office = office_session(server, "dispatcher")
    page = office.get(f"{server.url}/office/billing", timeout=10).text
    assert "按读数出账" in page and "第 1 档 ≤300 m³/年 2.53 元/m³" in page
    ran = office.post(f"{server.url}/office/billing/run", timeout=30,
                      data={"csrf": csrf(page)})
    assert "出账完成：新账单 6 张" in ran.text  # three meters, three readings each

    bill_id = server.scalar("SELECT id FROM bills WHERE customer_id = 'cust-1'"
                            " ORDER BY period_end DESC LIMIT 1")
    cents = server.scalar("SELECT amount_cents FROM bills WHERE id = ?", [bill_id])
    page = office.get(f"{server.url}/office/bills/{bill_id}", timeout=10).text
    assert "20.000" in page and f'id="total">{yuan(cents)}' in page
    wrong = office.post(f"{server.url}/office/bills/{bill_id}/pay", timeout=10, data={
        "csrf": csrf(page), "method": "counter", "amount": "1.00"})
    assert f"金额应为 {yuan(cents)} 元" in wrong.text
    paid = office.post(f"{server.url}/office/bills/{bill_id}/pay", timeout=10, data={
        "csrf": csrf(page), "method": "counter", "amount": yuan(cents)})
    assert re.search(r'id="bill-status">已缴清', paid.text)

    client.sync()
    view = replica.customers.view360("cust-1")
    assert {b["id"]: b["status"] for b in view["bills"]}[bill_id] == "paid"
    unpaid = server.scalar("SELECT sum(amount_cents) FROM bills WHERE customer_id = 'cust-1'"
                           " AND status = 'unpaid'")
    assert view["arrears_cents"] == unpaid
    assert any(p["method"] == "营业厅" for p in view["payments"])

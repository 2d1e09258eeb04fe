"""客户360 on the job page: the customer's bills with what they owe now, updated when a sync
brings a payment."""

from __future__ import annotations

import json

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QLabel, QPushButton

from fieldapp.changes import Changes
from fieldapp.records import TABLES
from fieldapp.sync.apply import apply_changes
from fieldapp.ui.demo_seed import Seeded
from fieldapp.ui.main_window import MainWindow
from fieldapp.wire import RecordChange


def bill(bill_id: str, customer: str, cents: int, status: str, version: int = 1
         ) -> RecordChange:
    row = {"customer_id": customer, "meter_id": None, "reading_id": None,
           "period_start": "2026-09-01", "period_end": "2026-11-01",
           "previous_value": 1000.0, "current_value": 1045.5, "volume": "45.500",
           "amount_cents": cents, "lines": json.dumps([]), "issued_at": "2026-11-02T09:00:00+08:00",
           "due_on": "2026-11-17", "status": status, "paid_at": None}
    return RecordChange(table="bills", record_id=bill_id, version=version,
                        row={c: row.get(c) for c in TABLES["bills"].columns})


def texts(window: MainWindow) -> list[str]:
    return [w.text() for w in window.job_page.customer.findChildren(QLabel)]


def test_the_customer_card_shows_bills_and_what_is_owed(window: MainWindow,
                                                        seeded: Seeded) -> None:
    job_id = seeded.job_ids[0]
    customer = window.ctx.replica.jobs.get(job_id)["customer_id"]
    window.open_job(job_id)
    assert "无欠费" in texts(window)

    apply_changes(window.ctx.replica, [bill("b-1", customer, 11385, "overdue"),
                                       bill("b-2", customer, 2530, "paid")])
    window.ctx.changes_applied.emit(Changes.of("bills"))  # as a finished sync announces
    shown = texts(window)
    assert "当前欠费 ¥113.85" in shown
    assert "45.5 m³" in shown and "已逾期" in shown and "已缴清" in shown

    apply_changes(window.ctx.replica, [bill("b-1", customer, 11385, "paid", version=2)])
    window.ctx.changes_applied.emit(Changes.of("bills"))
    assert "无欠费" in texts(window)


def test_a_tag_chip_tapped_tags_the_customer_and_queues_the_change(
        window: MainWindow, seeded: Seeded) -> None:
    job_id = seeded.job_ids[0]
    replica = window.ctx.replica
    customer = replica.jobs.get(job_id)["customer_id"]
    window.open_job(job_id)

    def chip(tag: str) -> QPushButton:
        # The refreshed view's old chips are deleted later: let that happen first.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        [found] = [b for b in window.job_page.customer.findChildren(QPushButton, "tagChip")
                   if b.text() == tag]
        return found

    had = replica.customers.view360(customer)["customer"]["tags"]
    assert "新开通用户" not in had and not chip("新开通用户").isChecked()
    chip("新开通用户").click()  # the view refreshes itself: a new button
    assert chip("新开通用户").isChecked()
    assert replica.customers.view360(customer)["customer"]["tags"] == [*had, "新开通用户"]
    [queued] = replica.db.query("SELECT tbl, fields FROM outbox WHERE tbl = 'customers'"
                                " AND record_id = ?", [customer])
    assert json.loads(json.loads(queued["fields"])["tags"]) == [*had, "新开通用户"]
    chip("新开通用户").click()
    assert not chip("新开通用户").isChecked()
    assert replica.customers.view360(customer)["customer"]["tags"] == had

"""Customers on the tablet: the 360° view and lookup by meter barcode."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fieldapp.replica import Replica


class Customers:
    def __init__(self, replica: Replica) -> None:
        self.r = replica

    def view360(self, customer_id: str) -> dict[str, Any]:
        """Everything the tablet knows about one customer, newest first."""
        q = self.r.db.query
        customer = self.r.get("customers", customer_id)
        customer["tags"] = json.loads(customer["tags"] or "[]")
        meters = list(q("SELECT * FROM meters WHERE customer_id = ? ORDER BY serial",
                        [customer_id]))
        for meter in meters:
            meter["readings"] = list(q(
                "SELECT read_at, value, source FROM readings WHERE meter_id = ? "
                "ORDER BY read_at DESC LIMIT 6", [meter["id"]]))
        return {
            "customer": customer,
            "meters": meters,
            "contracts": list(q("SELECT * FROM contracts WHERE customer_id = ?", [customer_id])),
            "payments": list(q("SELECT * FROM payments WHERE customer_id = ? "
                               "ORDER BY paid_at DESC LIMIT 12", [customer_id])),
            "bills": list(q("SELECT * FROM bills WHERE customer_id = ?"
                            " ORDER BY period_end DESC LIMIT 12", [customer_id])),
            # What the customer owes now, in fen: a technician at the door should know.
            "arrears_cents": next(q("SELECT coalesce(sum(amount_cents), 0) AS owed FROM bills"
                                    " WHERE customer_id = ? AND status IN ('unpaid', 'overdue')",
                                    [customer_id]))["owed"],
            "jobs": list(q("SELECT * FROM jobs WHERE customer_id = ? ORDER BY due_at DESC",
                           [customer_id])),
            "inspections": list(q(
                "SELECT s.*, j.number AS job_number,"
                " (SELECT count(*) FROM answers a WHERE a.submission_id = s.id"
                "  AND json_extract(a.value, '$') = 'fail') AS failed_items,"
                " (SELECT count(*) FROM attachments p WHERE p.submission_id = s.id"
                "  OR (p.job_id = s.job_id AND p.kind = 'photo')) AS photos"
                " FROM submissions s LEFT JOIN jobs j ON j.id = s.job_id"
                " WHERE s.customer_id = ? ORDER BY s.started_at DESC", [customer_id])),
        }

    def by_barcode(self, code: str) -> dict[str, Any] | None:
        """The meter with this barcode, its customer and their open job (the signed-in
        technician's first), or None."""
        code = code.strip()
        meters = list(self.r.db.query("SELECT * FROM meters WHERE barcode = ? OR serial = ?",
                                      [code, code]))
        if not meters:
            return None
        meter = meters[0]
        customer = self.r.find("customers", meter["customer_id"])
        jobs = list(self.r.db.query(
            "SELECT * FROM jobs WHERE customer_id = ? AND status IN "
            "('dispatched', 'accepted', 'en_route', 'in_service')"
            " ORDER BY assignee = ? DESC, due_at LIMIT 1",
            [meter["customer_id"], session.username if (session := self.r.session) else ""]))
        return {"meter": meter, "customer": customer, "open_job": jobs[0] if jobs else None}

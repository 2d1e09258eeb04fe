"""Customers on the tablet: the 360° view, lookup by meter barcode, and search."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any

from fieldapp.changes import Changes
from fieldapp.domain import customer_tags
from fieldapp.domain.usage import last_months, monthly_usage
from fieldapp.errors import InvalidInput
from fieldapp.records import escape_like

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
            "interactions": self.r.interactions.for_customer(customer_id),
            "inspections": list(q(
                "SELECT s.*, j.number AS job_number,"
                " (SELECT count(*) FROM answers a WHERE a.submission_id = s.id"
                "  AND json_extract(a.value, '$') = 'fail') AS failed_items,"
                " (SELECT count(*) FROM attachments p WHERE p.submission_id = s.id"
                "  OR (p.job_id = s.job_id AND p.kind = 'photo')) AS photos"
                " FROM submissions s LEFT JOIN jobs j ON j.id = s.job_id"
                " WHERE s.customer_id = ? ORDER BY s.started_at DESC", [customer_id])),
        }

    def toggle_tag(self, customer_id: str, tag: str) -> Changes:
        """Add the tag to the customer, or take it off when it is there: a change of the
        customer's ``tags`` queued like any other, which the server merges with the
        office's edits of the same list (both sides' additions and removals kept)."""
        tag = tag.strip()
        if not tag or len(tag) > customer_tags.MAX_TAG:
            raise InvalidInput("bad_tag", f"a tag has 1 to {customer_tags.MAX_TAG} characters",
                               limit=customer_tags.MAX_TAG)
        with self.r.transaction():
            current = customer_tags.read(self.r.get("customers", customer_id)["tags"])
            tags = customer_tags.toggled(current, tag)
            if len(tags) > customer_tags.MAX_TAGS:
                raise InvalidInput("too_many_tags", f"at most {customer_tags.MAX_TAGS} tags",
                                   limit=customer_tags.MAX_TAGS)
            self.r.update("customers", customer_id, {"tags": customer_tags.stored(tags)})
        return Changes.of("customers", ids=(customer_id,))

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
            "('dispatched', 'accepted', 'en_route', 'in_service', 'suspended')"
            " ORDER BY assignee = ? DESC, due_at LIMIT 1",
            [meter["customer_id"], session.username if (session := self.r.session) else ""]))
        return {"meter": meter, "customer": customer, "open_job": jobs[0] if jobs else None}

    def usage(self, customer_id: str, today: date, months: int = 24
              ) -> list[tuple[str, float | None]]:
        """Gas use by month for the chart in the 360° view (see domain/usage.py)."""
        first = last_months(today, months + 1)[0] + "-01"  # one more: the first month's start
        readings = self.r.db.query(
            "SELECT r.meter_id, r.read_at, r.value FROM readings r"
            " JOIN meters m ON m.id = r.meter_id WHERE m.customer_id = ? AND r.read_at >= ?",
            [customer_id, first])
        return monthly_usage(readings, today, months)

    def search(self, text: str, limit: int = 30) -> list[dict[str, Any]]:
        """Customers matching every word of ``text`` in their name, account number, phone,
        address or a meter's barcode or serial; exact name or account first."""
        words = text.split()
        if not words:
            return []
        where, params = [], []
        for word in words[:6]:
            like = "%" + escape_like(word) + "%"
            digits = "".join(ch for ch in word if ch.isdigit())
            digits = digits if len(digits) >= 4 else ""  # a room number is not a phone
            where.append(
                "(c.name LIKE ? ESCAPE '\\' OR c.account_no LIKE ? ESCAPE '\\'"
                " OR c.address LIKE ? ESCAPE '\\'"
                " OR (? != '' AND replace(replace(c.phone, '-', ''), ' ', '') LIKE ?)"
                " OR EXISTS (SELECT 1 FROM meters m WHERE m.customer_id = c.id"
                "  AND (m.barcode LIKE ? ESCAPE '\\' OR m.serial LIKE ? ESCAPE '\\')))")
            params += [like, like, like, digits, f"%{digits}%", like, like]
        return list(self.r.db.query(
            "SELECT c.id, c.name, c.account_no, c.phone, c.address, c.district, c.kind"
            f" FROM customers c WHERE {' AND '.join(where)}"
            " ORDER BY (c.name = ? OR c.account_no = ?) DESC, c.name, c.account_no LIMIT ?",
            [*params, text.strip(), text.strip(), limit]))


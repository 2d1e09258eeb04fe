"""客服中心's reads: finding a customer the way a caller describes them, and everything about
one customer on one page (the back office's 360° view).

A search matches the name, the account number, the phone (dashes and spaces ignored), every
word of the address, or a meter's barcode; an office account limited to a district finds
only that district's customers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fieldapp.domain import customer_tags
from sync_server.services import customer_fields, opt_outs
from sync_server.services.billing import UNPAID
from sync_server.storage.db import Connection

FOUND_AT_MOST = 50
MESSAGES = 100  # the newest messages shown on the customer's page
MIN_QUERY = 2


def search(conn: Connection, query: str, district: str | None) -> list[Any]:
    """Customers matching ``query`` (at least two characters), best matches first."""
    text = " ".join(query.split())
    if len(text) < MIN_QUERY:
        return []
    digits = re.sub(r"[\s\-()（）+]", "", text)
    like = f"%{_escaped(text)}%"
    words = [f"%{_escaped(w)}%" for w in text.split()]
    conditions = ["c.name LIKE ? ESCAPE '\\'", "c.account_no LIKE ? ESCAPE '\\'",
                  "(" + " AND ".join("c.address LIKE ? ESCAPE '\\'" for _ in words) + ")",
                  "c.id IN (SELECT customer_id FROM meters WHERE barcode LIKE ? ESCAPE '\\')"]
    params: list[Any] = [like, like, *words, f"{_escaped(text)}%"]
    if digits.isdigit() and len(digits) >= 4:
        conditions.append("c.phone LIKE ?")
        params.append(f"%{digits}%")
    sql = ("SELECT c.id, c.account_no, c.name, c.phone, c.address, c.district, c.tags"
           " FROM customers c WHERE (" + " OR ".join(conditions) + ")")
    if district:
        sql += " AND c.district = ?"
        params.append(district)
    sql += " ORDER BY (c.account_no = ?) DESC, (c.name = ?) DESC, c.name, c.account_no LIMIT ?"
    return list(conn.execute(sql, [*params, text, text, FOUND_AT_MOST]))


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def view(conn: Connection, customer_id: str) -> dict[str, Any] | None:
    """One customer's whole record, each part newest first; None when there is none."""
    customer = conn.execute("SELECT * FROM customers WHERE id = ?", [customer_id]).fetchone()
    if customer is None:
        return None

    def rows(sql: str, *params: Any) -> list[Any]:
        return list(conn.execute(sql, [customer_id, *params]))

    jobs = rows("SELECT * FROM jobs WHERE customer_id = ? ORDER BY created_at DESC, number DESC")
    history: dict[str, list[Any]] = {}
    for change in rows("SELECT * FROM job_status_history WHERE customer_id = ? ORDER BY at"):
        history.setdefault(change["job_id"], []).append(change)
    bills = rows("SELECT * FROM bills WHERE customer_id = ? ORDER BY period_end DESC LIMIT 24")
    arrears = sum(b["amount_cents"] or 0 for b in bills if b["status"] in UNPAID)
    return {
        "customer": customer,
        "meters": rows("SELECT * FROM meters WHERE customer_id = ? ORDER BY barcode"),
        "readings": rows("SELECT r.*, m.barcode FROM readings r LEFT JOIN meters m"
                         " ON m.id = r.meter_id WHERE r.customer_id = ?"
                         " ORDER BY r.read_at DESC LIMIT 24"),
        "contracts": rows("SELECT * FROM contracts WHERE customer_id = ? ORDER BY signed_on DESC"),
        "bills": bills, "arrears_cents": arrears,
        "payments": rows("SELECT * FROM payments WHERE customer_id = ?"
                         " ORDER BY paid_at DESC LIMIT 12"),
        "jobs": jobs, "history": history,
        "reports": rows("SELECT s.*, j.number FROM submissions s JOIN jobs j ON j.id = s.job_id"
                        " WHERE s.customer_id = ? ORDER BY s.started_at DESC"),
        "photos": {r["submission_id"]: r["n"] for r in rows(
            "SELECT submission_id, count(*) AS n FROM attachments WHERE customer_id = ?"
            " AND kind = 'photo' GROUP BY submission_id")},
        "hazards": rows("SELECT * FROM hazards WHERE customer_id = ? ORDER BY found_at DESC"),
        "interactions": rows("SELECT i.*, j.number FROM interactions i LEFT JOIN jobs j"
                             " ON j.id = i.job_id WHERE i.customer_id = ? ORDER BY i.at DESC"
                             " LIMIT 50"),
        "requests": rows("SELECT * FROM portal_requests WHERE customer_id = ?"
                         " ORDER BY created_at DESC LIMIT 20"),
        # Every message the customer was sent (rules, campaigns, bills, login codes: a code
        # is stored masked), with the rule or campaign that sent it.
        "messages": rows("SELECT n.*, r.name AS rule_name, k.created_at AS campaign_at"
                         " FROM notifications n LEFT JOIN rules r ON r.id = n.rule_id"
                         " LEFT JOIN campaigns k ON k.id = n.campaign_id"
                         " WHERE n.customer_id = ? ORDER BY n.id DESC LIMIT ?", MESSAGES),
        "opted_out": opt_outs.opted_out(conn, customer_id),
    }


def details(phone: str, address: str, tags: str, household_size: str,
            chips: Sequence[str] = ()) -> tuple[dict[str, Any], list[str]]:
    """A customer's contact details as typed at the desk, checked: the fields to store, and
    what is wrong in words (nothing stored then). ``chips`` are the standard tags ticked,
    ``tags`` the others as typed."""
    problems = []
    fields: dict[str, Any] = {"address": " ".join(address.split()),
                              "tags": customer_tags.stored([*chips,
                                                            *customer_fields.words(tags)])}
    try:
        fields["phone"] = customer_fields.phone(phone)
    except ValueError:
        problems.append(f"电话「{phone}」不是电话号码")
    chosen = customer_tags.read(fields["tags"])
    if len(chosen) > customer_tags.MAX_TAGS or any(len(t) > customer_tags.MAX_TAG
                                                   for t in chosen):
        problems.append(f"标签最多 {customer_tags.MAX_TAGS} 个，每个不超过"
                        f" {customer_tags.MAX_TAG} 字")
    if not fields["address"]:
        problems.append("地址不能为空")
    try:
        fields["household_size"] = customer_fields.household_size(household_size)
    except ValueError:
        problems.append("人口应是 1 到 50 的整数")
    return fields, problems

"""The events rules answer, read from the change log the sync already keeps (a job's
status, a hazard found, a reading recorded, a customer tagged) and from the clock (an
inspection due soon, a bill overdue, a day begun). Each event carries its facts: the
variables a condition compares and a message names (services/rule_book.py lists them
with their Chinese labels).

    events_of(conn, change, wanted)    # what one change-log entry means to the rules
    clock_events(conn, now)            # what the clock says now (scanned every pass)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fieldapp.domain import customer_tags
from fieldapp.domain.kinds import KIND_ZH
from fieldapp.domain.status import CLOSED, STATUS_ZH
from fieldapp.local_time import LOCAL_ZONE, as_local
from sync_server.services.appointment_links import appointment_link
from sync_server.services.rule_book import UPCOMING_DAYS
from sync_server.services.seasonal_use import same_period_daily_use
from sync_server.storage.db import Connection

MIN_DAYS = 0.5  # shorter gaps between readings say little about daily use
WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class Event:
    name: str
    subject: str  # the job, hazard or reading it is about: a rule fires once per subject
    facts: dict[str, Any]
    job_id: str | None = None
    customer_id: str | None = None
    change_seq: int | None = None


def events_of(conn: Connection, change: Any, wanted: set[str]) -> list[Event]:
    """The events of one change-log entry among those ``wanted`` (the ones some rule
    answers: an import of a million customers costs no query per customer when no rule
    looks at tags)."""
    fields = json.loads(change["fields"] or "{}") if change["op"] != "delete" else {}
    seq, tbl, record = change["seq"], change["tbl"], change["record_id"]
    found: list[Event] = []
    if tbl == "jobs" and change["op"] == "update" and fields.get("status") == "completed" \
            and "job.completed" in wanted:
        job = job_facts(conn, record)
        if job is not None:
            job["hazards"] = conn.execute("SELECT count(*) FROM hazards WHERE job_id = ?",
                                          [record]).fetchone()[0]
            found.append(Event("job.completed", record, job, record, job.pop("_customer_id"),
                               seq))
    if tbl == "jobs" and "status" in fields and "job.status" in wanted:
        found += status_event(conn, record, str(fields["status"]), seq)
    if tbl == "hazards" and change["op"] == "insert" and "hazard.found" in wanted:
        found += hazard_event(conn, record, seq)
    if tbl == "readings" and change["op"] == "insert" and "reading.recorded" in wanted:
        found += reading_event(conn, record, seq)
    if tbl == "customers" and "tags" in fields and "customer.tagged" in wanted:
        found += tag_events(conn, record, seq)
    return found


def job_facts(conn: Connection, job_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT j.number, j.kind, j.priority, j.district, j.assignee,"
                       " j.due_at, j.customer_id, c.name, c.phone, c.tags FROM jobs j"
                       " LEFT JOIN customers c ON c.id = j.customer_id WHERE j.id = ?",
                       [job_id]).fetchone()
    if row is None:
        return None
    return {"number": row["number"], "kind": row["kind"],
            "kind_name": KIND_ZH.get(row["kind"], row["kind"]),
            "priority": row["priority"], "district": row["district"],
            "assignee": row["assignee"], "customer_name": row["name"],
            "customer_phone": row["phone"], "tags": tag_words(row["tags"]),
            "_customer_id": row["customer_id"], "_due_at": row["due_at"]}


def tag_words(stored: str | None) -> str:
    """A customer's tags (a JSON list) as the space-separated words selected() reads."""
    return " ".join(customer_tags.read(stored))


def status_event(conn: Connection, job_id: str, status: str, seq: int) -> list[Event]:
    """A job reaching a status: once per job and status."""
    job = job_facts(conn, job_id)
    if job is None:
        return []
    job.pop("_due_at")
    job["status"], job["status_name"] = status, STATUS_ZH.get(status, status)
    return [Event("job.status", f"{job_id}:{status}", job, job_id, job.pop("_customer_id"),
                  seq)]


def tag_events(conn: Connection, customer_id: str, seq: int) -> list[Event]:
    """A customer carrying a tag: once per customer and tag, so a tag given fires once."""
    row = conn.execute("SELECT name, phone, district, household_size, tags FROM customers"
                       " WHERE id = ?", [customer_id]).fetchone()
    if row is None:
        return []
    words = tag_words(row["tags"])
    facts = {"customer_name": row["name"], "customer_phone": row["phone"],
             "district": row["district"], "household_size": row["household_size"],
             "tags": words}
    return [Event("customer.tagged", f"{customer_id}:{tag}", {**facts, "tag": tag}, None,
                  customer_id, seq) for tag in words.split()]


def hazard_event(conn: Connection, hazard_id: str, seq: int) -> list[Event]:
    hazard = conn.execute("SELECT * FROM hazards WHERE id = ?", [hazard_id]).fetchone()
    if hazard is None:
        return []
    job = job_facts(conn, hazard["job_id"]) or {}
    check = conn.execute("SELECT number FROM jobs WHERE id = ?",
                         [hazard["check_job_id"] or ""]).fetchone()
    facts = {**job, "level": hazard["level"], "label": hazard["label"],
             "due_date": _date(hazard["due_at"]), "check_number": check[0] if check else None}
    facts.pop("_due_at", None)
    customer = facts.pop("_customer_id", hazard["customer_id"])
    return [Event("hazard.found", hazard_id, facts, hazard["job_id"], customer, seq)]


def reading_event(conn: Connection, reading_id: str, seq: int) -> list[Event]:
    reading = conn.execute("SELECT * FROM readings WHERE id = ?", [reading_id]).fetchone()
    if reading is None or reading["value"] is None:
        return []
    earlier = conn.execute("SELECT value, read_at FROM readings WHERE meter_id = ? AND id != ?"
                           " AND value IS NOT NULL AND read_at < ? ORDER BY read_at DESC"
                           " LIMIT 6", [reading["meter_id"], reading_id,
                                        reading["read_at"]]).fetchall()
    customer = conn.execute("SELECT name, phone, district, household_size, tags FROM customers"
                            " WHERE id = ?", [reading["customer_id"]]).fetchone()
    facts: dict[str, Any] = {"value": reading["value"], "previous": None, "days": None,
                             "daily_use": None, "usual_daily_use": None, "ratio": None,
                             "same_period_daily_use": None, "expected_daily_use": None,
                             "expected_ratio": None, "excess_daily_use": None,
                             "per_person_daily_use": None,
                             "household_size": customer["household_size"] if customer else None,
                             "customer_name": customer["name"] if customer else None,
                             "customer_phone": customer["phone"] if customer else None,
                             "district": customer["district"] if customer else None,
                             "tags": tag_words(customer["tags"]) if customer else ""}
    if earlier:
        days = _days(earlier[0]["read_at"], reading["read_at"])
        facts["previous"] = earlier[0]["value"]
        facts["days"] = round(days, 1)
        if days >= MIN_DAYS:
            facts["daily_use"] = round((reading["value"] - earlier[0]["value"]) / days, 2)
    if len(earlier) >= 2:
        span = _days(earlier[-1]["read_at"], earlier[0]["read_at"])
        if span >= MIN_DAYS:
            facts["usual_daily_use"] = round(
                (earlier[0]["value"] - earlier[-1]["value"]) / span, 2)
    if facts["daily_use"] is not None and facts["usual_daily_use"]:
        facts["ratio"] = round(facts["daily_use"] / facts["usual_daily_use"], 2)
    if earlier and facts["daily_use"] is not None:
        facts["same_period_daily_use"] = same_period_daily_use(
            conn, reading["meter_id"], earlier[0]["read_at"], reading["read_at"])
        # The same days of earlier years when the meter has them (the season's own use),
        # else the readings before (a new meter's only history).
        expected = facts["same_period_daily_use"] or facts["usual_daily_use"]
        facts["expected_daily_use"] = expected
        if expected:
            facts["expected_ratio"] = round(facts["daily_use"] / expected, 2)
            facts["excess_daily_use"] = round(facts["daily_use"] - expected, 2)
        if facts["household_size"]:
            facts["per_person_daily_use"] = round(
                facts["daily_use"] / facts["household_size"], 2)
    return [Event("reading.recorded", reading_id, facts, None, reading["customer_id"], seq)]


def clock_events(conn: Connection, now: datetime, wanted: set[str],
                 links: bool = True) -> list[Event]:
    """The clock's events of the kinds ``wanted`` (those some rule answers): scanning
    bills or inspections no rule looks at would cost a query each for nothing. Without
    ``links`` (a preview), no reschedule link is signed."""
    found: list[Event] = []
    if "inspection.upcoming" in wanted:
        found += upcoming(conn, now, links)
    if "bill.overdue" in wanted:
        found += overdue_bills(conn, now)
    if "date.reached" in wanted:
        day = now.astimezone(LOCAL_ZONE).date()
        found.append(Event("date.reached", day.isoformat(), {
            "date": f"{day:%m-%d}", "month": day.month, "day": day.day,
            "weekday": day.isoweekday(), "weekday_name": f"星期{WEEKDAYS[day.weekday()]}"}))
    return found


def overdue_bills(conn: Connection, now: datetime) -> list[Event]:
    """Bills unpaid past their due day, once each."""
    today = now.astimezone(LOCAL_ZONE).date()
    rows = conn.execute(
        "SELECT b.id, b.customer_id, b.amount_cents, b.due_on, b.period_start, b.period_end,"
        " c.name, c.phone, c.district, c.tags FROM bills b JOIN customers c"
        " ON c.id = b.customer_id WHERE b.status = 'unpaid' AND b.due_on < ?"
        " ORDER BY b.due_on, b.id", [today.isoformat()]).fetchall()
    events = []
    for row in rows:
        try:
            due = datetime.fromisoformat(str(row["due_on"])[:10]).date()
        except ValueError:
            continue
        events.append(Event("bill.overdue", row["id"], {
            "customer_name": row["name"], "customer_phone": row["phone"],
            "district": row["district"], "tags": tag_words(row["tags"]),
            "amount": round(row["amount_cents"] / 100, 2), "due_date": due.isoformat(),
            "days_overdue": (today - due).days,
            "period": f"{str(row['period_start'] or '')[:10]} 至 "
                      f"{str(row['period_end'] or '')[:10]}"}, None, row["customer_id"]))
    return events


def upcoming(conn: Connection, now: datetime, links: bool = True) -> list[Event]:
    """Inspections due within the week that are not done yet (the clock's event)."""
    horizon = (now + timedelta(days=UPCOMING_DAYS)).isoformat(timespec="seconds")
    closed = sorted(str(s) for s in CLOSED)
    rows = conn.execute("SELECT id FROM jobs WHERE kind = 'inspection' AND due_at <= ?"
                        f" AND status NOT IN ({', '.join('?' * len(closed))})",
                        [horizon, *closed]).fetchall()
    events = []
    for row in rows:
        facts = job_facts(conn, row["id"])
        if facts is None:
            continue
        due = as_local(facts.pop("_due_at"))
        if due is None or due < now:
            continue
        facts["days_left"] = (due.astimezone(LOCAL_ZONE).date()
                              - now.astimezone(LOCAL_ZONE).date()).days
        facts["due_date"] = f"{due.astimezone(LOCAL_ZONE):%m月%d日}"
        facts["reschedule_link"] = appointment_link(
            conn, row["id"], facts["_customer_id"], due, now) if links else "（改约链接）"
        events.append(Event("inspection.upcoming", row["id"], facts, row["id"],
                            facts.pop("_customer_id")))
    return events


def _days(earlier: str, later: str) -> float:
    a, b = as_local(earlier), as_local(later)
    return (b - a).total_seconds() / 86400 if a and b else 0.0


def _date(value: str | None) -> str | None:
    moment = as_local(value)
    return f"{moment.astimezone(LOCAL_ZONE):%Y-%m-%d}" if moment else None

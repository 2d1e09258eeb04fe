"""The rules engine: event → condition → action, over the rules kept as data
(services/rule_book.py: the events, the actions, the defaults and the checks of an edit).

    process(conn, now, clock)          # fire the rules for what happened since last time

Events come from the change log the sync already keeps (a job completed, a hazard found, a
reading recorded) and from the clock (an inspection due soon). The engine reads the log
from its cursor and stores the cursor in the same transaction as what the rules did, so a
crash or restart neither loses an event nor runs one twice; each rule fires at most once per
subject (``rule_firings``), which also makes the clock's events safe to scan every minute.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fieldapp.domain.kinds import KIND_ZH
from fieldapp.domain.roles import SYSTEM as ROLE_SYSTEM
from fieldapp.domain.status import CLOSED
from fieldapp.forms import values as v
from fieldapp.forms.expr import ExpressionError, parse
from fieldapp.ids import new_id
from fieldapp.local_time import LOCAL_ZONE, as_local
from sync_server.clock import ServerClock
from sync_server.services import alerts, dispatch
from sync_server.services.appointment_links import appointment_link
from sync_server.services.auth import Principal
from sync_server.services.phones import masked_phone
from sync_server.services.records import utility_name
from sync_server.services.rule_book import UPCOMING_DAYS, Rule, all_rules
from sync_server.services.seasonal_use import same_period_daily_use
from sync_server.storage import server_state
from sync_server.storage.db import Connection
from sync_server.storage.server_state import RULES_CURSOR

SYSTEM = Principal("system", "规则引擎", ROLE_SYSTEM, None, "server")
BATCH = 500  # change-log entries per pass
MIN_DAYS = 0.5  # shorter gaps between readings say little about daily use


@dataclass(frozen=True)
class Event:
    name: str
    subject: str  # the job, hazard or reading it is about: a rule fires once per subject
    facts: dict[str, Any]
    job_id: str | None = None
    customer_id: str | None = None
    change_seq: int | None = None


# -- running them ---------------------------------------------------------------------------


def process(conn: Connection, now: datetime, clock: ServerClock) -> int:
    """Fire the enabled rules for the logged changes since the cursor and for inspections
    coming up; returns how many rules fired."""
    rules: dict[str, list[Rule]] = {}
    for rule in all_rules(conn):
        if rule.enabled:
            rules.setdefault(rule.event, []).append(rule)
    cursor = int(server_state.read(conn, RULES_CURSOR) or 0)
    fired = 0
    changes = conn.execute(
        "SELECT seq, tbl, record_id, op, fields FROM changes WHERE seq > ?"
        " AND tbl IN ('jobs', 'hazards', 'readings') ORDER BY seq LIMIT ?",
        [cursor, BATCH]).fetchall()
    for change in changes:
        for event in _events_of(conn, change):
            fired += _fire_all(conn, rules.get(event.name, []), event, now, clock)
        cursor = change["seq"]
    for event in _upcoming(conn, now):
        fired += _fire_all(conn, rules.get(event.name, []), event, now, clock)
    server_state.write(conn, RULES_CURSOR, str(cursor))
    return fired


def _fire_all(conn: Connection, rules: list[Rule], event: Event, now: datetime,
              clock: ServerClock) -> int:
    fired = 0
    for rule in rules:
        seen = conn.execute("SELECT 1 FROM rule_firings WHERE rule_id = ? AND subject = ?",
                            [rule.id, event.subject]).fetchone()
        if seen:
            continue
        try:
            holds = not rule.condition.strip() or v.truthy(
                parse(rule.condition).evaluate(_Facts(event.facts, now)))
        except ExpressionError as exc:  # saved before the checks existed, or hand-edited
            holds, outcome = False, f"条件有误，未执行：{exc.problem}"
        else:
            outcome = _ACTIONS[rule.action](conn, rule, event, now, clock) if holds \
                else "条件不满足"
        conn.execute("INSERT INTO rule_firings(rule_id, event, subject, change_seq, at, fired,"
                     " outcome) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [rule.id, event.name, event.subject, event.change_seq,
                      now.isoformat(timespec="seconds"), int(holds), outcome])
        fired += holds
    return fired


class _Facts:
    """What a condition can read: the event's variables, and today."""

    def __init__(self, facts: Mapping[str, Any], now: datetime) -> None:
        self.facts, self.moment = facts, now.astimezone(LOCAL_ZONE)

    def ref(self, name: str) -> Any:
        return self.facts.get(name)

    def current(self) -> Any:
        return None

    def attr(self, name: str) -> Any:
        return None

    def today(self) -> str:
        return self.moment.date().isoformat()

    def now(self) -> str:
        return self.moment.isoformat(timespec="seconds")

    def lookup(self, table: str, column: str, key_column: str, key: str) -> Any:
        return ""  # a rule has no form, so no attached tables


# -- events ---------------------------------------------------------------------------------


def _events_of(conn: Connection, change: Any) -> list[Event]:
    fields = json.loads(change["fields"] or "{}") if change["op"] != "delete" else {}
    seq = change["seq"]
    if change["tbl"] == "jobs" and change["op"] == "update" and \
            fields.get("status") == "completed":
        job = _job_facts(conn, change["record_id"])
        if job is None:
            return []
        job["hazards"] = conn.execute("SELECT count(*) FROM hazards WHERE job_id = ?",
                                      [change["record_id"]]).fetchone()[0]
        return [Event("job.completed", change["record_id"], job, change["record_id"],
                      job.pop("_customer_id"), seq)]
    if change["tbl"] == "hazards" and change["op"] == "insert":
        return _hazard_event(conn, change["record_id"], seq)
    if change["tbl"] == "readings" and change["op"] == "insert":
        return _reading_event(conn, change["record_id"], seq)
    return []


def _job_facts(conn: Connection, job_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT j.number, j.kind, j.priority, j.district, j.assignee,"
                       " j.due_at, j.customer_id, c.name, c.phone FROM jobs j"
                       " LEFT JOIN customers c ON c.id = j.customer_id WHERE j.id = ?",
                       [job_id]).fetchone()
    if row is None:
        return None
    return {"number": row["number"], "kind": row["kind"],
            "kind_name": KIND_ZH.get(row["kind"], row["kind"]),
            "priority": row["priority"], "district": row["district"],
            "assignee": row["assignee"], "customer_name": row["name"],
            "customer_phone": row["phone"], "_customer_id": row["customer_id"],
            "_due_at": row["due_at"]}


def _hazard_event(conn: Connection, hazard_id: str, seq: int) -> list[Event]:
    hazard = conn.execute("SELECT * FROM hazards WHERE id = ?", [hazard_id]).fetchone()
    if hazard is None:
        return []
    job = _job_facts(conn, hazard["job_id"]) or {}
    check = conn.execute("SELECT number FROM jobs WHERE id = ?",
                         [hazard["check_job_id"] or ""]).fetchone()
    facts = {**job, "level": hazard["level"], "label": hazard["label"],
             "due_date": _date(hazard["due_at"]), "check_number": check[0] if check else None}
    facts.pop("_due_at", None)
    customer = facts.pop("_customer_id", hazard["customer_id"])
    return [Event("hazard.found", hazard_id, facts, hazard["job_id"], customer, seq)]


def _reading_event(conn: Connection, reading_id: str, seq: int) -> list[Event]:
    reading = conn.execute("SELECT * FROM readings WHERE id = ?", [reading_id]).fetchone()
    if reading is None or reading["value"] is None:
        return []
    earlier = conn.execute("SELECT value, read_at FROM readings WHERE meter_id = ? AND id != ?"
                           " AND value IS NOT NULL AND read_at < ? ORDER BY read_at DESC"
                           " LIMIT 6", [reading["meter_id"], reading_id,
                                        reading["read_at"]]).fetchall()
    customer = conn.execute("SELECT name, phone, district, household_size FROM customers"
                            " WHERE id = ?", [reading["customer_id"]]).fetchone()
    facts: dict[str, Any] = {"value": reading["value"], "previous": None, "days": None,
                             "daily_use": None, "usual_daily_use": None, "ratio": None,
                             "same_period_daily_use": None, "expected_daily_use": None,
                             "expected_ratio": None, "excess_daily_use": None,
                             "per_person_daily_use": None,
                             "household_size": customer["household_size"] if customer else None,
                             "customer_name": customer["name"] if customer else None,
                             "customer_phone": customer["phone"] if customer else None,
                             "district": customer["district"] if customer else None}
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


def _upcoming(conn: Connection, now: datetime) -> list[Event]:
    """Inspections due within the week that are not done yet (the clock's event)."""
    horizon = (now + timedelta(days=UPCOMING_DAYS)).isoformat(timespec="seconds")
    closed = sorted(str(s) for s in CLOSED)
    rows = conn.execute("SELECT id FROM jobs WHERE kind = 'inspection' AND due_at <= ?"
                        f" AND status NOT IN ({', '.join('?' * len(closed))})",
                        [horizon, *closed]).fetchall()
    events = []
    for row in rows:
        facts = _job_facts(conn, row["id"])
        if facts is None:
            continue
        due = as_local(facts.pop("_due_at"))
        if due is None or due < now:
            continue
        facts["days_left"] = (due.astimezone(LOCAL_ZONE).date()
                              - now.astimezone(LOCAL_ZONE).date()).days
        facts["due_date"] = f"{due.astimezone(LOCAL_ZONE):%m月%d日}"
        facts["reschedule_link"] = appointment_link(conn, row["id"], facts["_customer_id"],
                                                    due, now)
        events.append(Event("inspection.upcoming", row["id"], facts, row["id"],
                            facts.pop("_customer_id")))
    return events


# -- actions --------------------------------------------------------------------------------


def _text(conn: Connection, rule: Rule, event: Event) -> str:
    facts = {k: ("" if val is None else val) for k, val in event.facts.items()
             if not k.startswith("_")}
    facts["utility"] = utility_name(conn)
    return str(rule.params.get("text") or "").format_map(_Blank(facts))


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def _notify(conn: Connection, rule: Rule, event: Event, now: datetime,
            clock: ServerClock) -> str:
    phone = event.facts.get("customer_phone")
    if not phone:
        return "客户没有电话，未发送"
    text = _text(conn, rule, event)
    conn.execute("INSERT INTO notifications(channel, recipient, text, customer_id, job_id,"
                 " rule_id, created_at) VALUES ('sms', ?, ?, ?, ?, ?, ?)",
                 [phone, text, event.customer_id, event.job_id, rule.id,
                  now.isoformat(timespec="seconds")])
    return f"短信待发送：{masked_phone(phone)}"


def _follow_up(conn: Connection, rule: Rule, event: Event, now: datetime,
               clock: ServerClock) -> str:
    due = now + timedelta(hours=float(rule.params.get("hours") or 24))
    title = f"回访 {event.facts.get('customer_name') or ''}（工单 {event.facts.get('number')}）"
    conn.execute("INSERT INTO tasks(kind, job_id, customer_id, title, due_at, created_at,"
                 " rule_id) VALUES ('follow_up_call', ?, ?, ?, ?, ?, ?)",
                 [event.job_id, event.customer_id, title, due.isoformat(timespec="seconds"),
                  now.isoformat(timespec="seconds"), rule.id])
    return f"已生成回访任务，期限 {due.astimezone(LOCAL_ZONE):%m-%d %H:%M}"


def _alert(conn: Connection, rule: Rule, event: Event, now: datetime,
           clock: ServerClock) -> str:
    text = f"{rule.name}：{_text(conn, rule, event)}"
    alerts.raise_alert(conn, "rule", f"{rule.id}:{event.subject}",
                       now.isoformat(timespec="seconds"), text,
                       job_id=event.job_id, customer_id=event.customer_id)
    return "已提醒主管"


def _rectification_check(conn: Connection, rule: Rule, event: Event, now: datetime,
                         clock: ServerClock) -> str:
    """A hazard always has its check job: the tablet creates it offline; one that arrives
    without (an older app) gets one here, for the same technician at the deadline."""
    hazard = conn.execute("SELECT * FROM hazards WHERE id = ?", [event.subject]).fetchone()
    if hazard is None:
        return "隐患记录已不存在"
    if hazard["check_job_id"] and conn.execute("SELECT 1 FROM jobs WHERE id = ?",
                                               [hazard["check_job_id"]]).fetchone():
        return f"已有整改复查工单 {event.facts.get('check_number')}"
    found = conn.execute("SELECT * FROM jobs WHERE id = ?", [hazard["job_id"]]).fetchone()
    if found is None:
        return "找不到发现隐患的工单"
    job_id = new_id()
    dispatch.write(conn, SYSTEM, clock, "jobs", job_id, "insert", {
        "number": f"ZG{found['number'][2:]}-R", "kind": "rectification_check",
        "priority": 2, "customer_id": found["customer_id"], "district": found["district"],
        "due_at": hazard["due_at"], "assignee": found["assignee"],
        "required_skill": "inspection",
        "status": "dispatched" if found["assignee"] else "pending", "route_order": None,
        "summary": f"隐患整改复查：{hazard['label']}", "created_at": now.isoformat(
            timespec="seconds")})
    dispatch.write(conn, SYSTEM, clock, "hazards", hazard["id"], "update",
                   {"check_job_id": job_id}, old={"check_job_id": hazard["check_job_id"]},
                   base_version=hazard["version"])
    return "已补建整改复查工单"


_ACTIONS: dict[str, Callable[[Connection, Rule, Event, datetime, ServerClock], str]] = {
    "notify_customer": _notify, "follow_up_task": _follow_up, "alert": _alert,
    "rectification_check": _rectification_check,
}


# -- small helpers --------------------------------------------------------------------------


def _days(earlier: str, later: str) -> float:
    a, b = as_local(earlier), as_local(later)
    return (b - a).total_seconds() / 86400 if a and b else 0.0


def _date(value: str | None) -> str | None:
    moment = as_local(value)
    return f"{moment.astimezone(LOCAL_ZONE):%Y-%m-%d}" if moment else None

"""The rules engine: event → condition → action, over the rules kept as data
(services/rule_book.py: the events, the actions, the defaults and the checks of an edit;
rule_events.py the events, rule_actions.py what the actions do).

    process(conn, now, clock)          # fire the rules for what happened since last time
    preview(conn, event, condition, now)   # what a rule would match today, firing nothing

Events come from the change log the sync already keeps (a job's status, a hazard found, a
reading recorded, a customer tagged) and from the clock (an inspection due soon, a bill
overdue, a day begun). The engine reads the log from its cursor and stores the cursor in
the same transaction as what the rules did, so a crash or restart neither loses an event
nor runs one twice; each rule fires at most once per subject (``rule_firings``), which also
makes the clock's events safe to scan every minute, and at most its daily limit of times
a day: what comes after is recorded as not done, and the supervisors are told once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fieldapp.forms import values as v
from fieldapp.forms.expr import ExpressionError, parse
from fieldapp.local_time import LOCAL_ZONE, as_local
from sync_server.clock import ServerClock
from sync_server.services import alerts
from sync_server.services.rule_actions import ACTIONS, SYSTEM
from sync_server.services.rule_book import CLOCK_EVENTS, Rule, all_rules, daily_limit
from sync_server.services.rule_events import Event, clock_events, events_of
from sync_server.storage import server_state
from sync_server.storage.db import Connection
from sync_server.storage.server_state import RULES_CURSOR

__all__ = ["SYSTEM", "Event", "process", "preview"]
BATCH = 500  # change-log entries per pass
PREVIEW_DAYS = 1  # a preview replays the change log of the last day
PREVIEW_SHOWN = 20
PREVIEW_CHANGES = 20_000  # at most this many of the latest changes are replayed


# -- running them ---------------------------------------------------------------------------


def process(conn: Connection, now: datetime, clock: ServerClock) -> int:
    """Fire the enabled rules for the logged changes since the cursor and for what the
    clock says; returns how many rules fired."""
    rules: dict[str, list[Rule]] = {}
    for rule in all_rules(conn):
        if rule.enabled:
            rules.setdefault(rule.event, []).append(rule)
    cursor = int(server_state.read(conn, RULES_CURSOR) or 0)
    fired = 0
    changes = conn.execute(
        "SELECT seq, tbl, record_id, op, fields FROM changes WHERE seq > ?"
        " AND tbl IN ('jobs', 'hazards', 'readings', 'customers') ORDER BY seq LIMIT ?",
        [cursor, BATCH]).fetchall()
    wanted = set(rules)
    for change in changes:
        for event in events_of(conn, change, wanted):
            fired += _fire_all(conn, rules.get(event.name, []), event, now, clock)
        cursor = change["seq"]
    for event in clock_events(conn, now, wanted & CLOCK_EVENTS):
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
            holds = matches(rule.condition, event, now)
        except ExpressionError as exc:  # saved before the checks existed, or hand-edited
            holds, outcome = False, f"条件有误，未执行：{exc.problem}"
        else:
            if holds and _fired_today(conn, rule, now) >= daily_limit(rule):
                holds, outcome = False, _over_limit(conn, rule, event, now)
            elif holds:
                outcome = ACTIONS[rule.action](conn, rule, event, now, clock)
            else:
                outcome = "条件不满足"
        conn.execute("INSERT INTO rule_firings(rule_id, event, subject, change_seq, at, fired,"
                     " outcome) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [rule.id, event.name, event.subject, event.change_seq,
                      now.isoformat(timespec="seconds"), int(holds), outcome])
        fired += holds
    return fired


def matches(condition: str, event: Event, now: datetime) -> bool:
    """Whether ``condition`` holds for the event (an empty one always does)."""
    return not condition.strip() or v.truthy(
        parse(condition).evaluate(_Facts(event.facts, now)))


def _fired_today(conn: Connection, rule: Rule, now: datetime) -> int:
    midnight = now.astimezone(LOCAL_ZONE).replace(hour=0, minute=0, second=0, microsecond=0)
    return int(conn.execute("SELECT count(*) FROM rule_firings WHERE rule_id = ? AND fired = 1"
                            " AND at >= ?", [rule.id, midnight.isoformat(timespec="seconds")]
                            ).fetchone()[0])


def _over_limit(conn: Connection, rule: Rule, event: Event, now: datetime) -> str:
    """A rule past its day's limit does nothing more today; the supervisors hear of it once
    a day (the alert's key), and each subject left undone says so in its record."""
    limit = daily_limit(rule)
    day = now.astimezone(LOCAL_ZONE).date().isoformat()
    alerts.raise_alert(conn, "rule", f"{rule.id}:limit:{day}",
                       now.isoformat(timespec="seconds"),
                       f"规则“{rule.name}”今天已执行 {limit} 次，达到每日上限，其余未执行。"
                       "请检查规则条件是否过宽，或在规则页调高上限。")
    return f"已达每日上限 {limit} 次，未执行"


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


# -- preview --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    matched: int
    looked_at: int
    examples: list[dict[str, Any]]  # the first matches' facts, for the office to show
    problem: str | None = None


def preview(conn: Connection, event_name: str, condition: str, now: datetime) -> Preview:
    """What a rule on ``event_name`` with ``condition`` would match today: the clock's
    events as they stand, and the logged changes of the last day replayed. Nothing is
    written (no firing, no link signed), so a rule can be tried before it is switched on."""
    if event_name in CLOCK_EVENTS:
        events = clock_events(conn, now, {event_name}, links=False)
    else:
        # The log's times are written by several writers in their own offsets, so the
        # last entries are read and their times compared as moments.
        since = now - timedelta(days=PREVIEW_DAYS)
        changes = conn.execute(
            "SELECT seq, tbl, record_id, op, fields, at FROM changes"
            " WHERE tbl IN ('jobs', 'hazards', 'readings', 'customers')"
            " ORDER BY seq DESC LIMIT ?", [PREVIEW_CHANGES]).fetchall()
        recent = [c for c in reversed(changes) if (m := as_local(c["at"])) and m >= since]
        events = [e for c in recent for e in events_of(conn, c, {event_name})]
    matched: list[Event] = []
    try:
        for event in events:
            if matches(condition, event, now):
                matched.append(event)
    except ExpressionError as exc:
        return Preview(0, len(events), [], f"条件无法计算：{exc.problem}")
    shown = [{k: val for k, val in e.facts.items() if not k.startswith("_")}
             for e in matched[:PREVIEW_SHOWN]]
    return Preview(len(matched), len(events), shown)

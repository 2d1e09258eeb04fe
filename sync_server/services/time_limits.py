"""超时预警: how long each step of a job may take, per job kind × priority, and the jobs past it.

    limits(conn)                          # {(kind, priority): {step: minutes}}
    check(values)                         # the problems of one kind × priority, in Chinese
    save(conn, who, kind, priority, values, now)
    breaches(conn, now, accept_within)    # the open jobs past a step's limit

A step runs from its start to its end, as the job's history records them:

    dispatch    created → dispatched        accept     dispatched (last) → accepted
    arrive      accepted → in service       complete   created → completed
    follow_up   completed → followed up

A step without a limit is not watched, except accepting, which falls back to the server's
``--accept-within`` (two hours by default), so a server whose utility set nothing alerts as it
always did. The shipped limits (installed once, at the first start) are for emergencies and
urgent jobs, which must not wait two hours as a meter read may.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fieldapp.domain.kinds import KIND_ZH, KINDS, PRIORITIES, PRIORITY_ZH
from fieldapp.local_time import as_local
from sync_server.services import audit
from sync_server.services.auth import Principal
from sync_server.storage import server_state
from sync_server.storage.db import Connection

STEPS = ("dispatch", "accept", "arrive", "complete", "follow_up")
STEP_ZH = {"dispatch": "派单", "accept": "接单", "arrive": "到场", "complete": "完工",
           "follow_up": "回访"}
# The alert each step's breach raises (not_accepted is the alert the server always raised).
ALERT_KIND = {"dispatch": "not_dispatched", "accept": "not_accepted", "arrive": "not_arrived",
              "complete": "not_completed", "follow_up": "not_followed_up"}
KIND_ZH_OF_ALERT = {"not_dispatched": "超时未派单", "not_accepted": "超时未接单",
                    "not_arrived": "超时未到场", "not_completed": "超时未完工",
                    "not_followed_up": "超时未回访"}
LONGEST = 30 * 24 * 60  # a month, in minutes: beyond it a limit is a typing slip
# 抢修: a leak is dispatched and accepted within minutes and reached within half an hour.
SHIPPED: dict[int, dict[str, int]] = {
    1: {"dispatch": 5, "accept": 5, "arrive": 30, "complete": 240},
    2: {"dispatch": 30, "accept": 30, "arrive": 120, "complete": 1440}}
INSTALLED = "time_limits.installed"


@dataclass(frozen=True)
class Breach:
    job_id: str
    number: str
    step: str
    started: datetime
    minutes: float  # the limit
    assignee: str | None
    assignee_name: str | None
    kind: str
    priority: int


def install_defaults(conn: Connection) -> None:
    """The shipped limits, once: a limit an admin later removed does not come back."""
    if server_state.read(conn, INSTALLED):
        return
    for priority, steps in SHIPPED.items():
        for kind in KINDS:
            for step, minutes in steps.items():
                conn.execute("INSERT INTO time_limits(kind, priority, step, minutes)"
                             " VALUES (?, ?, ?, ?) ON CONFLICT (kind, priority, step)"
                             " DO NOTHING", [kind, priority, step, minutes])
    server_state.write(conn, INSTALLED, "1")


def limits(conn: Connection) -> dict[tuple[str, int], dict[str, int]]:
    out: dict[tuple[str, int], dict[str, int]] = {}
    for kind, priority, step, minutes in conn.execute(
            "SELECT kind, priority, step, minutes FROM time_limits").fetchall():
        out.setdefault((kind, int(priority)), {})[step] = int(minutes)
    return out


def parse(values: Mapping[str, str]) -> tuple[dict[str, int | None], list[str]]:
    """Typed minutes by step (blank: no limit) and the problems of what cannot be read."""
    out: dict[str, int | None] = {}
    problems = []
    for step in STEPS:
        text = (values.get(step) or "").strip()
        if not text:
            out[step] = None
        elif not text.isdecimal() or not text.isascii():
            problems.append(f"{STEP_ZH[step]}时限应为分钟数（整数），不是“{text[:20]}”")
        else:
            out[step] = int(text)
    return out, problems


def check(values: Mapping[str, int | None]) -> list[str]:
    """What makes no sense: a limit of zero or less, more than a month, or the steps before
    completing adding up to more than completing may take (all run from the job's start)."""
    problems = []
    for step in STEPS:
        minutes = values.get(step)
        if minutes is None:
            continue
        if minutes <= 0:
            problems.append(f"{STEP_ZH[step]}时限应大于 0 分钟")
        elif minutes > LONGEST:
            problems.append(f"{STEP_ZH[step]}时限超过 30 天（{minutes} 分钟），请检查")
    complete = values.get("complete")
    if complete and not problems:
        total = 0
        for step in ("dispatch", "accept", "arrive"):
            total += values.get(step) or 0
            if total > complete:
                problems.append(f"派单到{STEP_ZH[step]}共 {total} 分钟，已超过完工时限"
                                f" {complete} 分钟：{STEP_ZH[step]}不能晚于完工")
                break
    return problems


def save(conn: Connection, who: Principal, kind: str, priority: int,
         values: Mapping[str, int | None], now: datetime) -> list[str]:
    """Replace one kind × priority's limits, audited; the problems instead when there are."""
    if kind not in KINDS or priority not in PRIORITIES:
        return [f"没有工单类型 {kind} / 优先级 {priority}"]
    problems = check(values)
    if problems:
        return problems
    before = limits(conn).get((kind, priority), {})
    after = {step: m for step, m in values.items() if m is not None and step in STEPS}
    if before == after:
        return []
    conn.execute("DELETE FROM time_limits WHERE kind = ? AND priority = ?", [kind, priority])
    stamp = now.isoformat(timespec="seconds")
    for step, minutes in after.items():
        conn.execute("INSERT INTO time_limits(kind, priority, step, minutes, updated_by,"
                     " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                     [kind, priority, step, minutes, who.username, stamp])
    audit.security_event(conn, who, "time_limits_changed", f"{kind}/{priority}",
                         {"before": before, "after": after})
    return []


def label(kind: str, priority: int) -> str:
    return f"{KIND_ZH.get(kind, kind)}·{PRIORITY_ZH.get(priority, str(priority))}"


def duration_zh(minutes: float) -> str:
    return f"{minutes:.0f} 分钟" if minutes < 120 else f"{minutes / 60:.1f} 小时"


# Each open job with the moments its steps started and ended (None: not yet).
_JOBS = """
SELECT j.id, j.number, j.kind, j.priority, j.status, j.assignee, u.display_name,
       j.created_at,
       (SELECT max(at) FROM dispatch_log d WHERE d.job_id = j.id) AS sent,
       (SELECT max(at) FROM job_status_history h WHERE h.job_id = j.id
         AND h.to_status = 'dispatched') AS dispatched,
       (SELECT max(at) FROM job_status_history h WHERE h.job_id = j.id
         AND h.to_status = 'accepted') AS accepted,
       (SELECT max(at) FROM job_status_history h WHERE h.job_id = j.id
         AND h.to_status = 'completed') AS completed,
       (SELECT max(at) FROM job_status_history h WHERE h.job_id = j.id
         AND h.to_status = 'returned') AS returned,
       {raised}
FROM jobs j LEFT JOIN users u ON u.username = j.assignee
WHERE j.status IN ({statuses})
"""
# The steps watched in each status, and where each starts.
WATCHED = {"pending": ("dispatch", "complete"), "dispatched": ("accept", "complete"),
           "accepted": ("arrive", "complete"), "en_route": ("arrive", "complete"),
           "in_service": ("complete",), "completed": ("follow_up",),
           # Handed back (退单): to be dispatched again, from when it came back. On hold
           # (挂起, waiting for parts or the customer): no step runs until it is resumed.
           "returned": ("dispatch", "complete"), "suspended": ()}


def breaches(conn: Connection, now: datetime, accept_within: timedelta) -> list[Breach]:
    """The open jobs past a step's limit by ``now`` whose alert for it is not raised yet."""
    table = limits(conn)
    statuses = [s for s in WATCHED
                if s != "completed" or any("follow_up" in v for v in table.values())]
    raised = ", ".join(f"EXISTS (SELECT 1 FROM alerts a WHERE a.subject = j.id AND a.kind"
                       f" = '{kind}') AS raised_{step}" for step, kind in ALERT_KIND.items())
    rows = conn.execute(_JOBS.format(statuses=", ".join("?" * len(statuses)), raised=raised),
                        statuses).fetchall()
    out = []
    for row in rows:
        job: dict[str, Any] = dict(row)
        mine = table.get((job["kind"], int(job["priority"] or 3)), {})
        for step in WATCHED[job["status"]]:
            if job[f"raised_{step}"]:
                continue
            minutes: float | None = mine.get(step)
            if minutes is None and step == "accept":
                minutes = accept_within.total_seconds() / 60
            started = as_local(_start(job, step))
            if minutes is None or started is None:
                continue
            if now - started >= timedelta(minutes=minutes):
                out.append(Breach(job["id"], job["number"], step, started, minutes,
                                  job["assignee"], job["display_name"], job["kind"],
                                  int(job["priority"] or 3)))
    return out


def _start(job: Mapping[str, Any], step: str) -> str | None:
    if step == "dispatch":
        at = (job["returned"] if job["status"] == "returned" else None) or job["created_at"]
    elif step == "complete":
        at = job["created_at"]
    elif step == "accept":
        at = job["sent"] or job["dispatched"] or job["created_at"]
    elif step == "arrive":
        at = job["accepted"]
    else:  # follow_up
        at = job["completed"]
    return str(at) if at else None

"""Alerts for the supervisor: a job past a step's time limit (time_limits.py), a job past its
deadline.

    scan(conn, now)                     # raise what is due; each alert once per job and kind
    open_alerts(conn)                   # the list, newest first
    acknowledge(conn, alert_id, who)

Alerts are derived from the jobs as they stand, so a scan after a restart raises whatever
came due while the server was down, and the ``(kind, subject)`` key keeps two processes from
raising the same one twice. The server scans once a minute (app.py) and when the alert page
is opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fieldapp.domain.status import CLOSED
from fieldapp.local_time import LOCAL_ZONE, as_local
from sync_server.services import escalation, time_limits
from sync_server.services.auth import Principal
from sync_server.storage.db import Connection

ACCEPT_WITHIN = timedelta(hours=2)  # DOMAIN.md: not accepted within 2 h → the supervisor
KIND_ZH = {**time_limits.KIND_ZH_OF_ALERT, "overdue": "超过期限未完成", "rule": "规则提醒"}


@dataclass(frozen=True)
class Alert:
    id: int
    kind: str
    job_id: str | None
    number: str | None
    message: str
    raised_at: str
    acknowledged_at: str | None
    acknowledged_by: str | None


def scan(conn: Connection, now: datetime, accept_within: timedelta = ACCEPT_WITHIN) -> int:
    """Raise the alerts that have come due by ``now``; returns how many are new. Then the
    open ones climb their escalation chain (escalation.py)."""
    stamp = now.isoformat(timespec="seconds")
    new = 0
    for breach in time_limits.breaches(conn, now, accept_within):
        new += raise_alert(conn, time_limits.ALERT_KIND[breach.step], breach.job_id, stamp,
                           _breach_message(breach, now), job_id=breach.job_id)
    closed = sorted(str(s) for s in CLOSED)
    for job in _rows(conn, "SELECT j.id, j.number, j.status, j.due_at, j.assignee FROM jobs j"
                           f" WHERE j.status NOT IN ({', '.join('?' * len(closed))})"
                           " AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.subject = j.id"
                           "  AND a.kind = 'overdue')", closed):
        due = as_local(job["due_at"])
        if due is not None and now > due:
            who = f"（{job['assignee']}）" if job["assignee"] else "（未指派）"
            new += raise_alert(conn, "overdue", job["id"], stamp,
                               f"工单 {job['number']}{who} 已超过期限"
                               f" {due.astimezone(LOCAL_ZONE):%m-%d %H:%M}，仍未完成",
                               job_id=job["id"])
    escalation.escalate(conn, now)
    return new


def _breach_message(breach: time_limits.Breach, now: datetime) -> str:
    waited = (now - breach.started).total_seconds() / 60
    if breach.step == "accept":  # as it always read, with the limit when it is not the 2 h
        text = (f"工单 {breach.number} 派给 {breach.assignee_name or breach.assignee}"
                f" 已 {waited / 60:.1f} 小时仍未接单")
    else:
        who = breach.assignee_name or breach.assignee or "未指派"
        since = {"dispatch": "受理后", "arrive": "接单后", "complete": "受理后",
                 "follow_up": "完工后"}[breach.step]
        text = (f"工单 {breach.number}（{who}）{since}已 {time_limits.duration_zh(waited)}"
                f"仍未{time_limits.STEP_ZH[breach.step]}")
    return (f"{text}（{time_limits.label(breach.kind, breach.priority)}时限"
            f" {time_limits.duration_zh(breach.minutes)}）")


# An alert's customer: its own, else its job's (what a district-scoped account filters by).
WITH_CUSTOMER = ("alerts a LEFT JOIN jobs j ON j.id = a.job_id"
                 " LEFT JOIN customers c ON c.id = coalesce(a.customer_id, j.customer_id)")


def open_alerts(conn: Connection, include_acknowledged: bool = False, limit: int = 500,
                district: str | None = None) -> list[Alert]:
    """Newest first; only those about ``district``'s customers when it is given."""
    clauses, params = [], []
    if not include_acknowledged:
        clauses.append("a.acknowledged_at IS NULL")
    if district:
        clauses.append("c.district = ?")
        params.append(district)
    rows = _rows(conn, f"SELECT a.*, j.number FROM {WITH_CUSTOMER}"
                       + (" WHERE " + " AND ".join(clauses) if clauses else "")
                       + " ORDER BY a.id DESC LIMIT ?", [*params, limit])
    return [Alert(r["id"], r["kind"], r["job_id"], r["number"], r["message"], r["raised_at"],
                  r["acknowledged_at"], r["acknowledged_by"]) for r in rows]


def open_count(conn: Connection, district: str | None = None) -> int:
    """Open alerts, only those about ``district``'s customers when it is given."""
    if not district:
        return int(conn.execute("SELECT count(*) FROM alerts WHERE acknowledged_at IS NULL"
                                ).fetchone()[0])
    return int(conn.execute(f"SELECT count(*) FROM {WITH_CUSTOMER}"
                            " WHERE a.acknowledged_at IS NULL AND c.district = ?",
                            [district]).fetchone()[0])


def visible(conn: Connection, alert_id: int, district: str | None) -> bool:
    """Whether the alert exists and, given ``district``, is about one of its customers."""
    sql = f"SELECT 1 FROM {WITH_CUSTOMER} WHERE a.id = ?" + (
        " AND c.district = ?" if district else "")
    return conn.execute(sql, [alert_id, *([district] if district else [])]).fetchone() is not None


def acknowledge(conn: Connection, alert_id: int, who: Principal, now: datetime) -> bool:
    """Mark an alert seen; False when there is no such open alert."""
    done = conn.execute("UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ?"
                        " WHERE id = ? AND acknowledged_at IS NULL RETURNING id",
                        [now.isoformat(timespec="seconds"), who.username, alert_id]).fetchone()
    return done is not None


def raise_alert(conn: Connection, kind: str, subject: str, stamp: str, message: str,
                job_id: str | None = None, customer_id: str | None = None) -> int:
    """One alert for the supervisor, once per kind and subject; 1 if it is new."""
    row = conn.execute("INSERT INTO alerts(kind, subject, job_id, customer_id, raised_at,"
                       " message) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kind, subject)"
                       " DO NOTHING RETURNING id",
                       [kind, subject, job_id, customer_id, stamp, message]).fetchone()
    return 1 if row else 0


def _rows(conn: Connection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(sql, params).fetchall()]

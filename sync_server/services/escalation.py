"""升级: an alert nobody acknowledged climbs a chain of roles (dispatcher → supervisor →
manager), each level texting the accounts of its role some minutes after the alert.

    chain(conn)                          # [(level, role, after_minutes)]
    check_chain(levels)                  # the problems of a chain, in Chinese
    save_chain(conn, who, levels, now)
    escalate(conn, now)                  # text the levels that came due; returns how many
    reached(conn, alert_ids)             # {alert_id: (level, role)} the highest reached

Acknowledging the alert (alerts.acknowledge) stops the chain: only open alerts climb. Each
level is reached once per alert (``alert_escalations``' key), whoever scans, and audited.
A level's accounts are the active ones of its role whose district is the job's, or none; an
account without a phone is told by the office's alert list alone (the level is still
recorded, with how many were texted). The manager is the administrator's account (管理员).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from fieldapp.domain.roles import ADMIN, DISPATCHER, OFFICE_ROLES, ROLE_ZH, SUPERVISOR
from fieldapp.local_time import as_local
from sync_server.services import audit, time_limits
from sync_server.services.auth import Principal
from sync_server.services.records import utility_name
from sync_server.storage.db import Connection

DEFAULT_CHAIN = [(1, DISPATCHER, 0), (2, SUPERVISOR, 30), (3, ADMIN, 60)]
ESCALATED = (*time_limits.ALERT_KIND.values(), "overdue")  # rule alerts are the rule's own
MOST_LEVELS = 5
LONGEST = 7 * 24 * 60  # a week, in minutes


def install_defaults(conn: Connection) -> None:
    """The shipped chain on a server that has none."""
    if conn.execute("SELECT 1 FROM escalation_chain LIMIT 1").fetchone() is None:
        for level, role, after in DEFAULT_CHAIN:
            conn.execute("INSERT INTO escalation_chain(level, role, after_minutes)"
                         " VALUES (?, ?, ?) ON CONFLICT (level) DO NOTHING",
                         [level, role, after])


def chain(conn: Connection) -> list[tuple[int, str, int]]:
    return [(int(r[0]), r[1], int(r[2])) for r in conn.execute(
        "SELECT level, role, after_minutes FROM escalation_chain ORDER BY level").fetchall()]


def check_chain(levels: Sequence[tuple[str, int]]) -> list[str]:
    """A chain of (role, minutes after the alert): office roles, 1 to 5 levels, each no
    sooner than the one before it."""
    if not levels:
        return ["升级链至少要有一级"]
    if len(levels) > MOST_LEVELS:
        return [f"升级链最多 {MOST_LEVELS} 级"]
    problems = []
    for n, (role, after) in enumerate(levels, start=1):
        if role not in OFFICE_ROLES:
            problems.append(f"第 {n} 级：角色应为调度员、主管或管理员，不是“{role[:20]}”")
        if after < 0 or after > LONGEST:
            problems.append(f"第 {n} 级：延迟应在 0 到 {LONGEST} 分钟之间")
        elif n > 1 and after < levels[n - 2][1]:
            problems.append(f"第 {n} 级（{after} 分钟）早于第 {n - 1} 级"
                            f"（{levels[n - 2][1]} 分钟）")
    return problems


def save_chain(conn: Connection, who: Principal, levels: Sequence[tuple[str, int]],
               now: datetime) -> list[str]:
    problems = check_chain(levels)
    if problems:
        return problems
    before = chain(conn)
    conn.execute("DELETE FROM escalation_chain")
    for n, (role, after) in enumerate(levels, start=1):
        conn.execute("INSERT INTO escalation_chain(level, role, after_minutes, updated_by,"
                     " updated_at) VALUES (?, ?, ?, ?, ?)",
                     [n, role, after, who.username, now.isoformat(timespec="seconds")])
    audit.security_event(conn, who, "escalation_chain_changed", "escalation_chain", {
        "before": [[r, a] for _, r, a in before], "after": [[r, a] for r, a in levels]})
    return []


def escalate(conn: Connection, now: datetime) -> int:
    """Text the levels of open alerts that came due by ``now``; returns how many were reached."""
    levels = chain(conn)
    if not levels:
        return 0
    stamp = now.isoformat(timespec="seconds")
    kinds = ", ".join("?" * len(ESCALATED))
    alerts = conn.execute(
        "SELECT a.id, a.raised_at, a.message, a.job_id, c.district,"
        " (SELECT max(e.level) FROM alert_escalations e WHERE e.alert_id = a.id) AS top"
        " FROM alerts a LEFT JOIN jobs j ON j.id = a.job_id"
        " LEFT JOIN customers c ON c.id = j.customer_id"
        f" WHERE a.acknowledged_at IS NULL AND a.kind IN ({kinds})", list(ESCALATED)).fetchall()
    reached = 0
    company = None
    for alert in alerts:
        raised = as_local(alert["raised_at"])
        if raised is None:
            continue
        for level, role, after in levels:
            if level <= (alert["top"] or 0) or now - raised < timedelta(minutes=after):
                continue
            if conn.execute("INSERT INTO alert_escalations(alert_id, level, role, at,"
                            " recipients) VALUES (?, ?, ?, ?, 0) ON CONFLICT (alert_id, level)"
                            " DO NOTHING RETURNING alert_id",
                            [alert["id"], level, role, stamp]).fetchone() is None:
                continue  # another process reached it first
            company = company or utility_name(conn)
            phones = staff_phones(conn, role, alert["district"])
            for phone in phones:
                conn.execute("INSERT INTO notifications(channel, recipient, text, job_id,"
                             " created_at) VALUES ('sms', ?, ?, ?, ?)",
                             [phone, f"【{company}】超时提醒（第 {level} 级，"
                                     f"{ROLE_ZH[role]}）：{alert['message']}。请在后台确认。",
                              alert["job_id"], stamp])
            conn.execute("UPDATE alert_escalations SET recipients = ? WHERE alert_id = ?"
                         " AND level = ?", [len(phones), alert["id"], level])
            audit.security_event(conn, "system", "alert_escalated", str(alert["id"]),
                                 {"level": level, "role": role, "texted": len(phones)})
            reached += 1
    return reached


def reached(conn: Connection, alert_ids: Sequence[int]) -> dict[int, tuple[int, str]]:
    """The highest level each alert reached, for the office's list."""
    if not alert_ids:
        return {}
    rows = conn.execute("SELECT alert_id, level, role FROM alert_escalations WHERE alert_id"
                        f" IN ({', '.join('?' * len(alert_ids))}) ORDER BY level",
                        list(alert_ids)).fetchall()
    return {int(r[0]): (int(r[1]), r[2]) for r in rows}


def staff_phones(conn: Connection, role: str, district: str | None) -> list[str]:
    """The mobiles of a role's active accounts of ``district`` and of no district (the
    escalation chain's and the rules' staff texts)."""
    rows = conn.execute("SELECT DISTINCT phone FROM users WHERE role = ? AND active = 1"
                        " AND phone IS NOT NULL AND phone <> ''"
                        " AND (district IS NULL OR district = ?) ORDER BY phone",
                        [role, district]).fetchall()
    return [r[0] for r in rows]

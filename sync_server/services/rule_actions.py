"""What a rule does when its condition holds: text the customer or the staff, open a
follow-up call or a job, alert the supervisors, tag the customer, make sure a hazard has
its check job. Each returns what it did, in words, for the rule's firing record.
Writes to synced records go through dispatch.write, so tablets receive them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fieldapp.domain import customer_tags
from fieldapp.domain.roles import ROLE_ZH
from fieldapp.domain.roles import SYSTEM as ROLE_SYSTEM
from fieldapp.ids import new_id
from fieldapp.local_time import LOCAL_ZONE
from sync_server.clock import ServerClock
from sync_server.errors import ApiError
from sync_server.services import alerts, dispatch
from sync_server.services.auth import Principal
from sync_server.services.escalation import staff_phones
from sync_server.services.phones import masked_phone
from sync_server.services.records import utility_name
from sync_server.services.rule_book import Rule
from sync_server.services.rule_events import Event
from sync_server.storage.db import Connection

SYSTEM = Principal("system", "规则引擎", ROLE_SYSTEM, None, "server")


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

def _notify_staff(conn: Connection, rule: Rule, event: Event, now: datetime,
                  clock: ServerClock) -> str:
    """A text to the staff of a role: those of the event's district and those of none."""
    role = str(rule.params.get("role") or "supervisor")
    district = event.facts.get("district")
    phones = staff_phones(conn, role, district)
    if not phones:
        return f"没有留电话的{ROLE_ZH.get(role, role)}，未发送"
    text = _text(conn, rule, event)
    for phone in phones:
        conn.execute("INSERT INTO notifications(channel, recipient, text, customer_id, job_id,"
                     " rule_id, created_at) VALUES ('sms', ?, ?, NULL, ?, ?, ?)",
                     [phone, text, event.job_id, rule.id, now.isoformat(timespec="seconds")])
    return f"短信待发送给 {len(phones)} 位{ROLE_ZH.get(role, role)}"


def _create_job(conn: Connection, rule: Rule, event: Event, now: datetime,
                clock: ServerClock) -> str:
    """A pending job for the event's customer, due after ``hours``, for dispatch to assign."""
    if not event.customer_id:
        return "事件没有客户，未生成工单"
    due = now + timedelta(hours=float(rule.params.get("hours") or 24))
    summary = _text(conn, rule, event) if rule.params.get("text") else rule.name
    try:
        job_id = dispatch.create_job(conn, SYSTEM, clock, {
            "kind": rule.params.get("kind"), "priority": rule.params.get("priority") or 3,
            "customer": event.customer_id, "summary": summary[:500],
            "due_at": due.astimezone(LOCAL_ZONE).isoformat(timespec="seconds")})
    except ApiError as exc:
        return f"未生成工单：{exc.message}"
    number = conn.execute("SELECT number FROM jobs WHERE id = ?", [job_id]).fetchone()[0]
    return f"已生成待派工单 {number}"


def _tag_customer(conn: Connection, rule: Rule, event: Event, now: datetime,
                  clock: ServerClock) -> str:
    """The customer gets the tag (through the change log: tablets see it); one already
    carrying it is left as it is."""
    tag = str(rule.params.get("tag") or "").strip()
    row = conn.execute("SELECT tags, version FROM customers WHERE id = ?",
                       [event.customer_id or ""]).fetchone()
    if row is None:
        return "事件没有客户，未加标签"
    tags = customer_tags.read(row["tags"])
    if tag in tags:
        return f"客户已有标签“{tag}”"
    dispatch.write(conn, SYSTEM, clock, "customers", event.customer_id or "", "update",
                   {"tags": json.dumps([*tags, tag], ensure_ascii=False)},
                   old={"tags": row["tags"]}, base_version=row["version"])
    return f"已给客户加标签“{tag}”"


ACTIONS: dict[str, Callable[[Connection, Rule, Event, datetime, ServerClock], str]] = {
    "notify_customer": _notify, "follow_up_task": _follow_up, "alert": _alert,
    "rectification_check": _rectification_check, "notify_staff": _notify_staff,
    "create_job": _create_job, "tag_customer": _tag_customer,
}

"""The rules engine: event → condition → action, stored as data and edited by an admin.

    install_defaults(conn, now)        # the shipped rules, once; the change-log cursor
    process(conn, now, clock)          # fire the rules for what happened since last time
    check(event, condition, action, params) -> problems in words (before saving an edit)

Events come from the change log the sync already keeps (a job completed, a hazard found, a
reading recorded) and from the clock (an inspection due soon). The engine reads the log
from its cursor and stores the cursor in the same transaction as what the rules did, so a
crash or restart neither loses an event nor runs one twice; each rule fires at most once per
subject (``rule_firings``), which also makes the clock's events safe to scan every minute.

Conditions are the forms' safe expression language (``${priority} = 1 and ${ratio} > 3``):
parsed, never ``eval``-ed, checked against the event's variables when saved. Message texts
take ``{customer_name}``-style placeholders from the same variables.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fieldapp.domain.kinds import KIND_ZH
from fieldapp.domain.status import CLOSED
from fieldapp.domain.status import SYSTEM as ROLE_SYSTEM
from fieldapp.forms import values as v
from fieldapp.forms.expr import ExpressionError, parse
from fieldapp.ids import new_id
from fieldapp.local_time import LOCAL_ZONE, as_local
from sync_server.clock import ServerClock
from sync_server.services import alerts, dispatch
from sync_server.services.appointment_links import appointment_link
from sync_server.services.auth import Principal
from sync_server.services.records import utility_name
from sync_server.storage.db import Connection

SYSTEM = Principal("system", "规则引擎", ROLE_SYSTEM, None, "server")
CURSOR = "rules.cursor"
BATCH = 500  # change-log entries per pass
UPCOMING_DAYS = 7
MIN_DAYS = 0.5  # shorter gaps between readings say little about daily use

_COMMON = {"number": "工单号", "kind": "工单类型代码（inspection、repair…）",
           "kind_name": "工单类型（安检、维修…）", "district": "区域",
           "customer_name": "客户姓名", "customer_phone": "客户电话"}
UTILITY = {"utility": "本公司名称"}  # every message may sign with it
EVENTS: dict[str, tuple[str, dict[str, str]]] = {
    "job.completed": ("工单完成", {**_COMMON, "priority": "优先级（1 紧急）",
                                  "assignee": "处理人", "hazards": "发现隐患数"}),
    "hazard.found": ("发现隐患", {**_COMMON, "level": "隐患等级（general/serious/critical）",
                                 "label": "隐患项目", "due_date": "整改期限",
                                 "check_number": "复查工单号"}),
    "reading.recorded": ("记录抄表读数", {
        "customer_name": "客户姓名", "customer_phone": "客户电话", "district": "区域",
        "value": "本次读数", "previous": "上次读数", "days": "间隔天数",
        "daily_use": "日均用量", "usual_daily_use": "以往日均用量",
        "ratio": "日均用量是以往的几倍"}),
    "inspection.upcoming": ("安检临近", {**_COMMON, "days_left": "距上门天数",
                                       "due_date": "上门日期",
                                       "reschedule_link": "改约链接（网上营业厅，无需登录）"}),
}
ACTIONS = {
    "notify_customer": ("短信通知客户", ("text",)),
    "follow_up_task": ("生成回访任务", ("hours",)),
    "alert": ("提醒主管", ("text",)),
    "rectification_check": ("确保有整改复查工单", ()),
}

DEFAULT_RULES = [
    {"id": "rule-completed-sms", "name": "完工短信通知", "event": "job.completed",
     "condition": "", "action": "notify_customer",
     "params": {"text": "【{utility}】您好，{customer_name}，您的{kind_name}工单 {number} 已完成。"
                        "如有疑问请致电 96777。"}},
    {"id": "rule-completed-follow-up", "name": "维修完工回访", "event": "job.completed",
     "condition": "${kind} = 'repair'", "action": "follow_up_task", "params": {"hours": 24}},
    {"id": "rule-hazard-check", "name": "隐患生成整改复查", "event": "hazard.found",
     "condition": "", "action": "rectification_check", "params": {}},
    {"id": "rule-inspection-reminder", "name": "安检前一周提醒", "event": "inspection.upcoming",
     "condition": f"${{days_left}} <= {UPCOMING_DAYS}", "action": "notify_customer",
     "params": {"text": "【{utility}】{customer_name}，您好：我公司将于 {due_date} 上门进行"
                        "入户安检，届时请家中留人。改约请点 {reschedule_link} 或致电 96777。"}},
    {"id": "rule-abnormal-usage", "name": "用量异常提醒", "event": "reading.recorded",
     "condition": "${daily_use} = 0 or ${ratio} > 3", "action": "alert",
     "params": {"text": "{customer_name}（{district}）用量异常：日均 {daily_use} m³，"
                        "以往日均 {usual_daily_use} m³"}},
]


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    event: str
    condition: str
    action: str
    params: dict[str, Any]
    enabled: bool
    updated_by: str | None = None
    updated_at: str | None = None


@dataclass(frozen=True)
class Event:
    name: str
    subject: str  # the job, hazard or reading it is about: a rule fires once per subject
    facts: dict[str, Any]
    job_id: str | None = None
    customer_id: str | None = None
    change_seq: int | None = None


# -- rules as data --------------------------------------------------------------------------


def install_defaults(conn: Connection) -> None:
    """The shipped rules (kept if an admin changed them) and the cursor, which starts at the
    end of the log: what happened before the engine existed is not announced again."""
    for rule in DEFAULT_RULES:
        conn.execute("INSERT INTO rules(id, name, event, condition, action, params)"
                     " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                     [rule["id"], rule["name"], rule["event"], rule["condition"],
                      rule["action"], json.dumps(rule["params"], ensure_ascii=False)])
    last = conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
    conn.execute("INSERT INTO server_state(key, value) VALUES (?, ?)"
                 " ON CONFLICT (key) DO NOTHING", [CURSOR, str(last)])


def all_rules(conn: Connection) -> list[Rule]:
    return [_rule(r) for r in conn.execute("SELECT * FROM rules ORDER BY event, id").fetchall()]


def get(conn: Connection, rule_id: str) -> Rule | None:
    row = conn.execute("SELECT * FROM rules WHERE id = ?", [rule_id]).fetchone()
    return _rule(row) if row else None


def _rule(row: Any) -> Rule:
    return Rule(row["id"], row["name"], row["event"], row["condition"], row["action"],
                json.loads(row["params"] or "{}"), bool(row["enabled"]), row["updated_by"],
                row["updated_at"])


def check(event: str, condition: str, action: str, params: Mapping[str, Any]) -> list[str]:
    """Everything wrong with a rule, in words; empty when it can be saved."""
    problems = []
    if event not in EVENTS:
        return [f"未知的事件：{event}"]
    known = {**EVENTS[event][1], **UTILITY}
    if condition.strip():
        try:
            expression = parse(condition)
        except ExpressionError as exc:
            problems.append(f"条件写法有误（第 {exc.position + 1} 个字符）：{exc.problem}")
        else:
            unknown = sorted(expression.refs - set(known))
            if unknown:
                problems.append(f"条件中没有这些变量：{', '.join(unknown)}"
                                f"（可用：{', '.join(known)}）")
            if expression.uses_current:
                problems.append("条件中不能使用“.”")
    if action not in ACTIONS:
        problems.append(f"未知的动作：{action}")
    elif "text" in ACTIONS[action][1]:
        text = str(params.get("text") or "")
        if not text.strip():
            problems.append("请填写消息内容")
        try:
            names = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
        except ValueError as exc:
            problems.append(f"消息中的花括号不成对：{exc}")
        else:
            unknown = sorted(n for n in names if n not in known)
            if unknown:
                problems.append(f"消息中没有这些变量：{', '.join('{' + n + '}' for n in unknown)}")
        if len(text) > 300:
            problems.append("消息不能超过 300 字")
    elif "hours" in ACTIONS[action][1]:
        try:
            hours = float(params["hours"])
            if not 0 < hours <= 24 * 30:
                raise ValueError
        except (KeyError, TypeError, ValueError):
            problems.append("回访期限应为 1–720 小时")
    return problems


def update(conn: Connection, rule_id: str, who: Principal, now: datetime, *, name: str,
           condition: str, params: Mapping[str, Any], enabled: bool) -> list[str]:
    """Save an admin's edit of a rule (its event and action stay); problems when refused."""
    rule = get(conn, rule_id)
    if rule is None:
        return [f"没有规则 {rule_id}"]
    problems = check(rule.event, condition, rule.action, params)
    if not name.strip():
        problems.append("请填写规则名称")
    if problems:
        return problems
    kept = {k: params[k] for k in ACTIONS[rule.action][1] if k in params}
    conn.execute("UPDATE rules SET name = ?, condition = ?, params = ?, enabled = ?,"
                 " updated_by = ?, updated_at = ? WHERE id = ?",
                 [name.strip(), condition.strip(), json.dumps(kept, ensure_ascii=False),
                  int(enabled), who.username, now.isoformat(timespec="seconds"), rule_id])
    return []


# -- running them ---------------------------------------------------------------------------


def process(conn: Connection, now: datetime, clock: ServerClock) -> int:
    """Fire the enabled rules for the logged changes since the cursor and for inspections
    coming up; returns how many rules fired."""
    rules: dict[str, list[Rule]] = {}
    for rule in all_rules(conn):
        if rule.enabled:
            rules.setdefault(rule.event, []).append(rule)
    cursor = int(_state(conn, CURSOR) or 0)
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
    conn.execute("UPDATE server_state SET value = ? WHERE key = ?", [str(cursor), CURSOR])
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
    customer = conn.execute("SELECT name, phone, district FROM customers WHERE id = ?",
                            [reading["customer_id"]]).fetchone()
    facts: dict[str, Any] = {"value": reading["value"], "previous": None, "days": None,
                             "daily_use": None, "usual_daily_use": None, "ratio": None,
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
    return f"短信待发送：{_masked(phone)}"


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


def _state(conn: Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM server_state WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def _days(earlier: str, later: str) -> float:
    a, b = as_local(earlier), as_local(later)
    return (b - a).total_seconds() / 86400 if a and b else 0.0


def _date(value: str | None) -> str | None:
    moment = as_local(value)
    return f"{moment.astimezone(LOCAL_ZONE):%Y-%m-%d}" if moment else None


def _masked(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 11 else phone


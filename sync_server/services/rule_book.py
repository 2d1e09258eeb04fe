"""The rules as data: the events they answer, the actions they take, the shipped defaults,
and the checks an admin's edit passes before it is saved (services/rules.py runs them).

Conditions are the forms' safe expression language (``${priority} = 1 and ${ratio} > 3``):
parsed, never ``eval``-ed, checked against the event's variables when saved. Message texts
take ``{customer_name}``-style placeholders from the same variables.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fieldapp.domain.kinds import KIND_ZH, PRIORITIES
from fieldapp.forms.expr import ExpressionError, parse
from fieldapp.ids import new_id
from sync_server.services import customer_fields
from sync_server.services.auth import Principal
from sync_server.storage import server_state
from sync_server.storage.db import Connection
from sync_server.storage.server_state import RULES_CURSOR

UPCOMING_DAYS = 7

_COMMON = {"number": "工单号", "kind": "工单类型代码（inspection、repair…）",
           "kind_name": "工单类型（安检、维修…）", "district": "区域",
           "customer_name": "客户姓名", "customer_phone": "客户电话", "tags": "客户标签"}
_CUSTOMER = {"customer_name": "客户姓名", "customer_phone": "客户电话", "district": "区域",
             "tags": "客户标签"}
UTILITY = {"utility": "本公司名称"}  # every message may sign with it
EVENTS: dict[str, tuple[str, dict[str, str]]] = {
    "job.status": ("工单状态变化", {**_COMMON, "priority": "优先级（1 紧急）",
                                  "assignee": "处理人", "status": "新状态代码",
                                  "status_name": "新状态（已派单、已完成…）"}),
    "job.completed": ("工单完成", {**_COMMON, "priority": "优先级（1 紧急）",
                                  "assignee": "处理人", "hazards": "发现隐患数"}),
    "hazard.found": ("发现隐患", {**_COMMON, "level": "隐患等级（general/serious/critical）",
                                 "label": "隐患项目", "due_date": "整改期限",
                                 "check_number": "复查工单号"}),
    "reading.recorded": ("记录抄表读数", {
        **_CUSTOMER,
        "value": "本次读数", "previous": "上次读数", "days": "间隔天数",
        "daily_use": "日均用量", "usual_daily_use": "以往日均用量",
        "ratio": "日均用量是以往的几倍",
        "same_period_daily_use": "往年同期日均用量",
        "expected_daily_use": "应有日均用量（往年同期，没有则取以往）",
        "expected_ratio": "日均用量是应有的几倍",
        "excess_daily_use": "日均比应有多用（m³）", "household_size": "家庭人口",
        "per_person_daily_use": "人均日用量"}),
    "bill.overdue": ("账单逾期未缴", {**_CUSTOMER, "amount": "欠费金额（元）",
                                    "due_date": "缴费期限", "days_overdue": "逾期天数",
                                    "period": "账期"}),
    "customer.tagged": ("客户有了标签", {**_CUSTOMER, "household_size": "家庭人口",
                                      "tag": "标签（每个标签一次）"}),
    "inspection.upcoming": ("安检临近", {**_COMMON, "days_left": "距上门天数",
                                       "due_date": "上门日期",
                                       "reschedule_link": "改约链接（网上营业厅，无需登录）"}),
    "date.reached": ("每天（日期到达）", {"date": "日期（月-日，如 12-01）", "month": "月",
                                      "day": "日", "weekday": "星期几（1–7）",
                                      "weekday_name": "星期（星期一…）"}),
}
CLOCK_EVENTS = frozenset({"inspection.upcoming", "bill.overdue", "date.reached"})
NO_CUSTOMER = frozenset({"date.reached"})  # nobody to text, tag or open a job for
ACTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "notify_customer": ("短信通知客户", ("text",)),
    "notify_staff": ("短信通知员工", ("text", "role")),
    "follow_up_task": ("生成回访任务", ("hours",)),
    "create_job": ("生成待派工单", ("kind", "priority", "hours", "text")),
    "alert": ("提醒主管", ("text",)),
    "tag_customer": ("给客户加标签", ("tag",)),
    "rectification_check": ("确保有整改复查工单", ()),
}
NEEDS_CUSTOMER = frozenset({"notify_customer", "follow_up_task", "create_job",
                            "tag_customer"})
STAFF_ROLES = {"dispatcher": "调度员", "supervisor": "主管", "admin": "管理员"}
DAILY_LIMIT, MAX_DAILY_LIMIT = 500, 10_000  # times a rule may act in a day

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
     "condition": "${daily_use} = 0 or ${expected_ratio} > 3", "action": "alert",
     "params": {"text": "{customer_name}（{district}）用量异常：日均 {daily_use} m³，"
                        "应有日均 {expected_daily_use} m³"}},
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


def install_defaults(conn: Connection) -> None:
    """The shipped rules (a newer shipped version replaces one no admin has changed; an
    admin's stays) and the cursor, which starts at the end of the log: what happened before
    the engine existed is not announced again."""
    for rule in DEFAULT_RULES:
        conn.execute("INSERT INTO rules(id, name, event, condition, action, params)"
                     " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                     " name = excluded.name, event = excluded.event,"
                     " condition = excluded.condition, action = excluded.action,"
                     " params = excluded.params WHERE rules.updated_by IS NULL",
                     [rule["id"], rule["name"], rule["event"], rule["condition"],
                      rule["action"], json.dumps(rule["params"], ensure_ascii=False)])
        record_version(conn, str(rule["id"]), "system", datetime.now(UTC))
    last = conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
    server_state.write_once(conn, RULES_CURSOR, str(last))


_VERSIONED = ("name", "event", "condition", "action", "params", "enabled")


def record_version(conn: Connection, rule_id: str, by_user: str, now: datetime) -> int:
    """Keep the rule as it now stands as its next version, unless its latest version says
    the same; returns the rule's version."""
    row = conn.execute("SELECT * FROM rules WHERE id = ?", [rule_id]).fetchone()
    last = conn.execute("SELECT * FROM rule_versions WHERE rule_id = ? ORDER BY version DESC"
                        " LIMIT 1", [rule_id]).fetchone()
    if row is None:
        return 0
    if last is not None and all(row[c] == last[c] for c in _VERSIONED):
        return int(last["version"])
    version = int(last["version"]) + 1 if last else 1
    conn.execute(f"INSERT INTO rule_versions(rule_id, version, {', '.join(_VERSIONED)},"
                 " by_user, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 [rule_id, version, *(row[c] for c in _VERSIONED), by_user,
                  now.isoformat(timespec="seconds")])
    return version


def versions(conn: Connection, rule_id: str) -> list[dict[str, Any]]:
    """A rule's versions, newest first."""
    return [dict(r) for r in conn.execute("SELECT * FROM rule_versions WHERE rule_id = ?"
                                          " ORDER BY version DESC", [rule_id]).fetchall()]


def daily_limit(rule: Rule) -> int:
    try:
        return max(1, min(MAX_DAILY_LIMIT, int(rule.params.get("daily_limit") or DAILY_LIMIT)))
    except (TypeError, ValueError):
        return DAILY_LIMIT


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
            if expression.pulls:
                problems.append("条件中不能使用 pulldata()：它读表单附带的表格，规则没有表单")
    if action not in ACTIONS:
        problems.append(f"未知的动作：{action}")
    elif "text" in ACTIONS[action][1]:
        text = str(params.get("text") or "")
        if not text.strip() and action != "create_job":  # a job's summary may be blank
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
    if action in NEEDS_CUSTOMER and event in NO_CUSTOMER:
        problems.append(f"“{EVENTS[event][0]}”没有客户，不能{ACTIONS[action][0]}")
    if action == "rectification_check" and event != "hazard.found":
        problems.append("确保整改复查工单只能用于“发现隐患”")
    if action in ACTIONS:
        problems += _param_problems(action, params)
    return problems


def _param_problems(action: str, params: Mapping[str, Any]) -> list[str]:
    wanted, problems = ACTIONS[action][1], []
    if "hours" in wanted:
        try:
            hours = float(params["hours"])
            if not 0 < hours <= 24 * 30:
                raise ValueError
        except (KeyError, TypeError, ValueError):
            problems.append(("回访" if action == "follow_up_task" else "")
                            + "期限应为 1–720 小时")
    if "role" in wanted and params.get("role") not in STAFF_ROLES:
        problems.append("请选择接收短信的岗位（调度员、主管或管理员）")
    if "kind" in wanted and params.get("kind") not in KIND_ZH:
        problems.append("请选择要生成的工单类型")
    if "priority" in wanted and str(params.get("priority")) not in {str(p) for p in PRIORITIES}:
        problems.append(f"优先级应为 {PRIORITIES[0]}–{PRIORITIES[-1]}")
    if "tag" in wanted:
        tag = str(params.get("tag") or "").strip()
        if not tag or len(tag) > 20 or customer_fields.words(tag) != [tag]:
            problems.append("标签应为一个词，最多 20 个字（不含空格、逗号、顿号）")
    limit = params.get("daily_limit")
    if limit not in (None, ""):
        try:
            if not 1 <= int(str(limit)) <= MAX_DAILY_LIMIT:
                raise ValueError
        except ValueError:
            problems.append(f"每日上限应为 1–{MAX_DAILY_LIMIT} 的整数")
    return problems


def _kept(action: str, params: Mapping[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {k: params[k] for k in (*ACTIONS[action][1], "daily_limit")
                            if params.get(k) not in (None, "")}
    for number in ("priority", "daily_limit"):
        if number in kept:
            kept[number] = int(str(kept[number]))
    if "hours" in kept:
        kept["hours"] = float(kept["hours"])
    return kept


def create(conn: Connection, who: Principal, now: datetime, *, name: str, event: str,
           condition: str, action: str, params: Mapping[str, Any], enabled: bool
           ) -> tuple[str | None, list[str]]:
    """A new rule made in the office: (its id, []) or (None, every problem in words)."""
    problems = check(event, condition, action, params)
    if not name.strip():
        problems.append("请填写规则名称")
    elif conn.execute("SELECT 1 FROM rules WHERE name = ?", [name.strip()]).fetchone():
        problems.append(f"已有名为“{name.strip()}”的规则")
    if problems:
        return None, problems
    rule_id = "rule-" + new_id()
    conn.execute("INSERT INTO rules(id, name, event, condition, action, params, enabled,"
                 " updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 [rule_id, name.strip(), event, condition.strip(), action,
                  json.dumps(_kept(action, params), ensure_ascii=False), int(enabled),
                  who.username, now.isoformat(timespec="seconds")])
    record_version(conn, rule_id, who.username, now)
    return rule_id, []


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
    conn.execute("UPDATE rules SET name = ?, condition = ?, params = ?, enabled = ?,"
                 " updated_by = ?, updated_at = ? WHERE id = ?",
                 [name.strip(), condition.strip(),
                  json.dumps(_kept(rule.action, params), ensure_ascii=False),
                  int(enabled), who.username, now.isoformat(timespec="seconds"), rule_id])
    record_version(conn, rule_id, who.username, now)
    return []

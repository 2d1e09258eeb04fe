"""审计日志: every change to a synced record — who, on which device, when (on the device and
on the server), what — and every admin and security action (安全与管理: accounts, passwords,
revocations, rule edits, sign-ins, alert acknowledgements, wipes), filterable, page by page,
and exported as CSV with the same filters; above it, whether the hash chain and its external
anchors hold (audit_anchor.py), checked again on request.

The change log is the audit trail: devices' pushes, office edits, the rules engine, seeding
and the security actions all write it, in one order (``seq``), and nothing rewrites it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from fieldapp.domain.kinds import KIND_ZH
from fieldapp.domain.roles import ROLE_ZH
from fieldapp.local_time import LOCAL_ZONE
from fieldapp.records import TABLES
from sync_server.deps import server_of
from sync_server.errors import MAX_INT
from sync_server.office.csv_export import SafeWriter
from sync_server.office.web import (
    Office,
    local_time,
    pages_router,
    render_page,
)
from sync_server.services import audit, audit_anchor
from sync_server.services.districts import district_of

router = pages_router()
PAGE = 100
TABLE_ZH = {"customers": "客户", "meters": "燃气表", "readings": "读数", "contracts": "合同",
            "payments": "缴费", "jobs": "工单", "job_status_history": "工单状态",
            "submissions": "表单", "answers": "答案", "attachments": "照片/文件",
            "signatures": "签名", "scans": "扫码", "hazards": "隐患",
            "rectification_notices": "整改通知书", "form_definitions": "表单定义",
            "kb_articles": "知识库", "org_settings": "系统设置", audit.SECURITY: "安全与管理"}
OP_ZH = {"insert": "新建", "update": "修改", "delete": "删除", "resend": "重发",
         "user_created": "创建用户", "user_enabled": "启用账号", "user_disabled": "停用账号",
         "password_reset": "重设密码", "device_revoked": "停用设备",
         "device_released": "解除平板绑定",
         "device_wiped": "设备已清除数据", "rule_changed": "修改规则",
         "rule_created": "新建规则", "sign_in": "后台登录",
         "sign_in_failed": "后台登录失败", "sign_out": "后台退出", "alert_acknowledged": "确认提醒",
         "kb_published": "发布知识库文章", "kb_withdrawn": "撤回知识库文章",
         "user_phone_set": "设置手机号", "user_changed": "修改用户",
         "time_limits_changed": "修改时限", "escalation_chain_changed": "修改升级链",
         "alert_escalated": "提醒升级", "campaign_created": "创建群发",
         "campaign_sent": "发送群发", "campaign_opt_out": "群发退订"}
# The details of a security action, in words (audit.security_event's ``detail`` keys).
DETAIL_ZH = {"display_name": "姓名", "role": "角色", "district": "区域", "skills": "技能",
             "via": "途径", "client": "来源地址", "reason": "原因", "kept": "留存的被拒修改",
             "name": "名称", "condition": "条件", "enabled": "启用", "text": "内容",
             "hours": "小时", "title": "标题", "version": "版本"}
VALUE_ZH = {"office": "后台页面", "api": "接口", "bad_credentials": "用户名或密码错误",
            "not_office": "非后台角色", "device_revoked": "会话已被停用",
            "too_many_attempts": "错误次数过多", True: "是", False: "否"}


@dataclass(frozen=True)
class Filters:
    table: str = ""
    user: str = ""
    record: str = ""  # a record id, or a job number: that job's own changes
    since: str = ""  # dates, in the utility's zone
    until: str = ""
    district: str = ""  # forced for an office user limited to one district

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = [], []
        if self.table:
            clauses.append("c.tbl = ?")
            params.append(self.table)
        if self.user:
            clauses.append("c.by_user = ?")
            params.append(self.user)
        if self.record:
            clauses.append("(c.record_id = ? OR c.record_id IN"
                           " (SELECT id FROM jobs WHERE number = ?))")
            params += [self.record, self.record]
        if self.district:
            clauses.append("c.customer_id IN (SELECT id FROM customers WHERE district = ?)")
            params.append(self.district)
        for bound, op in ((self.since, ">="), (self.until, "<")):
            moment = _day_start(bound, next_day=op == "<")
            if moment:
                clauses.append(f"c.at {op} ?")
                params.append(moment)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _day_start(text: str, next_day: bool = False) -> str | None:
    """A typed date as the instant its local day starts (the next day's, for "until"), in
    the change log's own format (UTC), so the text comparison is a time comparison."""
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d").replace(tzinfo=LOCAL_ZONE)
    except ValueError:
        return None
    if next_day:
        day += timedelta(days=1)
    return day.astimezone(UTC).isoformat(timespec="milliseconds")


def _rows(request: Request, filters: Filters, before: int | None,
          limit: int | None) -> list[dict[str, Any]]:
    where, params = filters.where()
    if before:
        where += (" AND" if where else " WHERE") + " c.seq < ?"
        params.append(before)
    sql = ("SELECT c.seq, c.tbl, c.record_id, c.op, c.fields, c.by_user, c.device_id, c.at,"
           " c.client_at, c.customer_id, c.batch_id FROM changes c" + where
           + " ORDER BY c.seq DESC" + (" LIMIT ?" if limit else ""))
    with server_of(request).db.read() as conn:
        return [dict(r) for r in conn.execute(sql, params + ([limit] if limit else []))]


def _what(row: dict[str, Any]) -> str:
    """The changed fields in short: ``status → completed; note → …``; a security action's
    details in words: ``角色：安检员；区域：秦淮区``."""
    try:
        fields = json.loads(row["fields"] or "{}")
    except ValueError:
        return row["fields"] or ""
    if row["tbl"] == audit.SECURITY:
        return "；".join(f"{DETAIL_ZH.get(k, k)}：{_value_zh(k, v)}" for k, v in fields.items()
                        if v not in (None, "", []))
    parts = []
    for key, value in fields.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        parts.append(f"{key} → {text[:80]}{'…' if len(text) > 80 else ''}")
    return "；".join(parts)


def _value_zh(key: str, value: Any) -> str:
    if key == "role":
        return str(ROLE_ZH.get(value, value))
    if isinstance(value, list):  # skills
        return "、".join(KIND_ZH.get(v, str(v)) for v in value)
    return str(VALUE_ZH.get(value, value)) if isinstance(value, str | bool) else str(value)


def _table(table: str) -> str:
    return table if table in TABLES or table == audit.SECURITY else ""


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, who: Office,
               table: Annotated[str, Query(max_length=40)] = "",
               user: Annotated[str, Query(max_length=64)] = "",
               record: Annotated[str, Query(max_length=64)] = "",
               since: Annotated[str, Query(max_length=10)] = "",
               until: Annotated[str, Query(max_length=10)] = "",
               before: Annotated[int | None, Query(ge=0, le=MAX_INT)] = None,
               check: bool = False) -> HTMLResponse:
    """``check``: verify the chain and its anchors now instead of showing the last check."""
    filters = Filters(_table(table), user.strip(), record.strip(),
                      since, until, district_of(who) or "")
    checked_at, verdict = server_of(request).audit.verdict(fresh=check)
    rows = _rows(request, filters, before, PAGE + 1)
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    for row in rows:
        row["what"] = _what(row)
    query = urlencode({k: v for k, v in vars(filters).items() if v and k != "district"})
    return render_page(request, who, "audit.html", {
        "rows": rows, "filters": filters, "tables": TABLE_ZH, "ops": OP_ZH, "query": query,
        "older": rows[-1]["seq"] if more and rows else None, "chain_ok": verdict.ok,
        "chain": audit_anchor.describe(verdict), "chain_checked_at": checked_at})


@router.get("/audit.csv")
def audit_csv(request: Request, who: Office,
              table: Annotated[str, Query(max_length=40)] = "",
              user: Annotated[str, Query(max_length=64)] = "",
              record: Annotated[str, Query(max_length=64)] = "",
              since: Annotated[str, Query(max_length=10)] = "",
              until: Annotated[str, Query(max_length=10)] = "") -> StreamingResponse:
    """The filtered log as CSV (UTF-8 with BOM, so Excel reads the Chinese right)."""
    filters = Filters(_table(table), user.strip(), record.strip(),
                      since, until, district_of(who) or "")
    rows = _rows(request, filters, None, None)

    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = SafeWriter(out)
        out.write("\ufeff")
        writer.writerow(["序号", "服务器时间", "设备时间", "用户", "设备", "表", "记录",
                         "操作", "内容"])
        for row in rows:
            writer.writerow([row["seq"], local_time(row["at"]), local_time(row["client_at"]),
                             row["by_user"], row["device_id"],
                             TABLE_ZH.get(row["tbl"], row["tbl"]), row["record_id"],
                             OP_ZH.get(row["op"], row["op"]), row["fields"]])
            yield out.getvalue()
            out.seek(0)
            out.truncate()
        yield out.getvalue()

    stamp = datetime.now(LOCAL_ZONE).strftime("%Y%m%d-%H%M")
    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'})

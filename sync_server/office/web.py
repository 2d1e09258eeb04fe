"""The back office's toolkit: its templates and filters, the signed-in user and role checks,
the words for statuses, roles and conflict reasons, and the page every refusal becomes.

The pages themselves live beside it: sign_in, reports, conflicts, dispatch, rules, ..."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from fieldapp.domain.roles import ROLE_ZH
from fieldapp.local_time import local_text
from fieldapp.records import TABLES, Policy
from sync_server.deps import server_of
from sync_server.errors import MAX_INT, ApiError
from sync_server.http.pages import page_route
from sync_server.office.auth import csrf_token, office_user
from sync_server.services import alerts, review
from sync_server.services.auth import Principal
from sync_server.services.districts import district_of
from sync_server.services.installation import published_districts
from sync_server.services.phones import masked_phone

templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates" / "office")


def local_time(value: str | None) -> str:
    """A stored time as the office reads it, to the second, in the utility's zone."""
    return local_text(value, "%Y-%m-%d %H:%M:%S")


templates.env.filters["local"] = local_time


REASON_ZH = {
    "kept_server_value": "服务器上的修改更晚：保留服务器上的值，设备的值另存待审",
    "kept_evidence": "采集的证据不覆盖：保留服务器上的值，设备的值另存待审",
    "overwritten_by_later_hlc": "同一字段两处修改：较晚的修改生效，被覆盖的值另存待审",
    "stale_transition": "过期的状态变更：工单已在更后面的状态",
    "illegal_transition": "不允许的状态变更（例如工单已被后台取消）",
    "reassigned": "工单已改派他人：原安检员的变更另存待审",
    "edited_after_delete": "删除晚于别处的修改到达：记录保留，删除另存待审",
    "delete_overridden_by_later_edit": "记录删除后又被更晚地修改：记录已恢复，删除另存待审",
    "record_deleted": "记录已被删除，这次较早的修改另存待审",
    "needs_verification": "客户的登录手机号只在后台核实后才修改：平板提交的新号码另存待核实",
    "awaiting_parent": "所属的记录（工单、检查单等）尚未到达：这项修改暂存，记录到达后自动应用",
    "duplicate_answer": "两台设备回答了同一检查单的同一问题：保留先到的答案，另一份另存待审",
    "invalid_value": "字段的值类型或范围不对，未应用，原值另存待审",
    "forbidden": "该角色无权通过此途径修改这项数据，未应用，另存待审",
    "out_of_scope": "不是该安检员负责的工单或客户，未应用，另存待审",
    "out_of_district": "不在该账号负责的区域，未应用，另存待审",
    "duplicate_value": "与已有记录的唯一值重复（如户号），未应用，另存待审",
}
HANDED_IN = "被拒绝的修改由已停用的设备在清除数据前交回，另存待审"


Office = Annotated[Principal, Depends(office_user)]
RowId = Annotated[int, PathParam(ge=0, le=MAX_INT)]  # a numbered row in a URL


def office_role(roles: frozenset[str], message: str) -> Any:
    """A dependency: the signed-in office user, refused (403) unless their role is among
    ``roles`` — checked before the form is read, so a refusal never depends on the form."""
    def check(who: Office) -> Principal:
        require(who, roles, message)
        return who

    return Depends(check)


def districts_for(conn: Any, who: Principal) -> list[str]:
    """The districts an office user may choose among: their own, or every one."""
    district = district_of(who)
    if district:
        return [district]
    served = [r[0] for r in conn.execute("SELECT DISTINCT district FROM customers"
                                         " WHERE district IS NOT NULL ORDER BY district")]
    # Those set up by ``init`` first, in the utility's order, then any only customers name.
    published = published_districts(conn)
    return published + [d for d in served if d not in published]


def require(who: Principal, roles: frozenset[str], message: str) -> None:
    """Refuse the action to a role not among ``roles`` (a 403 page saying why)."""
    if who.role not in roles:
        raise ApiError(403, "forbidden", message)


def error_page(request: Request, exc: ApiError) -> HTMLResponse:
    """An office page's refusal in words, with the way back, instead of raw JSON."""
    came_from = urlsplit(request.headers.get("referer") or "")
    back = local_url(came_from.path + (f"?{came_from.query}" if came_from.query else ""))
    return templates.TemplateResponse(request, "error.html", {
        "who": None, "status": exc.status, "message": exc.message, "back": back},
        status_code=exc.status)


def _wants_page(request: Request) -> bool:
    """A browser reading a page (not a PDF, a CSV, or a script calling the office)."""
    return (not request.url.path.endswith((".pdf", ".csv"))
            and "text/html" in request.headers.get("accept", ""))


def pages_router() -> APIRouter:
    """A router of office pages: a refusal is answered as the office's page in words."""
    return APIRouter(prefix="/office", include_in_schema=False,
                     route_class=page_route(error_page, _wants_page))


class NotYours(ApiError):
    """A record this account may not act on (another district's, or one that does not
    exist): an error page with its status, never turned into a redirect with a note (the
    routes that redirect their own errors let this one through)."""


def check_district(who: Principal, district: str | None) -> None:
    """Refuse a record of another district to an office user limited to one."""
    scope = district_of(who)
    if scope and district != scope:
        raise NotYours(403, "out_of_district", f"不在您负责的区域（{scope}）")


def reason_text(table: str, field: str | None, reason: str) -> str:
    """A conflict's reason in words; a kept server value of evidence says why."""
    spec = TABLES.get(table)
    if reason == "kept_server_value" and spec and field and spec.policy(field) is Policy.EVIDENCE:
        reason = "kept_evidence"
    if reason.startswith("handed_in:"):
        refused = reason.removeprefix("handed_in:")
        return f"{HANDED_IN}（原因：{REASON_ZH.get(refused, refused)}）"
    return REASON_ZH.get(reason, reason)


def shown(value: Any) -> str:
    """A kept or preserved value as the reviewer reads it (a whole row as JSON)."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, indent=1)
    return "" if value is None else str(value)


templates.env.globals["reason_text"] = reason_text
templates.env.filters["shown"] = shown
templates.env.filters["masked_phone"] = masked_phone
templates.env.globals["role_zh"] = ROLE_ZH



def render_page(request: Request, who: Principal, name: str, context: dict[str, Any],
          status_code: int = 200) -> HTMLResponse:
    with server_of(request).db.read() as conn:
        open_conflicts = review.open_count(conn, district_of(who))
        open_alerts = alerts.open_count(conn, district_of(who))
    return templates.TemplateResponse(request, name, {
        "who": who, "csrf": csrf_token(request), "open_conflicts": open_conflicts,
        "open_alerts": open_alerts,
        **context}, status_code=status_code)


def local_url(url: str) -> str:
    """Only a path of this site: a sign-in link must not send anyone elsewhere."""
    return url if url.startswith("/office/") and "//" not in url and "\\" not in url \
        else "/office/"

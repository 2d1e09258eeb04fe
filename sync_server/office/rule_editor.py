"""规则编辑: an administrator makes or changes a rule without writing code. The event and
the action are picked from lists; the condition is rows of 字段 · 比较 · 值 with the
event's fields offered by their Chinese labels; 预览 shows what the rule would match today
(firing nothing) before 保存; a new rule starts switched off unless ticked. Every save is a
new version of the rule, audited.

A rule whose condition was typed as an expression before (and cannot be shown as rows)
keeps it until rows are chosen; the same form posted without rows but with ``condition``
sets the expression directly (kept for the API and older scripts).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fieldapp.domain.customer_tags import STANDARD_TAGS
from fieldapp.domain.kinds import KIND_ZH, PRIORITIES, PRIORITY_ZH
from fieldapp.domain.roles import ADMINS
from fieldapp.domain.status import STATUS_ZH
from sync_server.deps import server_of
from sync_server.office.auth import check_csrf
from sync_server.office.web import Office, pages_router, render_page, require
from sync_server.services import audit, rule_book, rule_conditions, rules
from sync_server.services.auth import Principal
from sync_server.services.rule_conditions import MATCH, MAX_ROWS, OPS, Row

router = pages_router()
EDITORS = ADMINS
FORM_LIMIT = 200  # characters kept of any one field (the page's own inputs are shorter)
PARAMS = ("text", "hours", "role", "kind", "priority", "tag", "daily_limit")


async def rule_form(request: Request) -> dict[str, str]:
    """The posted fields as text, each cut to FORM_LIMIT (the body size is capped by the
    router): rows arrive as field_N / op_N / value_N."""
    form = await request.form()
    return {str(k): str(v)[:FORM_LIMIT * 3 if k == "text" else FORM_LIMIT]
            for k, v in form.items() if isinstance(v, str)}


Posted = Annotated[dict[str, str], Depends(rule_form)]


@router.get("/rule-editor", response_class=HTMLResponse)
def new_rule_page(request: Request, who: Office, event: str = "", action: str = ""
                  ) -> HTMLResponse:
    require(who, EDITORS, "只有管理员可以新建规则")
    typed = {"event": event, "action": action, "daily_limit": str(rule_book.DAILY_LIMIT)}
    return _page(request, who, None, typed, [], None)


@router.get("/rules/{rule_id}/edit", response_class=HTMLResponse, response_model=None)
def edit_rule_page(request: Request, who: Office, rule_id: str) -> Response:
    require(who, EDITORS, "只有管理员可以修改规则")
    with server_of(request).db.read() as conn:
        rule = rule_book.get(conn, rule_id[:80])
    if rule is None:
        return _missing(request, who, rule_id)
    typed = {"name": rule.name, "event": rule.event, "action": rule.action,
             "condition": rule.condition, "enabled": "on" if rule.enabled else "",
             **{k: str(v) for k, v in rule.params.items() if k in PARAMS}}
    found = rule_conditions.rows_of(rule.condition)
    if found:
        typed["match"] = found[0]
        for n, row in enumerate(found[1]):
            typed |= {f"field_{n}": row.field, f"op_{n}": row.op, f"value_{n}": row.value}
    return _page(request, who, rule.id, typed, [], None)


@router.post("/rule-editor", response_model=None)
def create_rule(request: Request, who: Office, posted: Posted) -> Response:
    check_csrf(request, posted.get("csrf", ""))
    require(who, EDITORS, "只有管理员可以新建规则")
    return _save(request, who, None, posted)


@router.post("/rules/{rule_id}", response_model=None)
def save_rule(request: Request, who: Office, rule_id: str, posted: Posted) -> Response:
    check_csrf(request, posted.get("csrf", ""))
    require(who, EDITORS, "只有管理员可以修改规则")
    return _save(request, who, rule_id[:80], posted)


def _save(request: Request, who: Principal, rule_id: str | None, posted: dict[str, str]
          ) -> Response:
    server = server_of(request)
    with server.db.read() as conn:
        rule = rule_book.get(conn, rule_id) if rule_id else None
    if rule_id and rule is None:
        return _missing(request, who, rule_id)
    event = rule.event if rule else posted.get("event", "")
    action = rule.action if rule else posted.get("action", "")
    typed = {**posted, "event": event, "action": action}
    condition, problems = _condition(event, posted)
    params = {k: posted.get(k, "") for k in PARAMS}
    name, enabled = posted.get("name", "")[:80], posted.get("enabled") == "on"
    now = datetime.now(UTC)
    if posted.get("do") == "preview" or problems:
        problems = problems or rule_book.check(event, condition, action, params)
        found = None
        if not problems:
            with server.db.read() as conn:
                found = rules.preview(conn, event, condition, now)
        return _page(request, who, rule_id, typed, problems, found,
                     status_code=422 if problems else 200)
    with server.db.write() as conn:
        if rule is None:
            made, problems = rule_book.create(conn, who, now, name=name, event=event,
                                              condition=condition, action=action,
                                              params=params, enabled=enabled)
        else:
            made, problems = rule.id, rule_book.update(
                conn, rule.id, who, now, name=name, condition=condition, params=params,
                enabled=enabled)
        if not problems and made:
            audit.security_event(conn, who, "rule_created" if rule is None else "rule_changed",
                                 made, {"name": name.strip(), "event": event,
                                        "condition": condition, "action": action,
                                        "enabled": enabled,
                                        **{k: v for k, v in params.items() if v}})
    if problems or not made:
        return _page(request, who, rule_id, typed, problems, None, status_code=422)
    return RedirectResponse(f"/office/rules?saved={quote(made)}#rule-{made}",
                            status_code=303)


def _condition(event: str, posted: dict[str, str]) -> tuple[str, list[str]]:
    """The rows' expression; without any row, the ``condition`` posted (an expression kept
    from before, or sent by a script)."""
    rows = [Row(posted.get(f"field_{n}", ""), posted.get(f"op_{n}", ""),
                posted.get(f"value_{n}", "")) for n in range(MAX_ROWS + 2)]
    if not any(r.field or r.op or r.value.strip() for r in rows):
        return posted.get("condition", "").strip()[:500], []
    fields = rule_book.EVENTS[event][1] if event in rule_book.EVENTS else {}
    return rule_conditions.compile_rows(fields, posted.get("match", "all"), rows)


def _missing(request: Request, who: Principal, rule_id: str) -> RedirectResponse:
    return RedirectResponse(
        f"/office/rules?failed={quote(rule_id[:80])}&error={quote('没有这条规则')}",
        status_code=303)


def _page(request: Request, who: Principal, rule_id: str | None, typed: dict[str, str],
          problems: list[str], found: rules.Preview | None, status_code: int = 200
          ) -> HTMLResponse:
    event = typed.get("event", "")
    fields = rule_book.EVENTS[event][1] if event in rule_book.EVENTS else {}
    rows = sum(1 for n in range(MAX_ROWS) if typed.get(f"field_{n}"))
    legacy = typed.get("condition", "") if rule_conditions.rows_of(
        typed.get("condition", "")) is None else ""
    versions: list[dict[str, Any]] = []
    if rule_id:
        with server_of(request).db.read() as conn:
            versions = rule_book.versions(conn, rule_id)
    return render_page(request, who, "rule_edit.html", {
        "rule_id": rule_id, "typed": typed, "problems": problems, "preview": found,
        "events": rule_book.EVENTS, "actions": rule_book.ACTIONS, "fields": fields,
        "ops": OPS, "match": MATCH, "row_count": min(MAX_ROWS, max(3, rows + 1)),
        "legacy": legacy, "versions": versions,
        "describe": lambda c: rule_conditions.describe(fields, c),
        "staff_roles": rule_book.STAFF_ROLES, "kind_zh": KIND_ZH,
        "priorities": PRIORITIES, "priority_zh": PRIORITY_ZH, "status_zh": STATUS_ZH,
        "standard_tags": STANDARD_TAGS, "no_customer": rule_book.NO_CUSTOMER,
        "needs_customer": rule_book.NEEDS_CUSTOMER, "utility": rule_book.UTILITY,
    }, status_code=status_code)

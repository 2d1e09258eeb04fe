"""时限与升级: the time each step of a job may take per kind × priority, and the chain an
unacknowledged alert climbs. Every office account reads them; a supervisor or an
administrator without a district edits them (they hold for the whole utility). A page with
any problem saves nothing and comes back with what was typed and every problem named."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from fieldapp.domain.kinds import KIND_ZH, KINDS, PRIORITIES, PRIORITY_ZH
from fieldapp.domain.roles import OFFICE_ROLES, ROLE_ZH, SUPERVISORS
from sync_server.deps import server_of
from sync_server.errors import ApiError
from sync_server.office.auth import check_csrf
from sync_server.office.web import Office, pages_router, render_page, require
from sync_server.services import escalation, time_limits
from sync_server.services.auth import Principal
from sync_server.services.districts import district_of
from sync_server.storage.db import Connection

router = pages_router()
EDITORS = SUPERVISORS


def _may_edit(who: Principal) -> bool:
    return who.role in EDITORS and not district_of(who)


def _require_editor(who: Principal) -> None:
    require(who, EDITORS, "时限与升级由主管或管理员修改")
    if district_of(who):
        raise ApiError(403, "forbidden", "时限全公司通用，只能由不限区域的主管或管理员修改")


@router.get("/time-limits", response_class=HTMLResponse)
def time_limits_page(request: Request, who: Office, saved: str | None = None) -> HTMLResponse:
    with server_of(request).db.read() as conn:
        return _page(request, who, _stored_limits(conn), _stored_chain(conn), [], saved)


def _stored_limits(conn: Connection) -> dict[str, str]:
    """The saved limits as the page's fields hold them (``repair.1.arrive`` → "30")."""
    return {f"{k}.{p}.{s}": str(m) for (k, p), steps in time_limits.limits(conn).items()
            for s, m in steps.items()}


def _stored_chain(conn: Connection) -> list[tuple[str, str]]:
    return [(role, str(after)) for _, role, after in escalation.chain(conn)]


def _page(request: Request, who: Principal, typed: dict[str, str],
          chain: list[tuple[str, str]], problems: list[str], saved: str | None,
          status_code: int = 200) -> HTMLResponse:
    accept = server_of(request).settings.accept_within.total_seconds() / 60
    return render_page(request, who, "time_limits.html", {
        "kinds": KINDS, "kind_zh": KIND_ZH, "priorities": PRIORITIES, "priority_zh": PRIORITY_ZH,
        "steps": time_limits.STEPS, "step_zh": time_limits.STEP_ZH, "typed": typed,
        "chain": chain + [("", "")] * (escalation.MOST_LEVELS - len(chain)),
        "roles": sorted(OFFICE_ROLES), "role_zh": ROLE_ZH, "problems": problems,
        "saved": saved, "can_edit": _may_edit(who),
        "accept_within": time_limits.duration_zh(accept),
        "accept_minutes": f"{accept:.0f}"},
        status_code=status_code)


@router.post("/time-limits", response_class=HTMLResponse, response_model=None)
async def save_limits(request: Request, who: Office,
                      csrf: Annotated[str, Form(max_length=128)] = ""
                      ) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf)
    _require_editor(who)
    form = await request.form()
    typed = {key: str(value)[:20] for key, value in form.items()
             if isinstance(value, str) and key.count(".") == 2}
    problems: list[str] = []
    wanted: dict[tuple[str, int], dict[str, int | None]] = {}
    for kind in KINDS:
        for priority in PRIORITIES:
            values, unread = time_limits.parse(
                {s: typed.get(f"{kind}.{priority}.{s}", "") for s in time_limits.STEPS})
            label = time_limits.label(kind, priority)
            problems += [f"{label}：{p}" for p in unread or time_limits.check(values)]
            wanted[(kind, priority)] = values
    server = server_of(request)
    if not problems:
        with server.db.write() as conn:
            for (kind, priority), values in wanted.items():
                time_limits.save(conn, who, kind, priority, values, datetime.now(UTC))
        return RedirectResponse("/office/time-limits?saved=limits", status_code=303)
    with server.db.read() as conn:
        return _page(request, who, typed, _stored_chain(conn), problems, None, status_code=400)


@router.post("/time-limits/chain", response_class=HTMLResponse, response_model=None)
async def save_chain(request: Request, who: Office,
                     csrf: Annotated[str, Form(max_length=128)] = ""
                     ) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf)
    _require_editor(who)
    form = await request.form()
    typed: list[tuple[str, str]] = []
    for n in range(1, escalation.MOST_LEVELS + 1):
        role, after = str(form.get(f"role_{n}") or "")[:20], str(form.get(f"after_{n}") or "")
        if role or after.strip():
            typed.append((role, after.strip()[:20]))
    problems = [f"第 {n} 级：延迟应为分钟数（整数），不是“{after}”"
                for n, (_, after) in enumerate(typed, start=1)
                if not (after.isascii() and after.isdecimal())]
    server = server_of(request)
    if not problems:
        levels = [(role, int(after)) for role, after in typed]
        with server.db.write() as conn:
            problems = escalation.save_chain(conn, who, levels, datetime.now(UTC))
        if not problems:
            return RedirectResponse("/office/time-limits?saved=chain#chain", status_code=303)
    with server.db.read() as conn:
        return _page(request, who, _stored_limits(conn), typed, problems, None, status_code=400)

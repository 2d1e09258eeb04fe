"""The office's alerts: what came due (an overdue job, a missed step), acknowledged by a
supervisor or an administrator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from fieldapp.domain.roles import ROLE_ZH, SUPERVISORS
from sync_server.deps import server_of
from sync_server.office.auth import check_csrf
from sync_server.office.web import NotYours, Office, RowId, pages_router, render_page, require
from sync_server.services import alerts, audit, escalation
from sync_server.services.districts import district_of

router = pages_router()

ACKNOWLEDGERS = SUPERVISORS


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, who: Office,
                show: Annotated[str, Query(pattern="^(open|all)$")] = "open",
                error: str | None = None) -> HTMLResponse:
    server = server_of(request)
    server.tick(deliver=False)  # what came due since the last timed round shows at once
    with server.db.read() as conn:
        items = alerts.open_alerts(conn, include_acknowledged=show == "all",
                                   district=district_of(who))
        levels = escalation.reached(conn, [a.id for a in items])
    return render_page(request, who, "alerts.html", {
        "items": items, "show": show, "error": error, "kind_zh": alerts.KIND_ZH,
        "levels": levels, "role_zh": ROLE_ZH,
        "can_acknowledge": who.role in ACKNOWLEDGERS})


@router.post("/alerts/{alert_id}/ack")
def acknowledge_alert(request: Request, who: Office, alert_id: RowId,
                      csrf: Annotated[str, Form(max_length=128)] = "") -> RedirectResponse:
    check_csrf(request, csrf)
    require(who, ACKNOWLEDGERS, "提醒由主管或管理员确认")
    with server_of(request).db.write() as conn:
        if not alerts.visible(conn, alert_id, district_of(who)):
            raise NotYours(404, "unknown_alert", f"没有提醒 #{alert_id}")  # or another district's
        done = alerts.acknowledge(conn, alert_id, who, datetime.now(UTC))
        if done:
            audit.security_event(conn, who, "alert_acknowledged", str(alert_id))
    if not done:
        return RedirectResponse(f"/office/alerts?error={quote(f'提醒 #{alert_id} 已确认')}",
                                status_code=303)
    return RedirectResponse("/office/alerts", status_code=303)

"""领料: the parts technicians asked the stores for, newest first; a dispatcher, supervisor
or admin issues or refuses each with a reply, which reaches the tablet at its next sync."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from fieldapp.domain.parts import CATALOGUE_FORM, catalogue
from fieldapp.domain.roles import OFFICE_ROLES
from sync_server.deps import server_of
from sync_server.errors import ApiError
from sync_server.office.auth import check_csrf
from sync_server.office.web import (
    NotYours,
    Office,
    check_district,
    pages_router,
    render_page,
    require,
)
from sync_server.services import dispatch
from sync_server.services.districts import district_of

router = pages_router()
DECIDERS = OFFICE_ROLES
SHOWN = 100


@router.get("/parts", response_class=HTMLResponse)
def parts_page(request: Request, who: Office, error: str | None = None) -> HTMLResponse:
    district = district_of(who)
    with server_of(request).db.read() as conn:
        rows = conn.execute(
            "SELECT p.*, j.number, j.district, c.name AS customer, u.display_name"
            " FROM part_requests p JOIN jobs j ON j.id = p.job_id"
            " LEFT JOIN customers c ON c.id = p.customer_id"
            " LEFT JOIN users u ON u.username = p.by_user"
            + (" WHERE j.district = ?" if district else "")
            + " ORDER BY (p.state = 'requested') DESC, p.requested_at DESC LIMIT ?",
            [*([district] if district else []), SHOWN]).fetchall()
    return render_page(request, who, "parts.html", {"rows": rows, "error": error,
                                                    "names": _part_names(request)})


@router.post("/parts/{request_id}/decide")
def decide(request: Request, who: Office, request_id: str,
           decision: Annotated[Literal["issued", "refused"], Form()],
           reply: Annotated[str, Form(max_length=500)] = "",
           csrf: Annotated[str, Form(max_length=128)] = "") -> RedirectResponse:
    check_csrf(request, csrf)
    require(who, DECIDERS, "领料由调度员、主管或管理员处理")
    if decision == "refused" and not reply.strip():
        return RedirectResponse(f"/office/parts?error={quote('驳回时请写明原因')}",
                                status_code=303)
    server = server_of(request)
    try:
        with server.db.write() as conn:
            row = conn.execute("SELECT p.*, j.district FROM part_requests p JOIN jobs j"
                               " ON j.id = p.job_id WHERE p.id = ?", [request_id]).fetchone()
            if row is None or row["state"] != "requested":
                raise ApiError(404, "unknown_request", "该领料申请已处理或不存在")
            check_district(who, row["district"])
            dispatch.write(conn, who, server.clock, "part_requests", request_id, "update", {
                "state": decision, "reply": reply.strip(), "decided_by": who.username,
                "decided_at": datetime.now(UTC).isoformat(timespec="seconds")},
                old={"state": "requested", "reply": row["reply"], "decided_by": None,
                     "decided_at": None}, base_version=row["version"])
    except NotYours:
        raise  # another district's request: a 403 page, not a note on the list
    except ApiError as exc:
        return RedirectResponse(f"/office/parts?error={quote(exc.message)}", status_code=303)
    return RedirectResponse("/office/parts", status_code=303)


def _part_names(request: Request) -> dict[str, str]:
    """The catalogue's names, from the newest repair report definition on the server."""
    with server_of(request).db.read() as conn:
        row = conn.execute("SELECT definition FROM form_definitions WHERE code = ?"
                           " ORDER BY form_version DESC LIMIT 1", [CATALOGUE_FORM]).fetchone()
    return dict(catalogue(json.loads(row[0]))) if row else {}

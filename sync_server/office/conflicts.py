"""The conflicts review: every value the server kept aside, with its reason, resolved by a
supervisor or an administrator."""

from __future__ import annotations

from typing import Annotated, Any, cast
from urllib.parse import quote

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from fieldapp.records import TABLES
from sync_server.deps import server_of
from sync_server.errors import MAX_INT, ApiError
from sync_server.office.auth import check_csrf
from sync_server.office.web import Office, RowId, office_role, pages_router, render_page
from sync_server.services import review
from sync_server.services.auth import Principal
from sync_server.services.districts import district_of

router = pages_router()


Cursor = Annotated[int | None, Query(ge=0, le=MAX_INT)]


@router.get("/conflicts", response_class=HTMLResponse)
def conflicts_page(request: Request, who: Office,
                   show: Annotated[str, Query(pattern="^(open|resolved|all)$")] = "open",
                   reason: Annotated[str, Query(pattern="^[a-z_:]{0,64}$")] = "",
                   table: Annotated[str, Query(pattern="^[a-z_]{0,40}$")] = "",
                   before: Cursor = None, after: Cursor = None,
                   error: Annotated[str | None, Query(max_length=2000)] = None,
                   failed: Annotated[int | None, Query(ge=0, le=MAX_INT)] = None) -> HTMLResponse:
    """The review, newest first, a page at a time (``before``/``after``: an id cursor),
    only the reviewer's district's when their account names one."""
    if before is not None and after is not None:
        raise ApiError(400, "bad_cursor", "before 与 after 只能选一个")
    which = review.Filter(show, reason, table, district_of(who))
    with server_of(request).db.read() as conn:
        found = review.page(conn, which, before=before, after=after)
        reasons = review.reasons(conn)
    filters = {"show": show, "reason": reason, "table": table}
    return render_page(request, who, "conflicts.html", {
        "items": found.items, "page": found, "filters": filters,
        "query": lambda **more: _query({**filters, **more}), "show": show,
        "reasons": reasons, "tables": sorted(TABLES), "error": error,
        "failed": failed, "can_resolve": who.role in review.REVIEWERS})


def _query(params: dict[str, Any]) -> str:
    """A link's query: the filters that are set and the cursor, nothing empty."""
    return "&".join(f"{k}={quote(str(v))}" for k, v in params.items()
                    if v not in ("", None) and not (k == "show" and v == "open"))


@router.post("/conflicts/{conflict_id}/resolve")
def resolve_conflict(request: Request, conflict_id: RowId,
                     who: Annotated[Principal, office_role(review.REVIEWERS,
                                                           "只有主管或管理员可以处理冲突")],
                     choice: Annotated[str, Form(pattern="^(current|preserved|edit)$")],
                     value: Annotated[str, Form(max_length=2000)] = "",
                     csrf: Annotated[str, Form(max_length=128)] = "") -> RedirectResponse:
    check_csrf(request, csrf)
    server = server_of(request)
    with server.db.write() as conn:  # another district's conflict: a 404, as if unknown
        # the form's pattern admits only review's three choices
        problem = review.resolve(conn, conflict_id, cast(review.Choice, choice),
                                 value, who, server.clock)
    if problem:
        return RedirectResponse(f"/office/conflicts?failed={conflict_id}&error={quote(problem)}",
                                status_code=303)
    return RedirectResponse(f"/office/conflicts#resolved-{conflict_id}", status_code=303)

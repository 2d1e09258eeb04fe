"""Portal pages for what customers ask for: new requests with photos, their progress and
rating, moving an inspection from the reminder's signed link, and the public help."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from sync_server.deps import server_of
from sync_server.http.kb_figures import PORTAL, figure_response
from sync_server.portal import help as public_help
from sync_server.portal import service_requests as service
from sync_server.portal.access import PortalError
from sync_server.portal.uploads import MAX_BYTES
from sync_server.portal.web import (
    Customer,
    check_csrf,
    customer,
    now,
    pages_router,
    render,
    signed_in,
    today,
)
from sync_server.services.appointment_links import APPOINTMENT
from sync_server.services.keys import LinkExpired, LinkInvalid, unsign

router = pages_router()


def _days(count: int = service.BOOK_DAYS) -> list[tuple[str, str]]:
    """The days a visit can be booked on, as (value, label)."""
    first = today()
    days = [first + timedelta(days=i) for i in range(1, count + 1)]
    return [(d.isoformat(), f"{d:%m月%d日} 周{'一二三四五六日'[d.weekday()]}") for d in days]


@router.get("/requests", response_class=HTMLResponse)
def requests_page(request: Request, me: Customer) -> HTMLResponse:
    with server_of(request).db.read() as conn:
        rows = service.listing(conn, me["id"])
    return render(request, "requests.html", {"rows": rows, "kinds": service.KINDS}, me)


@router.get("/requests/new/{kind}", response_class=HTMLResponse)
def new_request(request: Request, me: Customer, kind: str) -> HTMLResponse:
    if kind not in service.KINDS:
        raise PortalError("请选择要办理的业务", 404, "unknown_kind")
    return _form(request, me, kind, {}, None)


def _form(request: Request, me: dict[str, Any], kind: str, form: dict[str, str],
          error: str | None, status_code: int = 200) -> HTMLResponse:
    return render(request, "request_new.html", {
        "kind": kind, "spec": service.KINDS[kind], "form": form, "error": error,
        "days": _days(), "slots": service.SLOTS, "max_mb": MAX_BYTES // 1024 // 1024,
        "urgent": kind == "repair"}, me, status_code=status_code)


@router.post("/requests/new/{kind}")
async def submit_request(request: Request, kind: str) -> Response:
    """One multipart form: the fields and up to two photos, checked whole before storing."""
    me = await run_in_threadpool(customer, request)
    if kind not in service.KINDS:
        raise PortalError("请选择要办理的业务", 404, "unknown_kind")
    try:
        async with request.form(max_files=4, max_fields=20,
                                max_part_size=MAX_BYTES * 2) as sent:
            fields = {k: v[:1000] for k, v in sent.items() if isinstance(v, str)}
            files: dict[str, bytes] = {}
            for role, value in sent.items():
                if isinstance(value, UploadFile):
                    files[role] = await value.read(MAX_BYTES + 1)
    except HTTPException as exc:  # not multipart, too many parts, a part too large
        raise PortalError("提交的内容格式不对或文件过多，没有保存任何内容；请返回重新填写",
                          400, "bad_form") from exc
    check_csrf(request, fields.get("csrf", ""))
    try:
        details, photos, due = service.check(kind, fields, files, me, today())
    except PortalError as exc:
        return _form(request, me, kind, fields, exc.message, exc.status)
    server = server_of(request)

    def store() -> str:
        with server.db.write() as conn:
            return service.submit(conn, server.blobs, server.clock, me, kind, details, photos,
                                  due, now())

    request_id = await run_in_threadpool(store)
    return RedirectResponse(f"/portal/requests/{request_id}?new=1", status_code=303)


@router.get("/requests/{request_id}", response_class=HTMLResponse)
def request_page(request: Request, me: Customer, request_id: str,
                 new: str = "") -> HTMLResponse:
    with server_of(request).db.read() as conn:
        row = service.progress(conn, me["id"], request_id[:64])
    return render(request, "request.html", {"r": row, "steps": service.STEPS,
                                            "new": bool(new)}, me)


@router.post("/requests/{request_id}/rate")
def rate(request: Request, me: Customer, request_id: str,
         stars: Annotated[int, Form(ge=0, le=5)] = 0,
         comment: Annotated[str, Form(max_length=400)] = "",
         csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
    check_csrf(request, csrf)
    with server_of(request).db.write() as conn:
        service.rate(conn, me["id"], request_id[:64], stars, comment, now())
    return RedirectResponse(f"/portal/requests/{request_id}", status_code=303)


# -- the reminder's link: no sign-in, good for one visit until it expires -------------------


def _appointment(conn: Any, token: str) -> dict[str, Any]:
    try:
        claims = unsign(conn, APPOINTMENT, token, now())
    except LinkExpired as exc:
        raise PortalError("改约链接已过期。请登录网上营业厅预约，或致电 96777", 410,
                          "link_expired") from exc
    except LinkInvalid as exc:
        raise PortalError("改约链接无效，请核对短信中的完整链接，或致电 96777", 400,
                          "link_invalid") from exc
    job = conn.execute("SELECT j.*, c.name, c.address FROM jobs j JOIN customers c"
                       " ON c.id = j.customer_id WHERE j.id = ? AND j.customer_id = ?",
                       [str(claims.get("j")), str(claims.get("c"))]).fetchone()
    if job is None:
        raise PortalError("这次预约已不存在，请致电 96777", 404, "unknown_job")
    return dict(job)


@router.get("/a/{token}", response_class=HTMLResponse)
def appointment_page(request: Request, token: str, moved: str = "") -> HTMLResponse:
    with server_of(request).db.read() as conn:
        job = _appointment(conn, token[:1000])
    return render(request, "appointment.html", {
        "job": job, "days": _days(), "slots": service.SLOTS, "moved": bool(moved),
        "movable": job["status"] in service.MOVABLE, "token": token}, None)


@router.post("/a/{token}")
def move_appointment(request: Request, token: str,
                     day: Annotated[str, Form(max_length=20)] = "",
                     slot: Annotated[str, Form(max_length=10)] = "") -> Response:
    server = server_of(request)
    with server.db.write() as conn:
        job = _appointment(conn, token[:1000])
        due, problem = service.visit(day, slot, today())
        if problem:
            return render(request, "appointment.html", {
                "job": job, "days": _days(), "slots": service.SLOTS, "error": problem,
                "movable": job["status"] in service.MOVABLE, "token": token}, None, 422)
        service.move(conn, server.clock, job["id"], job["customer_id"], due)
    return RedirectResponse(f"/portal/a/{token}?moved=1", status_code=303)


# -- help: the public knowledge base ---------------------------------------------------------


@router.get("/help", response_class=HTMLResponse)
def help_page(request: Request, q: str = "") -> HTMLResponse:
    with server_of(request).db.read() as conn:
        hits = public_help.search(conn, q[:100])
    return render(request, "help.html", {"q": q[:100], "hits": hits}, signed_in(request))


@router.get("/help/{article_id}", response_class=HTMLResponse)
def article_page(request: Request, article_id: str) -> HTMLResponse:
    with server_of(request).db.read() as conn:
        found = public_help.article(conn, article_id[:64])
    if found is None:
        raise PortalError("没有找到这篇文章", 404, "unknown_article")
    return render(request, "article.html", {"a": found}, signed_in(request))


@router.get("/help/figures/{name}")
def article_figure(request: Request, name: Annotated[str, PathParam(max_length=80)]
                   ) -> Response:
    """A figure of a public article (and nothing else of the attachment store)."""
    return figure_response(request, name, PORTAL)

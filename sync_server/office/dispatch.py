"""调度中心: the dispatch board, new jobs (form and CSV), a job's page with its suggested
technician and assignment history (the same actions as JSON: office/dispatch_api.py).

The rules live in dispatch.py; these routes only check the role, read the form and show the
outcome. A refused action is shown on the page it came from, in words, and changes nothing.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fieldapp.domain.kinds import KIND_ZH, KINDS, PRIORITIES, PRIORITY_ZH
from fieldapp.domain.roles import OFFICE_ROLES
from fieldapp.domain.status import STATUS_ZH
from sync_server.deps import server_of
from sync_server.errors import ApiError
from sync_server.office import job_map
from sync_server.office.auth import check_csrf
from sync_server.office.web import (
    NotYours,
    Office,
    check_district,
    districts_for,
    pages_router,
    render_page,
    require,
)
from sync_server.services import basemaps, dispatch, holds, network_maps
from sync_server.services.auth import Principal
from sync_server.services.districts import district_of

router = pages_router()

DISPATCHERS = OFFICE_ROLES
# The board's columns: DOMAIN.md's 待受理 → 已派单 → 服务中 → 已完成 → 已回访.
COLUMNS = (("pending", "待受理", ("pending",)), ("dispatched", "已派单", ("dispatched",)),
           ("held", "退单·挂起", ("returned", "suspended")),
           ("working", "服务中", ("accepted", "en_route", "in_service")),
           ("completed", "已完成", ("completed",)), ("followed_up", "已回访", ("followed_up",)))
CSV_COLUMNS = ("kind", "customer", "priority", "due_at", "summary")
MAX_CSV_BYTES = 1_000_000
BOARD_DAYS = 7  # finished jobs stay on the board this long


def roads_for(request: Request) -> dispatch.RoadsFor:
    """Each district's roads from this server's store, to measure dispatch distances."""
    return partial(network_maps.roads_of, objects=server_of(request).objects)


def may_dispatch(who: Principal) -> None:
    require(who, DISPATCHERS, "只有调度员、主管和管理员可以派单")


# -- pages ----------------------------------------------------------------------------------


@router.get("/dispatch", response_class=HTMLResponse)
def board(request: Request, who: Office, district: str = "", done: str | None = None,
          error: str | None = None) -> HTMLResponse:
    district = district_of(who) or district
    with server_of(request).db.read() as conn:
        rows = _board_jobs(conn, district)
        districts = districts_for(conn, who)
        why = holds.reasons_of(conn, [r["id"] for r in rows if r["status"] in holds.HELD])
    columns = [(key, title, [r for r in rows if r["status"] in statuses])
               for key, title, statuses in COLUMNS]
    return render_page(request, who, "dispatch.html", {
        "columns": columns, "districts": districts, "district": district, "done": done,
        "error": error, "kind_zh": KIND_ZH, "priority_zh": PRIORITY_ZH,
        "status_zh": STATUS_ZH, "can_dispatch": who.role in DISPATCHERS, "why": why})


def _board_jobs(conn: Any, district: str) -> list[dict[str, Any]]:
    """What the board and the map show: open jobs, and those finished in the last week."""
    return [dict(r) for r in conn.execute(
        "SELECT j.*, c.name AS customer_name, c.address, c.lat, c.lon,"
        " u.display_name AS assignee_name FROM jobs j JOIN customers c ON c.id = j.customer_id"
        " LEFT JOIN users u ON u.username = j.assignee"
        " WHERE (j.status NOT IN ('completed', 'followed_up', 'cancelled') OR j.due_at >= ?)"
        " AND (? = '' OR j.district = ?) ORDER BY j.priority, j.due_at, j.number",
        [_days_ago(BOARD_DAYS), district, district]).fetchall()]


@router.get("/dispatch/map", response_class=HTMLResponse)
def dispatch_map(request: Request, who: Office, district: str = "") -> HTMLResponse:
    """The open jobs and the last week's finished ones on a plan, with the technicians."""
    district = district_of(who) or district
    with server_of(request).db.read() as conn:
        jobs = _board_jobs(conn, district)
        techs = [t for t in dispatch.technicians(conn)
                 if not district or t["district"] == district]
        districts = districts_for(conn, who)
        network = network_maps.bundle_of(conn, server_of(request).objects, district) \
            if district else None
        setting = network_maps.current(conn, district, basemaps.PREFIX) if district else None
    found = basemaps.opened(server_of(request).objects, setting)
    tiles = job_map.Tiles(f"/office/dispatch/map/tiles/{quote(district)}", found.min_zoom,
                          found.max_zoom, found.attribution) if found else None

    def describe(j: dict[str, Any]) -> str:
        return (f"{j['number']} {KIND_ZH.get(j['kind'], j['kind'])}"
                f" · {STATUS_ZH.get(j['status'], j['status'])} · {j['customer_name']}"
                + (f" · {j['assignee']}" if j["assignee"] else ""))

    return render_page(request, who, "dispatch_map.html", {
        "plan": job_map.build(jobs, techs, describe, network, tiles), "district": district,
        "technicians": job_map.technician_rows(techs),
        "districts": districts, "count": len(jobs), "colours": job_map.COLOUR,
        "status_zh": STATUS_ZH})


@router.get("/dispatch/map/tiles/{district}/{z}/{x}/{y}", response_class=Response)
def map_tile(request: Request, who: Office, district: str,
             z: Annotated[int, PathParam(ge=0, le=24)], x: Annotated[int, PathParam(ge=0)],
             y: Annotated[int, PathParam(ge=0)]) -> Response:
    """A tile of the district's basemap (``services/basemaps.py``) under the dispatch map:
    an account limited to one district gets only its own district's."""
    check_district(who, district)
    with server_of(request).db.read() as conn:
        setting = network_maps.current(conn, district, basemaps.PREFIX)
    found = basemaps.opened(server_of(request).objects, setting)
    data = found.image(z, x, y) if found is not None else None
    if found is None or data is None:
        raise NotYours(404, "no_tile", "底图此处没有瓦片")
    return Response(data, media_type=basemaps.MEDIA[found.image_format], headers={
        "Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"})


@router.post("/dispatch/auto")
def auto(request: Request, who: Office,
         csrf: Annotated[str, Form(max_length=128)] = "") -> RedirectResponse:
    check_csrf(request, csrf)
    may_dispatch(who)
    try:
        server = server_of(request)
        with server.db.write() as conn:
            decided = dispatch.auto_dispatch(conn, who, server.clock, district_of(who),
                                             roads_for(request))
    except ApiError as exc:
        return RedirectResponse(f"/office/dispatch?error={quote(exc.message)}", status_code=303)
    assigned = sum(1 for _, pick in decided if pick.username)
    note = f"自动派单：{assigned} 单已派出" + (
        f"，{len(decided) - assigned} 单无合适人员，请手动指派" if assigned < len(decided) else "")
    return RedirectResponse(f"/office/dispatch?done={quote(note)}", status_code=303)


@router.get("/jobs/new", response_class=HTMLResponse)
def new_job_page(request: Request, who: Office,
                 kind: Annotated[str, Query(max_length=40)] = "",
                 customer: Annotated[str, Query(max_length=64)] = "",
                 priority: Annotated[int | None, Query(ge=1, le=4)] = None,
                 summary: Annotated[str, Query(max_length=500)] = "") -> HTMLResponse:
    """The new-job form, filled in when it comes from somewhere (客服中心's call log)."""
    values = {"kind": kind if kind in KINDS else "", "customer": customer,
              "priority": priority, "summary": summary}
    return _job_form(request, who, {k: v for k, v in values.items() if v}, None)


def _job_form(request: Request, who: Principal, values: dict[str, Any],
              problems: list[str] | None, status_code: int = 200) -> HTMLResponse:
    return render_page(request, who, "job_new.html", {
        "values": values, "problems": problems, "kinds": KINDS, "kind_zh": KIND_ZH,
        "priorities": PRIORITIES, "priority_zh": PRIORITY_ZH}, status_code=status_code)


@router.post("/jobs", response_model=None)
def create_job(request: Request, who: Office,
               kind: Annotated[str, Form(max_length=40)] = "",
               customer: Annotated[str, Form(max_length=64)] = "",
               priority: Annotated[str, Form(max_length=4)] = "3",
               due_at: Annotated[str, Form(max_length=40)] = "",
               summary: Annotated[str, Form(max_length=2000)] = "",
               csrf: Annotated[str, Form(max_length=128)] = "") -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf)
    values = {"kind": kind, "customer": customer.strip(), "priority": priority,
              "due_at": due_at, "summary": summary}
    may_dispatch(who)
    try:
        server = server_of(request)
        with server.db.write() as conn:
            job_id = dispatch.create_job(conn, who, server.clock, values, district_of(who))
    except ApiError as exc:
        return _job_form(request, who, values, exc.detail or [exc.message], status_code=422)
    return RedirectResponse(f"/office/jobs/{job_id}?created=1", status_code=303)


@router.post("/jobs/import", response_model=None)
async def import_jobs(request: Request, who: Office,
                      file: Annotated[UploadFile, File()],
                      csrf: Annotated[str, Form(max_length=128)] = "",
                      ) -> HTMLResponse | RedirectResponse:
    """Jobs from a CSV (UTF-8, with or without BOM: Excel's "CSV UTF-8"), all or none."""
    check_csrf(request, csrf)
    may_dispatch(who)
    raw = await file.read(MAX_CSV_BYTES + 1)
    try:
        rows = _csv_rows(raw)
        server = server_of(request)
        with server.db.write() as conn:
            problems: list[str] = []
            for n, row in enumerate(rows, start=2):  # line 1 is the header
                try:
                    dispatch.create_job(conn, who, server.clock, row, district_of(who))
                except ApiError as exc:
                    problems += [f"第 {n} 行：{p}" for p in exc.detail or [exc.message]]
            if problems:  # raised inside the write: nothing of the file is kept
                raise ApiError(422, "invalid_csv", "；".join(problems), detail=problems)
    except ApiError as exc:
        return _job_form(request, who, {}, exc.detail or [exc.message], status_code=422)
    note = f"已导入 {len(rows)} 个工单（待受理）"
    return RedirectResponse(f"/office/dispatch?done={quote(note)}", status_code=303)


def _csv_rows(raw: bytes) -> list[dict[str, str]]:
    if len(raw) > MAX_CSV_BYTES:
        raise ApiError(413, "csv_too_large", f"文件超过 {MAX_CSV_BYTES // 1000} KB，请分批导入")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApiError(422, "csv_not_utf8", "文件不是 UTF-8 编码：请在 Excel 中另存为“CSV UTF-8”"
                       ) from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("kind", "customer") if c not in (reader.fieldnames or [])]
    if missing:
        raise ApiError(422, "csv_columns", f"缺少列：{', '.join(missing)}（表头应为"
                       f" {','.join(CSV_COLUMNS)}）")
    rows = [{k: (v or "").strip() for k, v in row.items() if k in CSV_COLUMNS}
            for row in reader]
    if not rows:
        raise ApiError(422, "csv_empty", "文件中没有工单")
    return rows


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, who: Office, job_id: str,
             created: Annotated[int, Query(ge=0, le=1)] = 0,
             error: str | None = None) -> HTMLResponse:
    with server_of(request).db.read() as conn:
        job = dispatch.job_row(conn, job_id)
        check_district(who, job["district"])
        customer = dict(conn.execute("SELECT * FROM customers WHERE id = ?",
                                     [job["customer_id"]]).fetchone())
        history = conn.execute("SELECT * FROM job_status_history WHERE job_id = ?"
                               " ORDER BY at", [job_id]).fetchall()
        log = conn.execute("SELECT d.*, u.display_name FROM dispatch_log d LEFT JOIN users u"
                           " ON u.username = d.assignee WHERE d.job_id = ? ORDER BY d.id",
                           [job_id]).fetchall()
        reports = conn.execute("SELECT id, form_code, state FROM submissions WHERE job_id = ?",
                               [job_id]).fetchall()
        notes = [holds.shown(dict(n)) for n in conn.execute(
            "SELECT * FROM interactions WHERE job_id = ? ORDER BY at", [job_id]).fetchall()]
        why = holds.reasons_of(conn, [job_id]).get(job_id) if job["status"] in holds.HELD \
            else None
        asked = conn.execute("SELECT * FROM portal_requests WHERE job_id = ?"
                             " ORDER BY created_at", [job_id]).fetchall()
        uploads = conn.execute("SELECT u.* FROM portal_uploads u JOIN portal_requests r"
                               " ON r.id = u.request_id WHERE r.job_id = ? ORDER BY u.id",
                               [job_id]).fetchall()
        techs = dispatch.technicians(conn)
        pick = (dispatch.suggest(conn, job_id, techs, roads_for(request))
                if job["status"] in dispatch.ASSIGNABLE else None)
    return render_page(request, who, "job.html", {
        "job": job, "customer": customer, "history": history, "log": log, "reports": reports,
        "notes": notes, "asked": asked, "uploads": uploads, "why": why,
        "techs": techs, "pick": pick, "created": created, "error": error,
        "kind_zh": KIND_ZH, "priority_zh": PRIORITY_ZH, "status_zh": STATUS_ZH,
        "can_dispatch": who.role in DISPATCHERS})


@router.post("/jobs/{job_id}/assign")
def assign_job(request: Request, who: Office, job_id: str,
               username: Annotated[str, Form(max_length=64)] = "",
               csrf: Annotated[str, Form(max_length=128)] = "") -> RedirectResponse:
    check_csrf(request, csrf)
    may_dispatch(who)
    try:
        assign_by_hand(request, who, job_id, username)
    except NotYours:
        raise  # another district's job: a 403 page, not a note on a page it may not open
    except ApiError as exc:
        return RedirectResponse(f"/office/jobs/{job_id}?error={quote(exc.message)}",
                                status_code=303)
    return RedirectResponse(f"/office/jobs/{job_id}", status_code=303)


def assign_by_hand(request: Request, who: Principal, job_id: str, username: str) -> str:
    """Assign by hand, saying whether it follows the suggestion; returns the explanation."""
    server = server_of(request)
    with server.db.write() as conn:
        check_district(who, dispatch.job_row(conn, job_id)["district"])
        pick = dispatch.suggest(conn, job_id, roads=roads_for(request))
        if pick.username == username:
            explanation = f"{who.display_name} 采纳系统建议 · {pick.explanation}"
        else:
            explanation = f"{who.display_name} 手动指派" + (
                f"（系统建议 {_name(pick)}）" if pick.username else "")
        dispatch.assign(conn, who, server.clock, job_id, username, explanation)
    return explanation


def _name(pick: dispatch.Suggestion) -> str:
    return next((c.display_name for c in pick.candidates if c.username == pick.username),
                pick.username or "")


def _days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")

"""Back office: synced inspection reports with their evidence, and the conflicts review.

Every page needs a signed-in office user (office_auth.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, BinaryIO, cast
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates

from fieldapp.domain.kinds import KIND_ZH
from fieldapp.errors import InvalidInput, NotFound
from fieldapp.local_time import LOCAL_ZONE, local_text
from fieldapp.records import TABLES, Policy
from fieldapp.reports import documents, report_data
from sync_server.deps import server_of
from sync_server.errors import MAX_INT, ApiError
from sync_server.http.pages import page_route
from sync_server.office import photo_map
from sync_server.office.auth import (
    COOKIE,
    SESSION_TTL,
    check_csrf,
    csrf_token,
    keep_login_csrf,
    login_csrf,
    login_csrf_ok,
    office_user,
    sign_in,
    sign_in_failed,
    sign_out,
)
from sync_server.services import alerts, auth, review
from sync_server.services.auth import Principal
from sync_server.services.districts import district_of
from sync_server.storage.sniff import HEAD_BYTES, IMAGES, sniff

templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates" / "office")


def local_time(value: str | None) -> str:
    """A stored time as the office reads it, to the second, in the utility's zone."""
    return local_text(value, "%Y-%m-%d %H:%M:%S")


templates.env.filters["local"] = local_time

STATUS_ZH = {"pending": "待受理", "dispatched": "已派单", "accepted": "已接单", "en_route": "在途",
             "in_service": "服务中", "completed": "已完成", "followed_up": "已回访",
             "cancelled": "已取消"}


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

ROLE_ZH = {"dispatcher": "调度员", "supervisor": "主管", "admin": "管理员", "auditor": "审计员",
           "technician": "安检员"}

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
    return [r[0] for r in conn.execute("SELECT DISTINCT district FROM customers"
                                       " WHERE district IS NOT NULL ORDER BY district")]


def require(who: Principal, roles: frozenset[str], message: str) -> None:
    """Refuse the action to a role not among ``roles`` (a 403 page saying why)."""
    if who.role not in roles:
        raise ApiError(403, "forbidden", message)


def error_page(request: Request, exc: ApiError) -> HTMLResponse:
    """An office page's refusal in words, with the way back, instead of raw JSON."""
    came_from = urlsplit(request.headers.get("referer") or "")
    back = _local(came_from.path + (f"?{came_from.query}" if came_from.query else ""))
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


router = pages_router()


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


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/office/") -> HTMLResponse:
    return _login_form(request, {"next": _local(next)})


def _login_form(request: Request, context: dict[str, Any], status_code: int = 200
                ) -> HTMLResponse:
    """The sign-in page with its pre-session CSRF token, in the form and in a cookie."""
    token = login_csrf(request)
    page = templates.TemplateResponse(request, "login.html", {**context, "csrf": token},
                                      status_code=status_code)
    keep_login_csrf(page, request, token)
    return page


@router.post("/login", response_model=None)
def login(request: Request, username: Annotated[str, Form(max_length=64)] = "",
          password: Annotated[str, Form(max_length=256)] = "",
          next: Annotated[str, Form(max_length=500)] = "/office/",
          csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
    if not login_csrf_ok(request, csrf):  # checked before the password: nothing is counted
        return _login_form(request, {
            "next": _local(next), "username": username,
            "error": "登录页面已过期或来自其他网站，请重新输入用户名和密码"}, status_code=403)
    client = auth.client_address(request)
    try:
        token = sign_in(server_of(request).db, username.strip(), password, client,
                        request.headers.get("user-agent", ""))
    except ApiError as exc:
        with server_of(request).db.write() as conn:  # the attempt's own write was undone
            sign_in_failed(conn, username.strip(), client, exc.code)
        message = {"bad_credentials": "用户名或密码错误",
                   "not_office": "安检员请使用平板应用，后台仅供调度、主管和管理员使用",
                   "device_revoked": "该会话已被管理员停用",
                   "too_many_attempts": "密码错误次数过多，请 15 分钟后再试"}.get(
                       exc.code, exc.message)
        return _login_form(request, {"next": _local(next), "error": message,
                                     "username": username},
                           status_code=exc.status if exc.status == 429 else 401)
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(COOKIE, token, max_age=int(SESSION_TTL.total_seconds()),
                        httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")
    return response


@router.post("/logout")
def logout(request: Request, who: Office,
           csrf: Annotated[str, Form(max_length=128)] = "") -> RedirectResponse:
    check_csrf(request, csrf)
    with server_of(request).db.write() as conn:
        sign_out(conn, request.cookies[COOKIE], who)
    response = RedirectResponse("/office/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def _local(url: str) -> str:
    """Only a path of this site: a sign-in link must not send anyone elsewhere."""
    return url if url.startswith("/office/") and "//" not in url and "\\" not in url \
        else "/office/"


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


@router.get("/", response_class=HTMLResponse)
def reports(request: Request, who: Office,
            q: Annotated[str, Query(max_length=64)] = "",
            technician: Annotated[str, Query(max_length=64)] = "",
            kind: Annotated[str, Query(max_length=40)] = "",
            since: Annotated[str, Query(max_length=10)] = "",
            until: Annotated[str, Query(max_length=10)] = "",
            hazards: Annotated[str, Query(pattern="^(|yes|no)$")] = "") -> HTMLResponse:
    """The synced reports, newest first, searched by customer (name, account or address),
    technician, kind of job, the day submitted and whether hazards were found."""
    clauses, params = [], []
    if q.strip():
        clauses.append("(c.name LIKE ? OR c.account_no = ? OR c.address LIKE ?"
                       " OR j.number = ?)")
        params += [f"%{q.strip()}%", q.strip(), f"%{q.strip()}%", q.strip()]
    if technician.strip():
        clauses.append("(s.by_user = ? OR u.display_name = ?)")
        params += [technician.strip(), technician.strip()]
    if kind:
        clauses.append("j.kind = ?")
        params.append(kind)
    if hazards:
        clauses.append(("" if hazards == "yes" else "NOT ")
                       + "EXISTS (SELECT 1 FROM hazards h WHERE h.submission_id = s.id)")
    district = district_of(who)
    if district:
        clauses.append("c.district = ?")
        params.append(district)
    first, last = _day(since), _day(until)
    with server_of(request).db.read() as conn:
        rows = [dict(r) for r in conn.execute(
            "SELECT s.id, s.state, s.submitted_at, s.started_at, s.by_user, s.device_id,"
            " s.form_code, j.number, j.status, j.kind, c.name, c.account_no, c.address,"
            " u.display_name,"
            " (SELECT count(*) FROM answers a WHERE a.submission_id = s.id"
            "  AND json_extract(a.value, '$') = 'fail') AS failed,"
            " (SELECT count(*) FROM hazards h WHERE h.submission_id = s.id) AS hazards"
            " FROM submissions s JOIN jobs j ON j.id = s.job_id"
            " JOIN customers c ON c.id = s.customer_id"
            " LEFT JOIN users u ON u.username = s.by_user"
            + (" WHERE " + " AND ".join(clauses) if clauses else "")
            + " ORDER BY coalesce(s.submitted_at, s.started_at) DESC NULLS LAST"
            " LIMIT 1000", params).fetchall()]
    if first or last:  # device times carry their own offsets: compared as times here
        rows = [r for r in rows if _in_days(r["submitted_at"] or r["started_at"], first, last)]
    return render_page(request, who, "reports.html", {
        "rows": rows[:200], "more": len(rows) > 200, "status_zh": STATUS_ZH,
        "kinds": KIND_ZH, "filters": {"q": q, "technician": technician, "kind": kind,
                                      "since": since, "until": until, "hazards": hazards}})


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _in_days(value: str | None, first: date | None, last: date | None) -> bool:
    try:
        day = datetime.fromisoformat(value).astimezone(LOCAL_ZONE).date() if value else None
    except ValueError:
        return False
    return day is not None and (first is None or day >= first) and (last is None or day <= last)


@router.get("/reports/{submission_id}", response_class=HTMLResponse)
def report(request: Request, who: Office, submission_id: str) -> HTMLResponse:
    data = _report_data(request, who, submission_id)
    with server_of(request).db.read() as conn:
        sub = conn.execute("SELECT * FROM submissions WHERE id = ?", [submission_id]).fetchone()
        job = conn.execute("SELECT * FROM jobs WHERE id = ?", [sub["job_id"]]).fetchone()
        customer = conn.execute("SELECT * FROM customers WHERE id = ?",
                                [sub["customer_id"]]).fetchone()
        q = [sub["job_id"]]
        # NULLS FIRST/LAST spelled out: SQLite's order, which PostgreSQL's default reverses.
        photos = conn.execute("SELECT * FROM attachments WHERE job_id = ? AND kind = 'photo'"
                              " ORDER BY captured_at NULLS FIRST", q).fetchall()
        signatures = conn.execute(
            "SELECT s.*, a.sha256 FROM signatures s JOIN attachments a ON a.id = s.attachment_id"
            " WHERE s.job_id = ? ORDER BY s.signed_at NULLS FIRST", q).fetchall()
        scans = conn.execute("SELECT * FROM scans WHERE job_id = ?"
                             " ORDER BY scanned_at NULLS FIRST", q).fetchall()
        history = conn.execute("SELECT h.*, c.at AS synced_at FROM job_status_history h"
                               " LEFT JOIN changes c ON c.record_id = h.id AND c.op = 'insert'"
                               " WHERE h.job_id = ? ORDER BY h.at", q).fetchall()
        conflicts = conn.execute("SELECT * FROM conflicts WHERE record_id IN"
                                 " (SELECT id FROM answers WHERE submission_id = ?)"
                                 " OR record_id = ?", [submission_id, sub["job_id"]]).fetchall()
    return render_page(request, who, "report.html", {
        "sub": sub, "job": job, "customer": customer, "report": data,
        "documents": documents.available(sub["state"], len(data.hazards)),
        "photos": photos, "photo_map": photo_map.build(dict(customer), [dict(p) for p in photos]),
        "signatures": signatures, "scans": scans, "history": history,
        "conflicts": conflicts, "status_zh": STATUS_ZH})


def _report_data(request: Request, who: Principal,
                 submission_id: str) -> report_data.InspectionReport:
    """The submission as its documents show it: the same loader as the tablet's."""
    server = server_of(request)
    if district_of(who):
        with server.db.read() as conn:
            row = conn.execute("SELECT c.district FROM submissions s JOIN customers c"
                               " ON c.id = s.customer_id WHERE s.id = ?",
                               [submission_id]).fetchone()
        check_district(who, row[0] if row else None)

    def read_blob(sha256: str) -> bytes | None:
        if not server.objects.exists(sha256):
            return None
        with server.objects.open(sha256) as fh:
            data: bytes = fh.read()
        return data

    with server.db.read() as conn:
        def query(sql: str, params: Any) -> list[dict[str, Any]]:
            return [dict(row) for row in conn.execute(sql, list(params)).fetchall()]

        try:
            return report_data.load(query, read_blob, submission_id,
                                    display_name=lambda u: _display_name(conn, u))
        except NotFound as exc:
            raise ApiError(404, "unknown_report", f"no report {submission_id}") from exc


@router.get("/verify", response_class=HTMLResponse)
def verify_page(request: Request, who: Office,
                code: Annotated[str, Query(max_length=300)] = "") -> HTMLResponse:
    """Check a printed report or notice: paste (or scan) the text of its QR code; the report
    is loaded as it stands now and its content hash compared with the printed one."""
    result: dict[str, Any] | None = None
    if code.strip():
        # The QR code holds the public page's address, or (no public address) fieldapp://.
        match = re.fullmatch(r"(?:fieldapp:/|https?://[^/\s?#]+)/verify/(\w+)/([\w-]{1,64})"
                             r"\?sha256=([0-9a-f]{64})", code.strip())
        if match is None:
            result = {"state": "unreadable"}
        else:
            kind, report_id, printed = match.groups()
            try:
                data = _report_data(request, who, report_id)
            except ApiError as exc:
                if exc.status != 404:
                    raise
                result = {"state": "unknown", "report_id": report_id}
            else:
                result = {"state": "same" if data.content_hash == printed else "changed",
                          "report_id": report_id, "kind": kind, "printed": printed,
                          "current": data.content_hash, "title": data.form_title,
                          "number": data.job.number}
    return render_page(request, who, "verify.html", {"code": code, "result": result})


@router.get("/reports/{submission_id}/{document}.pdf")
def report_pdf(request: Request, who: Office, submission_id: str, document: str) -> Response:
    """The form's report (``report``) or the rectification notice (``notice``) as PDF, built
    by the same code from the same synced data as on the tablet."""
    if document not in documents.DOCUMENTS:
        raise ApiError(404, "unknown_document", f"no document {document}")
    data = _report_data(request, who, submission_id)
    try:
        pdf = documents.render(data, document)
    except InvalidInput as exc:  # a notice for a form that found no hazard
        raise ApiError(404, exc.code, str(exc)) from exc
    name = documents.file_name(data, document)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}"})


def _display_name(conn: Any, username: str) -> str | None:
    row = conn.execute("SELECT display_name FROM users WHERE username = ?",
                       [username]).fetchone()
    return row[0] if row else None


@router.get("/files/{sha256}")
def file(request: Request, who: Office, sha256: str) -> StreamingResponse:
    """A stored file: inline only when its bytes are an image, as the type they are (never
    the one the tablet declared); anything else a download that no browser renders. A file
    of another district is as unknown as a missing one to an account limited to one."""
    server = server_of(request)
    server.blobs.check_name(sha256)
    scope = district_of(who)
    with server.db.read() as conn:
        # A tablet's evidence, or a photo a customer sent with a portal request.
        row = conn.execute(
            "SELECT 1 FROM attachments a LEFT JOIN customers c ON c.id = a.customer_id"
            " WHERE a.sha256 = ?" + (" AND c.district = ?" if scope else "") + " UNION ALL"
            " SELECT 1 FROM portal_uploads u LEFT JOIN customers c ON c.id = u.customer_id"
            " WHERE u.sha256 = ?" + (" AND c.district = ?" if scope else "") + " LIMIT 1",
            [sha256, scope, sha256, scope] if scope else [sha256, sha256]).fetchone()
    if row is None or not server.objects.exists(sha256):
        raise ApiError(404, "unknown_file", f"no file {sha256}")
    fh = server.objects.open(sha256)
    head = fh.read(HEAD_BYTES)
    kind = sniff(head)
    if kind in IMAGES:
        return StreamingResponse(_chunks(fh, head), media_type=kind,
                                 headers={"X-Content-Type-Options": "nosniff"})
    name = f"fieldapp-{sha256[:16]}" + (".pdf" if kind == "application/pdf" else ".bin")
    return StreamingResponse(_chunks(fh, head), media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Content-Type-Options": "nosniff"})


def _chunks(fh: BinaryIO, head: bytes = b"") -> Iterator[bytes]:
    with fh:
        if head:
            yield head
        while block := fh.read(256 * 1024):
            yield block

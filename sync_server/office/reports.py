"""The synced inspection reports: the list, one report with its evidence, its PDFs, the
check of a printed QR code, and the stored files they show."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Any, BinaryIO
from urllib.parse import quote

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from fieldapp.domain.kinds import KIND_ZH
from fieldapp.domain.status import STATUS_ZH
from fieldapp.errors import InvalidInput, NotFound
from fieldapp.file_kinds import HEAD_BYTES, IMAGES, RECORDINGS, sniff
from fieldapp.local_time import LOCAL_ZONE
from fieldapp.reports import documents, report_data
from sync_server.deps import server_of
from sync_server.errors import ApiError
from sync_server.office import photo_map
from sync_server.office.web import Office, check_district, pages_router, render_page
from sync_server.services.auth import Principal
from sync_server.services.districts import district_of

router = pages_router()


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
        recordings = conn.execute(
            "SELECT * FROM attachments WHERE job_id = ? AND kind IN ('audio', 'video')"
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
        "signatures": signatures, "scans": scans, "recordings": recordings, "history": history,
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
    if kind in IMAGES or kind in RECORDINGS:  # shown or played, never run
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

"""Back office, first page: synced inspection reports with answers, photos and signature."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from fastapi.templating import Jinja2Templates

from fieldapp.forms.checklist import items
from fieldapp.ids import LOCAL_ZONE
from sync_server.errors import ApiError

router = APIRouter(prefix="/office", include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def local_time(value: str | None) -> str:
    """ISO 8601 from any zone, shown in the utility's zone (the office reads local time)."""
    if not value:
        return ""
    try:
        return datetime.fromisoformat(value).astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return value


templates.env.filters["local"] = local_time

STATUS_ZH = {"pending": "待受理", "dispatched": "已派单", "accepted": "已接单", "en_route": "在途",
             "in_service": "服务中", "completed": "已完成", "followed_up": "已回访",
             "cancelled": "已取消"}
ANSWER_ZH = {"pass": "合格", "fail": "不合格", "na": "不适用", None: "未填"}


def _server(request: Request) -> Any:
    return request.app.state.server


@router.get("/", response_class=HTMLResponse)
def reports(request: Request) -> HTMLResponse:
    with _server(request).db.read() as conn:
        rows = conn.execute(
            "SELECT s.id, s.state, s.submitted_at, s.by_user, s.device_id, j.number, j.status,"
            " j.kind, c.name, c.account_no, c.address, u.display_name,"
            " (SELECT count(*) FROM answers a WHERE a.submission_id = s.id"
            "  AND json_extract(a.value, '$') = 'fail') AS failed"
            " FROM submissions s JOIN jobs j ON j.id = s.job_id"
            " JOIN customers c ON c.id = s.customer_id"
            " LEFT JOIN users u ON u.username = s.by_user"
            " ORDER BY coalesce(s.submitted_at, s.started_at) DESC NULLS LAST"
            " LIMIT 200").fetchall()
    return templates.TemplateResponse(request, "reports.html",
                                      {"rows": rows, "status_zh": STATUS_ZH})


@router.get("/reports/{submission_id}", response_class=HTMLResponse)
def report(request: Request, submission_id: str) -> HTMLResponse:
    with _server(request).db.read() as conn:
        sub = conn.execute("SELECT * FROM submissions WHERE id = ?", [submission_id]).fetchone()
        if sub is None:
            raise ApiError(404, "unknown_report", f"no report {submission_id}")
        job = conn.execute("SELECT * FROM jobs WHERE id = ?", [sub["job_id"]]).fetchone()
        customer = conn.execute("SELECT * FROM customers WHERE id = ?",
                                [sub["customer_id"]]).fetchone()
        form = conn.execute("SELECT definition FROM form_definitions WHERE code = ? AND"
                            " form_version = ?", [sub["form_code"], sub["form_version"]]).fetchone()
        answers = {r["question"]: r for r in conn.execute(
            "SELECT * FROM answers WHERE submission_id = ?", [submission_id])}
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
    definition = json.loads(form[0]) if form else {"items": [], "title": {"zh": sub["form_code"]}}
    lines = []
    for key, item in items(definition).items():
        a = answers.get(key)
        value = json.loads(a["value"]) if a and a["value"] else None
        lines.append({"label": item["label"]["zh"], "value": value, "text": ANSWER_ZH.get(value),
                      "note": a["note"] if a else None, "answer": a})
    return templates.TemplateResponse(request, "report.html", {
        "sub": sub, "job": job, "customer": customer, "definition": definition, "lines": lines,
        "photos": photos, "signatures": signatures, "scans": scans, "history": history,
        "conflicts": conflicts, "status_zh": STATUS_ZH})


@router.get("/files/{sha256}")
def file(request: Request, sha256: str) -> StreamingResponse:
    server = _server(request)
    server.blobs.check_name(sha256)
    with server.db.read() as conn:
        row = conn.execute("SELECT mime FROM attachments WHERE sha256 = ? LIMIT 1",
                           [sha256]).fetchone()
    if row is None or not server.objects.exists(sha256):
        raise ApiError(404, "unknown_file", f"no file {sha256}")
    return StreamingResponse(_chunks(server.objects.open(sha256)), media_type=row["mime"])


def _chunks(fh: BinaryIO) -> Iterator[bytes]:
    with fh:
        while block := fh.read(256 * 1024):
            yield block

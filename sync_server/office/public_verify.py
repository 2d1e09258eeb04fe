"""The page a printout's QR code opens: anyone, no sign-in, may check that a document matches
the utility's record.

    GET /verify/{kind}/{report_id}?sha256=<64 hex>

The report is loaded as it stands now and its content hash recomputed, exactly as the
office's ``/office/verify`` does. The page says only whether the printout matches, and, when
it does, the document's number, its date and the utility's name: a printout in anyone's
hands must not turn the page into a way to read customers' names, phones or addresses, so
nothing of the customer is ever rendered, and a document that does not match (forged,
altered, or unknown) learns nothing but that.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from fieldapp.errors import NotFound
from fieldapp.local_time import local_text
from fieldapp.reports import document_kinds, report_data

router = APIRouter()
templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates" / "office")
HASH = re.compile(r"[0-9a-f]{64}")
ID = re.compile(r"[\w-]{1,64}")
KINDS = frozenset({document_kinds.INSPECTION, document_kinds.REPAIR, document_kinds.NOTICE})


def _kind_of(data: report_data.InspectionReport) -> set[str]:
    """The documents a submission prints: its report (the repair report's own kind for a
    repair form) and, when it found hazards, the notice."""
    own = (document_kinds.REPAIR if data.form_code == "repair_report"
           else document_kinds.INSPECTION)
    return {own, document_kinds.NOTICE} if data.hazards else {own}


def _load(request: Request, report_id: str) -> tuple[report_data.InspectionReport,
                                                     str | None] | None:
    server = request.app.state.server
    with server.db.read() as conn:
        def query(sql: str, params: Any) -> list[dict[str, Any]]:
            return [dict(row) for row in conn.execute(sql, list(params)).fetchall()]

        def display_name(username: str) -> str | None:  # printed, so hashed: as the office
            row = conn.execute("SELECT display_name FROM users WHERE username = ?",
                               [username]).fetchone()
            return row[0] if row else None

        try:
            # Files enter the hash by their sha256 alone: their bytes are not read here.
            data = report_data.load(query, lambda _sha: None, report_id,
                                    display_name=display_name)
        except NotFound:
            return None
        notice = conn.execute("SELECT number FROM rectification_notices WHERE submission_id"
                              " = ? ORDER BY issued_at LIMIT 1", [report_id]).fetchone()
    return data, notice[0] if notice else None


@router.get("/verify/{kind}/{report_id}", response_class=HTMLResponse)
def verify(request: Request, kind: str, report_id: str,
           sha256: Annotated[str, Query(max_length=64)] = "") -> HTMLResponse:
    context: dict[str, Any] = {"utility": None, "state": "mismatch"}
    if kind not in KINDS or not ID.fullmatch(report_id) or not HASH.fullmatch(sha256):
        context["state"] = "unreadable"
        return templates.TemplateResponse(request, "public_verify.html", context,
                                          status_code=400)
    found = _load(request, report_id)
    if found is None:
        return templates.TemplateResponse(request, "public_verify.html", context,
                                          status_code=404)
    data, notice_number = found
    context["utility"] = data.utility
    if data.content_hash == sha256 and kind in _kind_of(data) and data.state == "submitted":
        number = notice_number if kind == document_kinds.NOTICE else data.job.number
        context.update(state="match", number=number or data.job.number,
                       title=document_kinds.NOTICE_TITLE if kind == document_kinds.NOTICE
                       else data.form_title, date=local_text(data.inspected_at, "%Y-%m-%d"))
    return templates.TemplateResponse(request, "public_verify.html", context)

"""A job's documents, chosen by its form and rendered offline: the report of any submitted form
(the repair report has its own layout, every other form the inspection report's) and, when
the form found hazards, the rectification notice. The tablet writes them to files; the back
office serves the same bytes through :func:`render`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from fieldapp.errors import InvalidInput
from fieldapp.reports import document_kinds
from fieldapp.reports.report_data import InspectionReport, from_replica

if TYPE_CHECKING:
    from fieldapp.replica import Replica

DOCUMENTS = ("report", "notice")


def render(data: InspectionReport, document: str) -> bytes:
    """``document`` ("report" or "notice") of a loaded submission as PDF bytes; a notice of a
    form that found no hazard is refused (``no_hazards``)."""
    if document not in DOCUMENTS:
        raise InvalidInput("unknown_document", f"no document {document}", document=document)
    # The renderers (reportlab) load with the first PDF made: the server starts without them.
    from fieldapp.reports import inspection_pdf, rectification_pdf, repair_pdf

    if document == "notice":
        return rectification_pdf.render(data)
    reports: dict[str, Callable[[InspectionReport], bytes]] = {
        "repair_report": repair_pdf.render}
    return reports.get(data.form_code, inspection_pdf.render)(data)


def file_name(data: InspectionReport, document: str) -> str:
    title = document_kinds.NOTICE_TITLE if document == "notice" else data.form_title
    return f"{data.job.number}-{title}.pdf"


def available(state: str, hazards: int) -> list[str]:
    """The documents a submission in ``state`` has: none for a draft, the notice only with
    hazards."""
    if state != "submitted":
        return []
    return ["report", "notice"] if hazards else ["report"]


def write(replica: Replica, job_id: str, document: str) -> Path:
    """Render ``document`` of the job's submitted form into
    ``<data>/documents/<job number>-<title>.pdf`` (written whole, then renamed)."""
    return write_pdf(*gather(replica, job_id, document))


def gather(replica: Replica, job_id: str, document: str
           ) -> tuple[InspectionReport, str, Path]:
    """What :func:`write_pdf` prints and where, read from the replica (the quick part)."""
    if document not in DOCUMENTS:
        raise InvalidInput("unknown_document", f"no document {document}", document=document)
    sub = replica.forms.for_job(job_id)
    if sub is None or sub["state"] != "submitted":
        raise InvalidInput("not_submitted", "submit the form first", job_id=job_id)
    data = from_replica(replica, sub["id"])
    return data, document, replica.data_dir / "documents" / file_name(data, document)


def write_pdf(data: InspectionReport, document: str, path: Path) -> Path:
    """Render and write the PDF (the slow part, which needs no database)."""
    pdf = render(data, document)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(pdf)
    tmp.replace(path)
    return path

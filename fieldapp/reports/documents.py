"""A job's documents as files on the tablet, rendered offline: the inspection report and, when
the inspection found hazards, the rectification notice (the same bytes the back office serves).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fieldapp.errors import InvalidInput
from fieldapp.reports import inspection_pdf, rectification_pdf
from fieldapp.reports.report_data import from_replica

if TYPE_CHECKING:
    from fieldapp.replica import Replica

DOCUMENTS = {"report": ("安检报告", inspection_pdf.render),
             "notice": ("整改通知书", rectification_pdf.render)}


def write(replica: Replica, job_id: str, document: str) -> Path:
    """Render ``document`` ("report" or "notice") of the job's submitted checklist into
    ``<data>/documents/<job number>-<name>.pdf`` (written whole, then renamed)."""
    if document not in DOCUMENTS:
        raise InvalidInput("unknown_document", f"no document {document}", document=document)
    sub = replica.inspections.for_job(job_id)
    if sub is None or sub["state"] != "submitted":
        raise InvalidInput("not_submitted", "submit the checklist first", job_id=job_id)
    name, render = DOCUMENTS[document]
    data = from_replica(replica, sub["id"])
    path = replica.data_dir / "documents" / f"{data.job.number}-{name}.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(render(data))
    tmp.replace(path)
    return path

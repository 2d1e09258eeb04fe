"""The ops that take long: each a :class:`~fieldapp.ui.taskman.SlowOp` whose quick database
steps run on the database worker and whose slow middle (developing a photo, decoding a
barcode image, rendering a PDF or the map) runs in the pool, away from both the UI thread
and the database. Screens start them with ``ctx.slow(...)`` and are called back."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fieldapp.changes import Changes
from fieldapp.position import Position
from fieldapp.replica import Replica
from fieldapp.replica import unlock as unlock_check
from fieldapp.replica.evidence import PhotoDraft, decode_first, develop
from fieldapp.reports import documents
from fieldapp.ui.i18n import tr
from fieldapp.ui.ops.evidence import ScanOutcome, answered_with, outcome_of
from fieldapp.ui.taskman import SlowOp


def attach_photo(job_id: str, path: Path | str, position: Position | None,
                 question: str | None = None) -> SlowOp[Changes]:
    """Watermark and store a photo for the job (and one question of its form, when given);
    ``position`` is the fix at capture, None for none."""

    def draft(replica: Replica) -> PhotoDraft:
        if question is not None:
            replica.forms.start(job_id)  # the photo counts for the form's question
        return replica.evidence.photo_draft(job_id, path, question, position=position)

    def store(replica: Replica, developed: tuple[PhotoDraft, Any]) -> Changes:
        attachment_id = replica.evidence.store_photo(*developed)
        return Changes.of("attachments", ids=(attachment_id,))

    return (SlowOp[Changes](tr("evidence.photo_working")).db(draft)
            .work(lambda d: (d, develop(d))).db(store))


def attach_recording(job_id: str, path: Path | str, position: Position | None,
                     question: str | None = None) -> SlowOp[Changes]:
    """Keep an audio or video recording for the job (and a question of its form)."""

    def store(replica: Replica) -> Changes:
        if question is not None:
            replica.forms.start(job_id)
        attachment_id = replica.evidence.add_recording(job_id, path, question,
                                                       position=position)
        return Changes.of("attachments", ids=(attachment_id,))

    return SlowOp[Changes](tr("evidence.recording_working")).db(store)


def scan_image(path: Path | str, job_id: str | None = None,
               answer: str | None = None) -> SlowOp[ScanOutcome]:
    """Decode a barcode photo, record the scan and say whose meter it is; with ``answer``
    (a barcode question's path) the code is also saved as that answer of the job's form."""

    def record(replica: Replica, found: tuple[str, str | None]) -> ScanOutcome:
        result = replica.evidence.record_scan(*found, job_id=job_id, source="image")
        outcome = outcome_of(replica, result, job_id)
        if answer is not None and job_id is not None:
            return answered_with(replica, outcome, job_id=job_id, path=answer)
        return outcome

    return SlowOp[ScanOutcome](tr("evidence.scan_working")).work(
        lambda: decode_first(Path(path))).db(record)


def write_document(job_id: str, document: str) -> SlowOp[Path]:
    """The job's form report or rectification notice as a PDF in the data folder."""

    def gather(replica: Replica) -> tuple[Any, str, Path]:
        return documents.gather(replica, job_id, document)

    return SlowOp[Path](tr("form.document_working")).db(gather).work(
        lambda found: documents.write_pdf(*found))


def write_today_map(position: Position | None, now: datetime | None = None) -> SlowOp[Path]:
    """Today's jobs, route and position as an offline HTML map in the data folder."""

    # folium is imported only when a map is first drawn: it slows the app's start.
    def read(replica: Replica) -> tuple[Path, dict[str, Any]]:
        from fieldapp.reports.map import today

        return replica.data_dir / "maps" / "today.html", today(replica, position, now)

    def draw(found: tuple[Path, dict[str, Any]]) -> Path:
        from fieldapp.reports.map import write_map

        path, shown = found
        return write_map(path, **shown)

    return SlowOp[Path](tr("today.map_working")).db(read).work(draw)


def unlock(password: str) -> SlowOp[unlock_check.Attempt]:
    """The offline unlock: the attempt counted and settled on the database worker, the
    password's hash checked (slow on purpose) in the pool."""

    def checked(started: unlock_check.Attempt | unlock_check.Pending
                ) -> tuple[unlock_check.Attempt | unlock_check.Pending, bool]:
        if isinstance(started, unlock_check.Attempt):
            return started, False
        return started, unlock_check.verified(started, password)

    def settled(replica: Replica, found: tuple[unlock_check.Attempt | unlock_check.Pending,
                                               bool]) -> unlock_check.Attempt:
        started, ok = found
        if isinstance(started, unlock_check.Attempt):
            return started
        return unlock_check.finish(replica, started, ok)

    return SlowOp[unlock_check.Attempt]().db(unlock_check.begin).work(checked).db(settled)

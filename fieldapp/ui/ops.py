"""The only door from widgets into the core: small keyword-only functions.

Reads return plain data; writes return the :class:`~fieldapp.changes.Changes` they made (or a
small result carrying them) so ``AppContext`` can announce them to every screen. Widgets run
these through ``AppContext.run``, which turns a :class:`~fieldapp.errors.FieldAppError` into a
translated message. The network functions at the bottom open their own replica because they
run on the sync thread, never on the UI thread.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from fieldapp.capture.gps import PositionSource, source_from_config
from fieldapp.changes import Changes
from fieldapp.domain.status import ORDER, Status, allowed_moves
from fieldapp.local_time import LOCAL_ZONE
from fieldapp.position import Position
from fieldapp.replica import Replica, Session, signing, wipe
from fieldapp.replica import unlock as unlock_check
from fieldapp.replica.filling import FormScreen
from fieldapp.replica.signing import SignatureStatus
from fieldapp.reports import documents
from fieldapp.sync.client import Progress, SyncClient, SyncReport
from fieldapp.sync.credentials import TokenStore

# Re-exported: the screens import ops only.
from fieldapp.ui.problem_data import FieldConflict as FieldConflict
from fieldapp.ui.problem_data import ShownValue as ShownValue
from fieldapp.ui.problem_data import SyncProblem, problem_from_row

LAST_SYNC_KEY = "last_sync_at"  # written by SyncClient.sync
LANGUAGE_KEY = "ui.language"
GPS_KEY = "gps.source"  # sim, sim:LAT,LON, none, nmea:PATH or nmea:COM4@9600
GPS_ENV = "FIELDAPP_GPS"

log = logging.getLogger("fieldapp.ui")

# -- session and status --------------------------------------------------------------------


def session(replica: Replica) -> Session | None:
    return replica.session


def unlock(replica: Replica, *, password: str) -> unlock_check.Attempt:
    """Open the app offline with the password of the last online login."""
    return unlock_check.check(replica, password)


def needs_unlock(replica: Replica) -> bool:
    return replica.session is not None and unlock_check.can_unlock(replica)


def erase_tablet(replica: Replica) -> list[str]:
    """Remote wipe, once the server has everything: the device token, then the data (the
    replica is closed here). Returns what could not be removed."""
    data_dir = replica.data_dir
    TokenStore(replica).clear()
    replica.close()
    return wipe.erase(data_dir)


def has_login(replica: Replica) -> bool:
    """True once an online login stored a token, i.e. a sync can be tried."""
    return bool(TokenStore(replica).get())


@dataclass(frozen=True)
class SyncStatus:
    pending: int
    problems: int
    last_sync_at: str | None


def sync_status(replica: Replica) -> SyncStatus:
    counts = replica.outbox.counts()
    return SyncStatus(pending=counts["pending"], problems=counts["conflict"] + counts["rejected"],
                      last_sync_at=replica.state(LAST_SYNC_KEY))


def setting(replica: Replica, *, key: str) -> str | None:
    return replica.state(key)


def save_setting(replica: Replica, *, key: str, value: str) -> Changes:
    replica.set_state(key, value)
    return Changes()


# -- jobs -----------------------------------------------------------------------------------


def today_jobs(replica: Replica) -> list[dict[str, Any]]:
    """Today's list; empty before the first login rather than an error on screen."""
    if replica.session is None:
        return []
    return replica.jobs.today()


def job(replica: Replica, *, job_id: str) -> dict[str, Any]:
    return replica.jobs.get(job_id)


def next_moves(replica: Replica, *, status: str) -> list[str]:
    """The statuses the signed-in user may move a job to, in the order of the main path."""
    session = replica.session
    allowed = allowed_moves(status, session.role if session else "technician")
    rank = {s: i for i, s in enumerate([*ORDER, Status.CANCELLED])}
    return [str(s) for s in sorted(allowed, key=lambda s: rank[s])]


def completion_summary(replica: Replica, *, job_id: str) -> dict[str, Any]:
    return replica.jobs.completion_summary(job_id)


def transition_job(replica: Replica, *, job_id: str, target: str) -> Changes:
    return replica.jobs.transition(job_id, target)


# -- customers ------------------------------------------------------------------------------


def customer_360(replica: Replica, *, customer_id: str) -> dict[str, Any]:
    view = replica.customers.view360(customer_id)
    view["usage"] = replica.customers.usage(customer_id, datetime.now(LOCAL_ZONE).date())
    return view


# -- evidence -------------------------------------------------------------------------------


def attach_photo(replica: Replica, *, job_id: str, path: Path | str,
                 position: Position | None = None) -> Changes:
    """Watermark and store a photo; ``position`` is the fix at capture, None for none."""
    attachment_id = replica.evidence.add_photo(job_id, path, position=position)
    return Changes.of("attachments", ids=(attachment_id,))


def position_source(replica: Replica) -> PositionSource:
    """The GPS source: ``FIELDAPP_GPS``, else the tablet's setting, else the simulated one.

    A setting that cannot be understood gives a source without fix rather than a simulated
    one: a photo must never carry an invented position by mistake.
    """
    spec = os.environ.get(GPS_ENV) or replica.state(GPS_KEY) or "sim"
    try:
        source = source_from_config(spec)
    except ValueError:
        log.warning("unknown GPS source %r; working without GPS", spec)
        source = source_from_config("none")
    start = getattr(source, "start", None)
    if start is not None:
        start()  # a serial receiver is read on its own thread, so a fix is always fresh
    return source


def write_today_map(replica: Replica, *, position: Position | None) -> Path:
    """Today's jobs, route and position as an offline HTML map in the data folder."""
    from fieldapp.reports.map import write_today_map as write

    return write(replica, replica.data_dir / "maps" / "today.html", position=position)


def delete_photo(replica: Replica, *, attachment_id: str) -> Changes:
    replica.evidence.delete_photo(attachment_id)
    return Changes.of("attachments", ids=(attachment_id,))


def form_screen(replica: Replica, *, job_id: str, extra: dict[str, int],
                lang: str) -> FormScreen | None:
    """The job's form as the view draws it; started (and prefilled) once the service has
    started, None before."""
    sub = replica.forms.for_job(job_id)
    if sub is None:
        if replica.jobs.get(job_id)["status"] != "in_service":
            return None
        return replica.forms.screen(replica.forms.start(job_id), extra, lang)
    return replica.forms.screen(sub["id"], extra, lang)


def answer_form(replica: Replica, *, job_id: str, path: str, value: Any,
                note: str | None = None) -> Changes:
    changes = replica.forms.answer(replica.forms.start(job_id), path, value, note)
    return changes | Changes.of("submissions")


def attach_form_photo(replica: Replica, *, job_id: str, question: str, path: Path,
                      position: Position | None) -> Changes:
    """A photo for one question of the job's form (counted by that question)."""
    replica.forms.start(job_id)
    attachment_id = replica.evidence.add_photo(job_id, path, question, position=position)
    return Changes.of("attachments", ids=(attachment_id,))


def remove_form_instance(replica: Replica, *, job_id: str, instance: str) -> Changes:
    return replica.forms.remove_instance(replica.forms.start(job_id), instance)


def submit_form(replica: Replica, *, job_id: str) -> Changes:
    return replica.forms.submit(replica.forms.start(job_id))


def job_log(replica: Replica, *, job_id: str) -> list[dict[str, Any]]:
    """Notes, calls and status changes of a job, newest first."""
    return replica.interactions.for_job(job_id)


def add_interaction(replica: Replica, *, job_id: str, kind: str, text: str = "") -> Changes:
    return replica.interactions.add(job_id, kind, text)


def parts_catalogue(replica: Replica) -> list[tuple[str, str]]:
    return replica.parts.catalogue()


def part_requests(replica: Replica, *, job_id: str) -> list[dict[str, Any]]:
    return replica.parts.for_job(job_id)


def request_part(replica: Replica, *, job_id: str, part: str, quantity: int,
                 note: str = "") -> Changes:
    return replica.parts.request(job_id, part, quantity, note)


def kb_search(replica: Replica, *, text: str, category: str | None = None
              ) -> list[dict[str, Any]]:
    return replica.kb.search(text, category=category)


def kb_in_category(replica: Replica, *, category: str) -> list[dict[str, Any]]:
    return replica.kb.in_category(category)


def kb_categories(replica: Replica) -> list[str]:
    return replica.kb.categories()


def kb_article(replica: Replica, *, article_id: str) -> dict[str, Any]:
    return replica.kb.article(article_id)


def write_document(replica: Replica, *, job_id: str, document: str) -> Path:
    """The job's form report or rectification notice as a PDF in the data folder."""
    return documents.write(replica, job_id, document)


def job_photos(replica: Replica, *, job_id: str) -> list[dict[str, Any]]:
    return replica.evidence.photos(job_id)


def blob_bytes(replica: Replica, *, sha256: str) -> bytes | None:
    """A photo's or signature's content (decrypted), None when missing or damaged."""
    return replica.evidence.find_blob(sha256)


def add_signature(replica: Replica, *, job_id: str, strokes: Sequence[Sequence[Sequence[float]]],
                  signer_name: str) -> Changes:
    signature_id = replica.evidence.add_signature(job_id, strokes, signer_name)
    return Changes.of("signatures", "attachments", ids=(signature_id,))


def job_signatures(replica: Replica, *, job_id: str) -> list[dict[str, Any]]:
    return replica.evidence.signatures(job_id)


def signature_status(replica: Replica, *, job_id: str) -> SignatureStatus:
    """The job's latest signature (none / valid / void) and what stops signing now."""
    return signing.status(replica, job_id)


@dataclass(frozen=True)
class ScanOutcome:
    code: str
    verdict: str  # "match", "other" (another customer's meter), "unknown", or "found" (no job)
    customer: dict[str, Any] | None
    open_job: dict[str, Any] | None
    changes: Changes


def _verdict(matched_customer_id: str | None, job_customer_id: str | None) -> str:
    if matched_customer_id is None:
        return "unknown"
    if job_customer_id is None:
        return "found"
    return "match" if matched_customer_id == job_customer_id else "other"


def _outcome(replica: Replica, result: dict[str, Any], job_id: str | None) -> ScanOutcome:
    match = result["match"]
    customer = match["customer"] if match else None
    job_customer = replica.jobs.get(job_id)["customer_id"] if job_id else None
    return ScanOutcome(code=result["code"],
                       verdict=_verdict(customer["id"] if customer else None, job_customer),
                       customer=customer, open_job=match["open_job"] if match else None,
                       changes=result["changes"])


def search_customers(replica: Replica, *, text: str) -> list[dict[str, Any]]:
    return replica.customers.search(text)


def scan_image(replica: Replica, *, path: Path | str, job_id: str | None = None) -> ScanOutcome:
    """Decode a barcode photo, record the scan and say whose meter it is."""
    return _outcome(replica, replica.evidence.scan_image(Path(path), job_id=job_id), job_id)


def record_camera_scan(replica: Replica, *, code: str, symbology: str | None,
                       job_id: str | None = None) -> ScanOutcome:
    """A barcode read from the live camera, recorded like any scan."""
    result = replica.evidence.record_scan(code, symbology, job_id=job_id, source="camera")
    return _outcome(replica, result, job_id)


def record_code(replica: Replica, *, code: str, job_id: str | None = None) -> ScanOutcome:
    """A meter code typed by hand, recorded like a scan."""
    result = replica.evidence.record_scan(code.strip(), None, job_id=job_id, source="manual")
    return _outcome(replica, result, job_id)


def scan_form_barcode(replica: Replica, *, job_id: str, path: str, image: Path | None = None,
                      code: str | None = None, symbology: str | None = None) -> ScanOutcome:
    """A barcode question answered by a scanned image, the live camera (``symbology``
    given) or a typed code: recorded as any scan is, saved as the answer, and told whose
    meter it is."""
    if image is not None:
        outcome = scan_image(replica, path=image, job_id=job_id)
    elif symbology is not None:
        outcome = record_camera_scan(replica, code=code or "", symbology=symbology,
                                     job_id=job_id)
    else:
        outcome = record_code(replica, code=code or "", job_id=job_id)
    answered = replica.forms.answer(replica.forms.start(job_id), path, outcome.code)
    return replace(outcome, changes=outcome.changes | answered | Changes.of("submissions"))


@dataclass(frozen=True)
class ScanRow:
    scanned_at: str
    code: str
    source: str
    verdict: str


def job_scans(replica: Replica, *, job_id: str) -> list[ScanRow]:
    return [ScanRow(s["scanned_at"], s["code"], s["source"] or "manual",
                    _verdict(s["matched_customer_id"], s["customer_id"]))
            for s in replica.evidence.scans(job_id)]


# -- sync problems --------------------------------------------------------------------------


def job_sync_state(replica: Replica, *, job_id: str) -> str:
    """``synced``, ``pending``, ``conflict`` or ``rejected`` for the job record itself."""
    return replica.outbox.record_state("jobs", job_id)


def sync_problems(replica: Replica) -> list[SyncProblem]:
    """Every rejected or conflicting change, newest first; reading them changes nothing."""
    return [problem_from_row(replica, row) for row in replica.outbox.problems()]


# -- network: these run on the sync thread with their own connection ----------------------


@dataclass(frozen=True)
class SyncResult:
    report: SyncReport
    clock: str  # the sync connection's clock after the server's, for the UI replica to observe


def sync(*, data_dir: Path, server_url: str,
         progress: Callable[[Progress], None] | None = None) -> SyncResult:
    replica = Replica.open(data_dir)
    try:
        report = SyncClient(replica, server_url).sync(progress=progress)
        return SyncResult(report, replica.clock.now())
    finally:
        replica.close()


def login(*, data_dir: Path, server_url: str, username: str, password: str) -> Session:
    replica = Replica.open(data_dir)
    try:
        return SyncClient(replica, server_url).login(username, password)
    finally:
        replica.close()

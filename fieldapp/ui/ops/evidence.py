"""Photos and barcode scans of a job, and what a scanned code says about whose meter it is.

The slow halves (developing a photo, decoding an image) are in ``slow``; here are the quick
reads and writes, and the verdict both share."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from fieldapp.changes import Changes
from fieldapp.replica import Replica


def delete_photo(replica: Replica, *, attachment_id: str) -> Changes:
    replica.evidence.delete_photo(attachment_id)
    return Changes.of("attachments", ids=(attachment_id,))


def job_photos(replica: Replica, *, job_id: str) -> list[dict[str, Any]]:
    return replica.evidence.photos(job_id)


def blob_bytes(replica: Replica, *, sha256: str) -> bytes | None:
    """A photo's or signature's content (decrypted), None when missing or damaged."""
    return replica.evidence.find_blob(sha256)



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


def outcome_of(replica: Replica, result: dict[str, Any], job_id: str | None) -> ScanOutcome:
    match = result["match"]
    customer = match["customer"] if match else None
    job_customer = replica.jobs.get(job_id)["customer_id"] if job_id else None
    return ScanOutcome(code=result["code"],
                       verdict=_verdict(customer["id"] if customer else None, job_customer),
                       customer=customer, open_job=match["open_job"] if match else None,
                       changes=result["changes"])


def record_camera_scan(replica: Replica, *, code: str, symbology: str | None,
                       job_id: str | None = None) -> ScanOutcome:
    """A barcode read from the live camera, recorded like any scan."""
    result = replica.evidence.record_scan(code, symbology, job_id=job_id, source="camera")
    return outcome_of(replica, result, job_id)


def record_code(replica: Replica, *, code: str, job_id: str | None = None) -> ScanOutcome:
    """A meter code typed by hand, recorded like a scan."""
    result = replica.evidence.record_scan(code.strip(), None, job_id=job_id, source="manual")
    return outcome_of(replica, result, job_id)



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


def scan_form_barcode(replica: Replica, *, job_id: str, path: str, code: str,
                      symbology: str | None = None) -> ScanOutcome:
    """A barcode question answered from the live camera (``symbology`` given) or a typed
    code: recorded as any scan is, saved as the answer, and told whose meter it is. (From a
    photo of the label: ``slow.scan_form_image``.)"""
    if symbology is not None:
        outcome = record_camera_scan(replica, code=code, symbology=symbology, job_id=job_id)
    else:
        outcome = record_code(replica, code=code, job_id=job_id)
    return answered_with(replica, outcome, job_id=job_id, path=path)


def answered_with(replica: Replica, outcome: ScanOutcome, *, job_id: str,
                  path: str) -> ScanOutcome:
    """The scanned code saved as the answer to the form's barcode question ``path``."""
    answered = replica.forms.answer(replica.forms.start(job_id), path, outcome.code)
    return replace(outcome, changes=outcome.changes | answered | Changes.of("submissions"))

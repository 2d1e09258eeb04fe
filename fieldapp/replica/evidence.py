"""Evidence captured at a job: photos, the customer's signature and meter barcode scans.

Files are content-addressed (sha256) in the replica's blob folder and written durably
before the record that points at them, so a record never names a missing file.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldapp.capture.photo import Photo, PhotoSettings, Stamp, process_photo
from fieldapp.capture.signature import Stroke, render_png
from fieldapp.changes import Changes
from fieldapp.domain.status import is_closed
from fieldapp.errors import FieldAppError, InvalidInput, NotFound
from fieldapp.file_kinds import HEAD_BYTES, evidence_kind, sniff
from fieldapp.local_time import LOCAL_ZONE, now_iso
from fieldapp.position import Position
from fieldapp.replica.sealed import is_sealed, seal, unseal

if TYPE_CHECKING:
    from fieldapp.replica import Replica

MAX_PHOTO_BYTES = 25 * 1024 * 1024
MAX_RECORDING_BYTES = 50 * 1024 * 1024  # the server's limit for any attachment


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class PhotoDraft:
    """A photo checked and stamped, not yet processed: what :func:`develop` needs."""

    job_id: str
    customer_id: str
    question: str | None
    source: Path
    stamp: Stamp
    settings: PhotoSettings
    username: str


def develop(draft: PhotoDraft) -> Photo:
    """Read, downscale and watermark the photo: the slow part, which needs no database."""
    data = draft.source.read_bytes()
    return process_photo(data, draft.stamp, draft.settings)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


def decode_first(source: Path | str | bytes) -> tuple[str, str | None]:
    """The first barcode in an image, as text and symbology; slow, and needs no database."""
    from fieldapp.capture.barcode import BarcodeImageError, decode_image

    try:
        found = decode_image(Path(source) if isinstance(source, str) else source)
    except BarcodeImageError as exc:
        code = "file_not_found" if exc.code == "not_found" else exc.code
        raise InvalidInput(code, str(exc)) from exc
    if not found:
        raise InvalidInput("no_barcode", "no barcode found in the image")
    return found[0].text, found[0].symbology


class Evidence:
    def __init__(self, replica: Replica) -> None:
        self.r = replica

    # -- blobs ----------------------------------------------------------------------
    def blob_path(self, sha256: str) -> Path:
        return self.r.blob_dir / sha256[:2] / sha256

    def _store_blob(self, data: bytes, mime: str) -> str:
        sha = sha256_of(data)
        path = self.blob_path(sha)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            with open(tmp, "wb") as fh:
                fh.write(seal(data, self.r.file_key, sha) if self.r.file_key else data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        self.r.db.execute(
            "INSERT OR IGNORE INTO blobs(sha256, size, mime, created_at) VALUES (?, ?, ?, ?)",
            [sha, len(data), mime, now_iso()])
        return sha

    def read_blob(self, sha256: str) -> bytes:
        path = self.blob_path(sha256)
        if not path.exists():
            raise NotFound("missing_blob", f"no file for {sha256}", sha256=sha256)
        return unseal(path.read_bytes(), self.r.file_key, sha256)

    def seal_plain_files(self) -> int:
        """Encrypt the files stored before encryption (each whole, then renamed over the
        plain one); returns how many. Done once, when the replica is first opened keyed."""
        if self.r.file_key is None or not self.r.blob_dir.exists():
            return 0
        sealed = 0
        for path in self.r.blob_dir.glob("??/*"):
            if path.suffix == ".part" or len(path.name) != 64:
                continue
            raw = path.read_bytes()
            if is_sealed(raw):
                continue
            tmp = path.with_suffix(".part")
            with open(tmp, "wb") as fh:
                fh.write(seal(raw, self.r.file_key, path.name))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            sealed += 1
        return sealed

    def find_blob(self, sha256: str) -> bytes | None:
        """The file's content, or None when it is missing or damaged."""
        try:
            return self.read_blob(sha256)
        except FieldAppError:
            return None

    # -- photos ---------------------------------------------------------------------
    def photo_settings(self) -> PhotoSettings:
        """Long edge and JPEG quality, overridable per tablet (``photo.long_edge``,
        ``photo.quality`` in the replica's settings)."""
        defaults = PhotoSettings()
        try:
            return PhotoSettings(
                long_edge=_int(self.r.state("photo.long_edge"), defaults.long_edge),
                quality=_int(self.r.state("photo.quality"), defaults.quality))
        except ValueError:  # a bad setting must not stop the technician from taking photos
            return defaults

    def add_photo(self, job_id: str, source: Path | str, question: str | None = None, *,
                  position: Position | None = None, taken_at: datetime | None = None,
                  settings: PhotoSettings | None = None) -> str:
        """Attach a photo file to a job (and optionally a checklist question).

        What is stored is the downscaled, watermarked JPEG with EXIF (see ``photo.py``), never
        the file as given. ``position`` is the fix at capture (None: no fix, which the
        watermark says); ``taken_at`` defaults to now. The app runs the three steps apart
        (the middle one away from the database): :meth:`photo_draft`, :func:`develop`,
        :meth:`store_photo`.
        """
        draft = self.photo_draft(job_id, source, question, position=position,
                                 taken_at=taken_at, settings=settings)
        return self.store_photo(draft, develop(draft))

    def photo_draft(self, job_id: str, source: Path | str, question: str | None = None, *,
                    position: Position | None = None, taken_at: datetime | None = None,
                    settings: PhotoSettings | None = None) -> PhotoDraft:
        """Everything a photo needs from the replica before it is processed, checked."""
        source = Path(source)
        if not source.is_file():
            raise InvalidInput("file_not_found", f"no such file: {source}", path=str(source))
        if source.stat().st_size > MAX_PHOTO_BYTES:
            raise InvalidInput("file_too_large", f"{source} is over 25 MB", path=str(source))
        session = self.r.require_session()
        self.r.jobs.require_mine(job_id)
        job = self.r.jobs.get(job_id)
        taken_at = (taken_at or datetime.now(LOCAL_ZONE)).astimezone(LOCAL_ZONE)
        stamp = Stamp(taken_at, job["number"], session.display_name, job["account_no"],
                      position)
        return PhotoDraft(job_id, job["customer_id"], question, source, stamp,
                          settings or self.photo_settings(), session.username)

    def store_photo(self, draft: PhotoDraft, photo: Photo) -> str:
        """Keep a developed photo: its file, then its record (one transaction)."""
        position = draft.stamp.position
        sub = self.r.forms.for_job(draft.job_id)
        with self.r.transaction():
            sha = self._store_blob(photo.data, photo.mime)
            return self.r.insert("attachments", {
                "sha256": sha, "job_id": draft.job_id, "customer_id": draft.customer_id,
                "submission_id": sub["id"] if sub else None, "question": draft.question,
                "kind": "photo", "mime": photo.mime, "size": len(photo.data),
                "filename": draft.source.stem + ".jpg",
                "captured_at": draft.stamp.taken_at.isoformat(timespec="seconds"),
                "by_user": draft.username, "device_id": self.r.device_id,
                "lat": position.lat if position else None,
                "lon": position.lon if position else None,
                "accuracy_m": position.accuracy_m if position else None,
                "fix_age_s": round(position.age_s, 1) if position else None,
            })

    def add_recording(self, job_id: str, source: Path | str, question: str | None = None, *,
                      position: Position | None = None,
                      recorded_at: datetime | None = None) -> str:
        """Attach an audio or video recording (a customer's statement, a leak's hiss, a
        valve being closed) to a job, hashed and kept as given: its kind is read from its
        bytes, and a file that is not a recording FieldApp plays is refused."""
        source = Path(source)
        if not source.is_file():
            raise InvalidInput("file_not_found", f"no such file: {source}", path=str(source))
        if source.stat().st_size > MAX_RECORDING_BYTES:
            raise InvalidInput("file_too_large", f"{source} is over 50 MB", path=str(source))
        data = source.read_bytes()
        mime = sniff(data[:HEAD_BYTES])
        kind = evidence_kind(mime)
        if kind is None:
            raise InvalidInput("not_a_recording", f"{source.name} is not an audio or video"
                               " recording (MP4, M4A, MP3, AAC, WAV, OGG, AMR, FLAC, WebM, 3GP)",
                               path=str(source))
        session = self.r.require_session()
        self.r.jobs.require_mine(job_id)
        job = self.r.jobs.get(job_id)
        sub = self.r.forms.for_job(job_id)
        at = (recorded_at or datetime.now(LOCAL_ZONE)).astimezone(LOCAL_ZONE)
        with self.r.transaction():
            sha = self._store_blob(data, mime or "")
            return self.r.insert("attachments", {
                "sha256": sha, "job_id": job_id, "customer_id": job["customer_id"],
                "submission_id": sub["id"] if sub else None, "question": question,
                "kind": kind, "mime": mime, "size": len(data), "filename": source.name[-120:],
                "captured_at": at.isoformat(timespec="seconds"),
                "by_user": session.username, "device_id": self.r.device_id,
                "lat": position.lat if position else None,
                "lon": position.lon if position else None,
                "accuracy_m": position.accuracy_m if position else None,
                "fix_age_s": round(position.age_s, 1) if position else None,
            })

    def delete_photo(self, attachment_id: str) -> None:
        """Take back a photo taken by mistake, while its job is still open. The server
        keeps it as a tombstone; once the job is completed its evidence stays."""
        photo = self.r.get("attachments", attachment_id)
        if photo["kind"] not in ("photo", "audio", "video"):
            raise InvalidInput("not_a_photo", "only photos and recordings can be taken back",
                               attachment_id=attachment_id)
        self.r.jobs.require_mine(photo["job_id"])
        if is_closed(self.r.jobs.get(photo["job_id"])["status"]):
            raise InvalidInput("job_closed", "the job is completed: its photos are part of"
                               " the signed report and stay", job_id=photo["job_id"])
        with self.r.transaction():
            self.r.delete("attachments", attachment_id)

    def photos(self, job_id: str) -> list[dict[str, Any]]:
        return list(self.r.db.query(
            "SELECT * FROM attachments WHERE job_id = ? AND kind = 'photo' ORDER BY captured_at",
            [job_id]))

    # -- signature ------------------------------------------------------------------
    def add_signature(self, job_id: str, strokes: Sequence[Stroke], signer_name: str) -> str:
        """Store the customer's signature: strokes with timing, the rendered PNG, and the
        hash of the form's content it confirms. Refused while the form is incomplete."""
        if not signer_name.strip():
            raise InvalidInput("signer_name_required", "the signer's name is required")
        from fieldapp.forms import signed_content
        from fieldapp.replica import signing

        png = render_png(strokes)
        session = self.r.require_session()
        job = self.r.jobs.require_mine(job_id)
        now = now_iso()
        with self.r.transaction():
            # Checked and hashed inside the transaction that stores the signature, so what
            # it binds is exactly what was on the tablet when the customer signed.
            sub = signing.ready_to_sign(self.r, job_id)
            content_hash = (signed_content.content_hash(signing.query_of(self.r), sub["id"],
                                                        now) if sub else None)
            sha = self._store_blob(png, "image/png")
            attachment_id = self.r.insert("attachments", {
                "sha256": sha, "job_id": job_id, "customer_id": job["customer_id"],
                "kind": "signature", "mime": "image/png", "size": len(png),
                "filename": "signature.png", "captured_at": now,
                "by_user": session.username, "device_id": self.r.device_id,
            })
            return self.r.insert("signatures", {
                "job_id": job_id, "customer_id": job["customer_id"],
                "attachment_id": attachment_id, "signer_name": signer_name.strip(),
                "strokes": json.dumps([list(map(list, s)) for s in strokes]),
                "signed_at": now, "by_user": session.username, "device_id": self.r.device_id,
                "content_hash": content_hash,
            })

    def signatures(self, job_id: str) -> list[dict[str, Any]]:
        return list(self.r.db.query(
            "SELECT s.*, a.sha256 FROM signatures s JOIN attachments a ON a.id = s.attachment_id"
            " WHERE s.job_id = ? ORDER BY s.signed_at, s.id", [job_id]))

    # -- barcode scans --------------------------------------------------------------
    def scan_image(self, source: Path | str | bytes, job_id: str | None = None) -> dict[str, Any]:
        """Decode a meter barcode image, record the scan and return what it matched."""
        code, symbology = decode_first(source)
        return self.record_scan(code, symbology, job_id=job_id, source="image")

    def record_scan(self, code: str, symbology: str | None, *, job_id: str | None = None,
                    source: str = "manual") -> dict[str, Any]:
        """Every scan is recorded, matched or not; returns the match and the scan id."""
        session = self.r.require_session()
        match = self.r.customers.by_barcode(code)
        job = self.r.jobs.require_mine(job_id) if job_id else (match or {}).get("open_job")
        if job and job["assignee"] != session.username:
            job = None  # another technician's job: record the scan against the customer only
        customer_id = job["customer_id"] if job else (match["customer"]["id"] if match else None)
        with self.r.transaction():
            scan_id = self.r.insert("scans", {
                "job_id": job["id"] if job else None, "customer_id": customer_id, "code": code,
                "symbology": symbology, "meter_id": match["meter"]["id"] if match else None,
                "matched_customer_id": match["customer"]["id"] if match else None,
                "source": source, "scanned_at": now_iso(), "by_user": session.username,
                "device_id": self.r.device_id,
            })
        matched_customer = match["customer"]["id"] if match else None
        return {"scan_id": scan_id, "match": match, "code": code,
                "matches_job": bool(job and matched_customer == job["customer_id"]),
                "changes": Changes.of("scans", ids=(scan_id,))}

    def scans(self, job_id: str) -> list[dict[str, Any]]:
        return list(self.r.db.query("SELECT * FROM scans WHERE job_id = ? ORDER BY scanned_at",
                                    [job_id]))

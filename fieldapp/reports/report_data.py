"""What an inspection report says, gathered once and rendered by any document.

    report = from_replica(replica, submission_id)                        # on the tablet
    report = from_sqlite(conn, submission_id, data_dir / "attachments")  # server database
    report = load(query, blob_reader(folder), submission_id)             # any SQL backend
    report.content_hash                                                  # printed and in the QR

:class:`InspectionReport` is plain data; the loaders are functions beside it. :func:`load`
needs only a ``query(sql, params) -> rows as dicts`` callable (SQLite-style ``?`` SQL) and a
blob reader, so the tablet's replica and the server's database (SQLite, or PostgreSQL through
its query helper) fill the same report from the same rows: the synced tables have the same
columns on both sides.

The content hash is the sha256 of a canonical JSON (sorted keys, no spaces, UTF-8) of what the
documents print. Photos and the signature enter it by their sha256, which is their content
address (same bytes, same hash), and the form by (code, version), since a released version is
never edited. It is not a hash of the PDF: a printed copy is verified by recomputing it from
the server's data, whatever reportlab version made the PDF.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldapp.errors import NotFound
from fieldapp.forms import form_files, signed_content
from fieldapp.forms.definition import FormDefinition
from fieldapp.forms.loader import as_definition
from fieldapp.forms.paths import nest
from fieldapp.forms.state import FormState
from fieldapp.local_time import local_text, moment
from fieldapp.reports.lines import AnswerLine, HazardLine, answer_lines, hazard_lines

if TYPE_CHECKING:
    from fieldapp.replica import Replica

UTILITY_NAME = "金陵城市燃气有限公司"  # until the office names its utility
UTILITY_SETTING = "utility_name"
# The utility's public address (the server's ``--public-url``): printed QR codes open its
# verification page. Not hashed: moving the server must not change what a printout says.
PUBLIC_URL_SETTING = "public_url"
Query = Callable[[str, Sequence[Any]], Sequence[Mapping[str, Any]]]
ReadBlob = Callable[[str], bytes | None]
DisplayName = Callable[[str], str | None]


# Customer and job hold only what documents print: everything here is hashed, and a field
# that changes after the visit (the job's status, the customer's phone) would change the hash
# of a report already handed over.
@dataclass(frozen=True)
class Customer:
    id: str
    account_no: str
    name: str
    address: str | None


@dataclass(frozen=True)
class Job:
    id: str
    number: str
    kind: str


@dataclass(frozen=True)
class Photo:
    sha256: str
    data: bytes | None = field(repr=False)  # None: the file is missing or fails its hash
    caption: str
    question: str | None
    captured_at: str | None


@dataclass(frozen=True)
class Signature:
    """The customer's signature and what it binds (``fieldapp.forms.signed_content``):
    ``intact`` whether the record still matches the hash stored at signing (None: a
    signature taken before signatures carried one), ``voided`` how many earlier signatures
    of the job a later change voided before this one was given."""

    sha256: str
    png: bytes | None = field(repr=False)
    signer: str
    signed_at: str | None
    by_user: str | None = None
    content_hash: str | None = None
    intact: bool | None = None
    voided: int = 0

    @property
    def binding(self) -> str:
        """What the documents say about what was signed."""
        if self.intact is None:
            return "此签名未记录所签内容的校验码（旧版本采集），无法证明签名时的内容"
        if not self.intact:
            return "签名后内容有改动：此签名已作废，需客户核对后重新签名"
        if self.voided:
            return (f"此前 {self.voided} 次签名因签名后内容改动已作废，客户已重新签名；"
                    "签名后内容未改动")
        return "签名后内容未改动"


@dataclass(frozen=True)
class StatusChange:
    from_status: str | None
    to_status: str
    at: str
    by_user: str | None


@dataclass(frozen=True)
class InspectionReport:
    """One submission as documents print it; any form (a repair report's too) fills it."""

    report_id: str  # the submission id
    utility: str
    form_code: str
    form_version: int
    form_title: str
    definition: dict[str, Any] = field(repr=False)
    state: str  # draft / submitted
    started_at: str | None
    submitted_at: str | None
    inspector: str  # username of the technician who filled the form
    inspector_name: str  # display name, or the username when it is not known
    device_id: str | None
    customer: Customer
    job: Job
    answers: tuple[AnswerLine, ...]
    hazards: tuple[HazardLine, ...]
    photos: tuple[Photo, ...]
    signature: Signature | None
    history: tuple[StatusChange, ...]
    verify_base: str | None = None

    @property
    def inspected_at(self) -> str:
        """The moment the report speaks for: submission, else start of the checklist."""
        return self.submitted_at or self.started_at or ""

    def counts(self) -> dict[str, int]:
        """How many checklist items passed, failed, did not apply, or are still unanswered."""
        found = {"pass": 0, "fail": 0, "na": 0, "unanswered": 0}
        for line in self.answers:
            if line.type == "pass_fail_na":
                found[line.outcome if line.outcome in found else "unanswered"] += 1
        return found

    def canonical(self) -> dict[str, Any]:
        """The hashed content: everything printed; files by sha256, the form by version."""
        data = asdict(self)
        del data["definition"], data["verify_base"]
        for photo in data["photos"]:
            del photo["data"]
        if data["signature"]:
            del data["signature"]["png"]
        return data

    @cached_property
    def content_hash(self) -> str:
        text = json.dumps(self.canonical(), sort_keys=True, ensure_ascii=False,
                          separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- loaders ------------------------------------------------------------------------------------


def blob_reader(folder: Path | str) -> ReadBlob:
    """Files named by sha256 under ``folder/ab/abcd…``: the tablet's and the server's layout."""
    root = Path(folder)

    def read(sha256: str) -> bytes | None:
        path = root / sha256[:2] / sha256
        return path.read_bytes() if path.is_file() else None

    return read


def from_replica(replica: Replica, submission_id: str, *,
                 utility: str | None = None) -> InspectionReport:
    """The report of one submission from the tablet's replica."""
    session = replica.session
    names = {session.username: session.display_name} if session else {}
    return load(lambda sql, params: list(replica.db.query(sql, params)),
                replica.evidence.find_blob, submission_id,
                display_name=names.get, utility=utility)


def from_sqlite(conn: sqlite3.Connection, submission_id: str, blob_dir: Path | str, *,
                utility: str | None = None) -> InspectionReport:
    """The report from a SQLite database with the synced tables (the server's, by default)."""

    def query(sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        cursor = conn.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def display_name(username: str) -> str | None:
        try:
            rows = query("SELECT display_name FROM users WHERE username = ?", [username])
        except sqlite3.OperationalError:  # a database without the server's users table
            return None
        return rows[0]["display_name"] if rows else None

    return load(query, blob_reader(blob_dir), submission_id, display_name=display_name,
                utility=utility)


def load(query: Query, read_blob: ReadBlob, submission_id: str, *,
         display_name: DisplayName | None = None,
         utility: str | None = None) -> InspectionReport:
    """Fill a report from the synced tables, whichever database holds them; ``utility`` is
    the synced ``utility_name`` setting unless given."""
    sub = _one(query, "submissions", submission_id)
    job = _one(query, "jobs", sub["job_id"])
    customer = _one(query, "customers", sub["customer_id"])
    raw = _definition(query, sub["form_code"], sub["form_version"])
    d = as_definition(raw)
    rows = query("SELECT * FROM answers WHERE submission_id = ?", [submission_id])
    by_path = {r["question"]: r for r in rows}
    values = {p: json.loads(r["value"]) if r["value"] else None for p, r in by_path.items()}
    notes = {p: r["note"] for p, r in by_path.items()}
    inspected_at = sub["submitted_at"] or sub["started_at"]
    at = moment(inspected_at)
    state = FormState(d, nest(values), today=at.date(), now=at)
    attachments = sorted(query("SELECT * FROM attachments WHERE job_id = ?", [sub["job_id"]]),
                         key=lambda a: (a["captured_at"] or "", a["id"]))
    photos = [a for a in attachments if a["kind"] == "photo"]
    by_user = sub["by_user"] or ""
    signature = _signature(query, read_blob, sub, values)
    return InspectionReport(
        report_id=submission_id, utility=utility or utility_name(query), form_code=d.code,
        form_version=d.version,
        form_title=d.title.get("zh") or d.title.get("en", d.code), definition=raw,
        state=sub["state"], started_at=sub["started_at"], submitted_at=sub["submitted_at"],
        inspector=by_user,
        inspector_name=(display_name(by_user) if display_name and by_user else None) or by_user,
        device_id=sub["device_id"],
        customer=Customer(customer["id"], customer["account_no"], customer["name"],
                          customer["address"]),
        job=Job(job["id"], job["number"], job["kind"]),
        answers=tuple(answer_lines(state, by_path, photos, signed=signature is not None)),
        hazards=tuple(hazard_lines(d, state.answers, notes, at)),
        photos=tuple(_photo(d, a, read_blob) for a in photos),
        signature=signature,
        history=tuple(_history(query, sub["job_id"])), verify_base=setting(query,
                                                                       PUBLIC_URL_SETTING))


def utility_name(query: Query) -> str:
    """The utility's name as the office set it (synced to every device), else the default."""
    return setting(query, UTILITY_SETTING) or UTILITY_NAME


def setting(query: Query, key: str) -> str | None:
    """One of the utility's shared settings (synced to every device), None when unset."""
    rows = query("SELECT value FROM org_settings WHERE id = ?", [key])
    return (rows[0]["value"] if rows else None) or None


def _one(query: Query, table: str, record_id: str) -> Mapping[str, Any]:
    rows = query(f"SELECT * FROM {table} WHERE id = ?", [record_id])
    if not rows:
        raise NotFound("unknown_record", f"no {table} record {record_id}", table=table,
                       record_id=record_id)
    return rows[0]


def _definition(query: Query, code: str, version: int) -> dict[str, Any]:
    rows = query("SELECT definition FROM form_definitions WHERE code = ? AND form_version = ?",
                 [code, version])
    if rows:
        stored: dict[str, Any] = json.loads(rows[0]["definition"])
        return stored
    bundled = form_files.bundled().get((code, int(version)))
    if bundled is None:
        raise NotFound("unknown_form", f"no form {code} v{version}", form=code, version=version)
    return bundled.raw


def _verified(read_blob: ReadBlob, sha256: str) -> bytes | None:
    # A file that does not match its name must not be printed as the evidence it claims to be.
    data = read_blob(sha256)
    if data is None or hashlib.sha256(data).hexdigest() != sha256:
        return None
    return data


def _photo(d: FormDefinition, row: Mapping[str, Any], read_blob: ReadBlob) -> Photo:
    question = row["question"]
    q = d.by_key.get(question.rsplit(".", 1)[-1]) if question else None
    what = (q.label.get("zh") or q.key) if q else "现场照片"
    caption = f"{what} · {local_text(row['captured_at'])}" if row["captured_at"] else what
    return Photo(row["sha256"], _verified(read_blob, row["sha256"]), caption, question,
                 row["captured_at"])


def _signature(query: Query, read_blob: ReadBlob, sub: Mapping[str, Any],
               values: Mapping[str, Any]) -> Signature | None:
    rows = sorted(query("SELECT s.*, a.sha256 FROM signatures s JOIN attachments a"
                        " ON a.id = s.attachment_id WHERE s.job_id = ?", [sub["job_id"]]),
                  key=lambda s: (s["signed_at"] or "", s["id"]))
    if not rows:
        return None
    # A form with a signature question names the one it took; else the latest at the job.
    chosen = {v for v in values.values() if isinstance(v, str)}
    row = next((s for s in rows if s["id"] in chosen), rows[-1])
    before = rows[:rows.index(row)]
    return Signature(row["sha256"], _verified(read_blob, row["sha256"]),
                     row["signer_name"] or "", row["signed_at"], row.get("by_user"),
                     row.get("content_hash"), _binds(query, sub["id"], row),
                     sum(1 for s in before if _binds(query, sub["id"], s) is False))


def _binds(query: Query, submission_id: str, signature: Mapping[str, Any]) -> bool | None:
    """Whether the record still matches what the signature bound (None: it bound nothing)."""
    if not signature.get("content_hash") or not signature.get("signed_at"):
        return None
    try:
        now = signed_content.content_hash(query, submission_id, signature["signed_at"])
    except (LookupError, ValueError):
        return False
    return bool(now == signature["content_hash"])


def _history(query: Query, job_id: str) -> list[StatusChange]:
    rows = sorted(query("SELECT * FROM job_status_history WHERE job_id = ?", [job_id]),
                  key=lambda h: (h["at"], h["id"]))
    found = []
    for h in rows:
        found.append(StatusChange(h["from_status"], h["to_status"], h["at"], h["by_user"]))
        # The visit ends at completion; later office steps (follow-up call) must not change
        # the hash of a report printed on site.
        if h["to_status"] == "completed":
            break
    return found

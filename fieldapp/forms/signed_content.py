"""What a customer's signature binds: the canonical content of a submission, and its hash.

    content = load(query, submission_id, signed_at)   # from the replica or the server's DB
    content.hash                                       # stored in ``signatures.content_hash``

The tablet computes it the moment the customer signs and stores it with the signature; the
server recomputes it from its own records when the submission is submitted
(``sync_server/sync/evidence_check.py``), and the report states whether the record still matches
it. One function on both sides, over the same synced columns, so both agree byte for byte.

What is hashed is what the customer was shown: the submission (id, form code and version),
every stored answer with its note (except the signature question's own, which the signature
answers), the hazards those answers call for (level, deadline, the technician's note), and the
job's photos by their sha256 (their content address) and question, and its audio and video
recordings likewise (under ``recordings``, present only when there are any, so content signed
before recordings existed hashes as it did). The hazards are derived
from the answers by the form's own rules, not read from ``hazards`` rows: those are written
when the form is submitted, after the customer signed, and change status later when a
rectification check closes them, which must not void the inspection's signature.

Canonical JSON: sorted keys, no spaces, UTF-8, answer values as their decoded JSON.
``query(sql, params)`` returns rows as mappings (SQLite-style ``?`` SQL), as in
``fieldapp.reports.report_data``. Plain Python, no Qt.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fieldapp.forms import form_files
from fieldapp.forms.engine import Problem
from fieldapp.forms.hazards import hazards_for
from fieldapp.forms.loader import as_definition
from fieldapp.forms.paths import nest, split
from fieldapp.forms.state import FormState
from fieldapp.local_time import LOCAL_ZONE

FORMAT = 1  # bumped if the canonical form ever changes; part of what is hashed
Query = Callable[[str, Sequence[Any]], Sequence[Mapping[str, Any]]]


@dataclass(frozen=True)
class SignedContent:
    submission: Mapping[str, Any]
    definition: dict[str, Any]
    canonical: dict[str, Any]

    @property
    def text(self) -> str:
        return canonical_json(self.canonical)

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False)


def signing_day(signed_at: str) -> date:
    """The day a signature was given, in the utility's zone (what ``today()`` read then)."""
    parsed = datetime.fromisoformat(signed_at)
    return (parsed.replace(tzinfo=LOCAL_ZONE) if parsed.tzinfo is None
            else parsed.astimezone(LOCAL_ZONE)).date()


def rows(query: Query, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in query(sql, list(params))]


def form_definition(query: Query, code: str, version: int) -> dict[str, Any]:
    """The synced definition of a form version, else the bundled one."""
    found = rows(query, "SELECT definition FROM form_definitions WHERE code = ?"
                 " AND form_version = ?", [code, version])
    if found:
        stored: dict[str, Any] = json.loads(found[0]["definition"])
        return stored
    bundled = form_files.bundled().get((code, int(version)))
    if bundled is None:
        raise LookupError(f"no form {code} v{version}")
    return bundled.raw


def decoded(raw: Any) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return raw  # not JSON: hashed as the text it is, so a change still shows


def signature_questions(definition: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(q.key for q in as_definition(definition).by_key.values()
                     if q.type == "signature")


def _leaf(path: str) -> str:
    parts = split(path)
    return parts[1] if parts else path


def load(query: Query, submission_id: str, signed_at: str) -> SignedContent:
    """The content a signature given at ``signed_at`` binds (raises LookupError when the
    submission or its form is unknown)."""
    subs = rows(query, "SELECT * FROM submissions WHERE id = ?", [submission_id])
    if not subs:
        raise LookupError(f"no submission {submission_id}")
    sub = subs[0]
    raw = form_definition(query, sub["form_code"], sub["form_version"])
    signed = signature_questions(raw)
    answers: dict[str, dict[str, Any]] = {}
    for row in rows(query, "SELECT question, value, note FROM answers WHERE submission_id = ?",
                    [submission_id]):
        value, note = decoded(row["value"]), (row["note"] or "").strip() or None
        if _leaf(row["question"]) in signed or (value is None and note is None):
            continue
        answers[row["question"]] = {"value": value, "note": note}
    nested = nest({p: a["value"] for p, a in answers.items()})
    notes = {p: a["note"] for p, a in answers.items()}
    try:
        found = hazards_for(raw, nested, notes, today=signing_day(signed_at))
    except (TypeError, ValueError):  # answers of the wrong shape: the answers say it all
        found = []
    hazards = [{"question": h.question_path, "level": h.level,
                "deadline_days": h.deadline_days, "note": h.note} for h in found]
    photos = sorted(({"sha256": a["sha256"], "question": a["question"]} for a in rows(
        query, "SELECT sha256, question FROM attachments WHERE job_id = ? AND kind = 'photo'",
        [sub["job_id"]])), key=lambda p: (p["sha256"], p["question"] or ""))
    recordings = sorted(({"sha256": a["sha256"], "question": a["question"], "kind": a["kind"]}
                         for a in rows(query, "SELECT sha256, question, kind FROM attachments"
                                       " WHERE job_id = ? AND kind IN ('audio', 'video')",
                                       [sub["job_id"]])),
                        key=lambda p: (p["sha256"], p["question"] or ""))
    canonical = {"format": FORMAT, "submission_id": sub["id"], "job_id": sub["job_id"],
                 "form": [sub["form_code"], int(sub["form_version"])], "answers": answers,
                 "hazards": hazards, "photos": photos}
    if recordings:  # only then: what was signed before recordings existed hashes as it did
        canonical["recordings"] = recordings
    return SignedContent(sub, raw, canonical)


def content_hash(query: Query, submission_id: str, signed_at: str) -> str:
    return load(query, submission_id, signed_at).hash


def missing_before_signing(found: Sequence[Problem],
                           definition: Mapping[str, Any]) -> list[Problem]:
    """The problems that stop a customer from signing: all of the form's problems except
    those of its signature questions, which the signature itself answers."""
    signed = signature_questions(definition)
    return [p for p in found if _leaf(p.question_path) not in signed]


def requires_signature(definition: Mapping[str, Any], answers: Mapping[str, Any]) -> bool:
    """Whether the form, as answered, asks for the customer's signature (a relevant,
    required signature question)."""
    state = FormState(definition, answers)
    return any(q.type == "signature" and state.required(q, idx) for q, idx in state.walk())


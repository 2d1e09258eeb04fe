"""The customer's signature on the tablet: given only on a complete form, bound to the hash of
what was shown (``signed_content``), and void as soon as that content changes.

    ready_to_sign(replica, job_id)   # the submission and content to bind, or InvalidInput
    status(replica, job_id)          # the job's latest signature: none / valid / void

Nothing is written when a signature becomes void: signatures are evidence and stay. Void is
what the latest signature's stored hash says against the content as it stands now, so it
holds whoever changed what (an answer, a hazard's note, a photo added or taken back).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fieldapp.domain.kinds import FORM_FOR_KIND
from fieldapp.errors import InvalidInput
from fieldapp.forms import signed_content
from fieldapp.forms.loader import as_definition

if TYPE_CHECKING:
    from fieldapp.replica import Replica

NONE, VALID, VOID = "none", "valid", "void"


@dataclass(frozen=True)
class SignatureStatus:
    state: str  # none / valid / void
    latest: dict[str, Any] | None = None
    voided: int = 0  # earlier signatures of the job that no longer match (re-signed)
    missing: list[dict[str, str]] = field(default_factory=list)  # what stops signing now


def query_of(replica: Replica) -> signed_content.Query:
    return lambda sql, params: list(replica.db.query(sql, list(params)))


def submission_of(replica: Replica, job_id: str) -> dict[str, Any] | None:
    """The submission a signature at this job binds: the job's form, when it has one."""
    if replica.jobs.get(job_id)["kind"] not in FORM_FOR_KIND:
        return None
    return replica.forms.for_job(job_id)


def binds(replica: Replica, submission_id: str, signature: Mapping[str, Any]) -> bool:
    """Whether ``signature`` still matches the submission's content."""
    stored = signature.get("content_hash")
    if not stored or not signature.get("signed_at"):
        return False
    return bool(signed_content.content_hash(query_of(replica), submission_id,
                                            signature["signed_at"]) == stored)


def missing(replica: Replica, submission_id: str) -> list[dict[str, str]]:
    """What must be filled before the customer may sign: every problem of the form except its
    signature question, each with the question's label."""
    sub = replica.get("submissions", submission_id)
    raw = replica.submissions.definition(sub["form_code"], sub["form_version"])
    by_key = as_definition(raw).by_key
    found = signed_content.missing_before_signing(
        replica.submissions.problems(submission_id, judge_signature=False), raw)
    out = []
    for p in found:
        q = by_key.get(p.question_path.rsplit(".", 1)[-1].split("[")[0])
        label = (q.label.get("zh") or q.key) if q else p.question_path
        out.append({"question": p.question_path, "code": p.code, "label": label})
    return out


def ready_to_sign(replica: Replica, job_id: str) -> dict[str, Any] | None:
    """The submission a signature now binds, or None for a job without a form; refused
    (``form_not_started``, ``form_incomplete`` with every gap listed) before the form is
    complete."""
    if replica.jobs.get(job_id)["kind"] not in FORM_FOR_KIND:
        return None
    sub = replica.forms.for_job(job_id)
    if sub is None:
        raise InvalidInput("form_not_started", "fill the form before the customer signs",
                           job_id=job_id)
    gaps = missing(replica, sub["id"])
    if gaps:
        raise InvalidInput("form_incomplete", f"{len(gaps)} questions are not complete:"
                           f" {[g['question'] for g in gaps]}", job_id=job_id, missing=gaps,
                           labels="、".join(g["label"] for g in gaps[:5])
                           + (" …" if len(gaps) > 5 else ""), count=len(gaps))
    return sub


def status(replica: Replica, job_id: str,
           signatures: Sequence[Mapping[str, Any]] | None = None) -> SignatureStatus:
    """The job's latest signature against the content as it stands."""
    signatures = list(signatures if signatures is not None
                      else replica.evidence.signatures(job_id))
    sub = submission_of(replica, job_id)
    gaps = missing(replica, sub["id"]) if sub and sub["state"] == "draft" else []
    if not signatures:
        return SignatureStatus(NONE, missing=gaps)
    latest = dict(signatures[-1])
    if sub is None:
        return SignatureStatus(VALID, latest)
    voided = sum(1 for s in signatures[:-1] if not binds(replica, sub["id"], s))
    state = VALID if binds(replica, sub["id"], latest) else VOID
    return SignatureStatus(state, latest, voided, gaps)

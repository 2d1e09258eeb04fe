"""The job's form as drawn, its answers and instances, submitting it, and signing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fieldapp.changes import Changes
from fieldapp.replica import Replica, signing
from fieldapp.replica.filling import FormScreen
from fieldapp.replica.signing import SignatureStatus


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


def remove_form_instance(replica: Replica, *, job_id: str, instance: str) -> Changes:
    return replica.forms.remove_instance(replica.forms.start(job_id), instance)


def submit_form(replica: Replica, *, job_id: str) -> Changes:
    return replica.forms.submit(replica.forms.start(job_id))


def add_signature(replica: Replica, *, job_id: str, strokes: Sequence[Sequence[Sequence[float]]],
                  signer_name: str) -> Changes:
    signature_id = replica.evidence.add_signature(job_id, strokes, signer_name)
    return Changes.of("signatures", "attachments", ids=(signature_id,))


def job_signatures(replica: Replica, *, job_id: str) -> list[dict[str, Any]]:
    return replica.evidence.signatures(job_id)


def signature_status(replica: Replica, *, job_id: str) -> SignatureStatus:
    """The job's latest signature (none / valid / void) and what stops signing now."""
    return signing.status(replica, job_id)

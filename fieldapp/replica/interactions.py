"""Notes on a job and calls to its customer: what a technician says happened besides the
forms (the dog, the locked gate, the customer asking to come after six). Each is evidence
like a photo: written offline, synced, never dropped, shown in the customer's log.

    replica.interactions.add(job_id, "note", "用户要求下午六点后上门")
    replica.interactions.add(job_id, "call")       # dialled from the job page
    replica.interactions.for_job(job_id)           # with the job's status changes, newest first
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fieldapp.changes import Changes
from fieldapp.errors import InvalidInput
from fieldapp.local_time import now_iso
from fieldapp.network.model import VALVE_CLOSED

if TYPE_CHECKING:
    from fieldapp.replica import Replica

KINDS = ("note", "call", VALVE_CLOSED)  # the last: a valve closed at a leak, by its id
MAX_NOTE = 2000  # characters: a few paragraphs, not a document


class Interactions:
    def __init__(self, replica: Replica) -> None:
        self.r = replica

    def add(self, job_id: str, kind: str, text: str = "") -> Changes:
        if kind not in KINDS:
            raise InvalidInput("unknown_interaction", f"no interaction kind {kind!r}",
                               kind=kind)
        text = text.strip()
        if kind in ("note", VALVE_CLOSED) and not text:
            raise InvalidInput("empty_note", "a note needs some text")
        if len(text) > MAX_NOTE:
            raise InvalidInput("note_too_long", f"at most {MAX_NOTE} characters",
                               limit=MAX_NOTE)
        job = self.r.jobs.get(job_id)
        session = self.r.require_session()
        with self.r.transaction():
            interaction_id = self.r.insert("interactions", {
                "job_id": job_id, "customer_id": job["customer_id"], "kind": kind,
                "text": text, "at": now_iso(), "by_user": session.username,
                "device_id": self.r.device_id})
        return Changes.of("interactions", ids=(interaction_id,))

    def for_job(self, job_id: str) -> list[dict[str, Any]]:
        """Notes, calls and status changes of the job, newest first, as one history."""
        return list(self.r.db.query(
            "SELECT 'interaction' AS source, kind, text, at, by_user, hlc FROM interactions"
            " WHERE job_id = ?"
            " UNION ALL SELECT 'status', to_status, from_status, at, by_user, hlc"
            " FROM job_status_history WHERE job_id = ?"
            " ORDER BY at DESC, hlc DESC", [job_id, job_id]))  # hlc: within one second

    def for_customer(self, customer_id: str, limit: int = 50) -> list[dict[str, Any]]:
        return list(self.r.db.query(
            "SELECT i.kind, i.text, i.at, i.by_user, j.number AS job_number FROM interactions i"
            " LEFT JOIN jobs j ON j.id = i.job_id WHERE i.customer_id = ?"
            " ORDER BY i.at DESC, i.hlc DESC LIMIT ?", [customer_id, limit]))

"""挂起, 恢复 and 退单 on the tablet: the status change and its reason in one transaction.

    replica.holds.suspend(job_id, "waiting_parts", "等减压阀", part_request_id=pr)
    replica.holds.resume(job_id)          # back to where the work stood before the hold
    replica.holds.hand_back(job_id, "wrong_skill", "需要带压开孔设备")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fieldapp.changes import Changes
from fieldapp.domain import holds
from fieldapp.domain.status import Status
from fieldapp.errors import InvalidInput
from fieldapp.local_time import now_iso

if TYPE_CHECKING:
    from fieldapp.replica import Replica


class Holds:
    def __init__(self, replica: Replica) -> None:
        self.r = replica

    def suspend(self, job_id: str, reason: str, note: str = "",
                part_request_id: str | None = None) -> Changes:
        if reason == holds.WAITING_PARTS:
            self._check_part_request(job_id, part_request_id)
        elif part_request_id:
            raise InvalidInput("part_request_not_wanted",
                               "only a job waiting for parts names a part request")
        return self._move(job_id, Status.SUSPENDED, holds.SUSPEND, reason, note,
                          part_request_id)

    def hand_back(self, job_id: str, reason: str, note: str = "") -> Changes:
        return self._move(job_id, Status.RETURNED, holds.RETURN, reason, note, None)

    def resume(self, job_id: str, note: str = "") -> Changes:
        """Back to the status the job had when it was put on hold."""
        job = self.r.jobs.get(job_id)
        if job["status"] != Status.SUSPENDED:
            raise InvalidInput("not_on_hold", f"job {job['number']} is not on hold",
                               status=job["status"])
        before = list(self.r.db.query(
            "SELECT from_status FROM job_status_history WHERE job_id = ? AND to_status = ?"
            " ORDER BY at DESC, hlc DESC LIMIT 1", [job_id, Status.SUSPENDED]))
        target = before[0]["from_status"] if before else Status.ACCEPTED
        if target not in (Status.ACCEPTED, Status.EN_ROUTE, Status.IN_SERVICE):
            target = Status.ACCEPTED
        return self._move(job_id, Status(target), holds.RESUME, "", note, None)

    def current(self, job_id: str) -> dict[str, object] | None:
        """The reason of the job's latest hold or hand-back (for the job page)."""
        rows = list(self.r.db.query(
            "SELECT kind, text, at, by_user FROM interactions WHERE job_id = ? AND kind IN"
            " (?, ?) ORDER BY at DESC, hlc DESC LIMIT 1", [job_id, holds.SUSPEND, holds.RETURN]))
        if not rows:
            return None
        return {**rows[0], **holds.decode(rows[0]["text"])}

    def _move(self, job_id: str, target: Status, kind: str, reason: str, note: str,
              part_request_id: str | None) -> Changes:
        note = note.strip()
        if kind != holds.RESUME and reason not in holds.reasons(kind):
            raise InvalidInput("unknown_reason", f"no {kind} reason {reason!r}", reason=reason)
        if reason == "other" and not note:
            raise InvalidInput("reason_needs_note", "say what the other reason is")
        if len(note) > holds.MAX_NOTE:
            raise InvalidInput("note_too_long", f"at most {holds.MAX_NOTE} characters",
                               limit=holds.MAX_NOTE)
        session = self.r.require_session()
        with self.r.transaction():
            job = self.r.jobs.require_mine(job_id)
            changes = self.r.jobs.transition(job_id, target)
            interaction_id = self.r.insert("interactions", {
                "job_id": job_id, "customer_id": job["customer_id"], "kind": kind,
                "text": holds.encode(reason, note, part_request_id) if kind != holds.RESUME
                else holds.encode("", note), "at": now_iso(), "by_user": session.username,
                "device_id": self.r.device_id})
        return changes | Changes.of("interactions", ids=(interaction_id,))

    def _check_part_request(self, job_id: str, part_request_id: str | None) -> None:
        if not part_request_id:
            raise InvalidInput("part_request_needed", "待料 names the part request it waits for")
        found = self.r.find("part_requests", part_request_id)
        if found is None or found["job_id"] != job_id:
            raise InvalidInput("unknown_part_request",
                               f"no part request {part_request_id} on this job")

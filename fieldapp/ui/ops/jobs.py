"""Today's jobs, one job, its moves and log, its customer's 360° view and its parts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fieldapp.changes import Changes
from fieldapp.domain import holds
from fieldapp.domain.status import ORDER, PAUSES, Status, allowed_moves
from fieldapp.local_time import LOCAL_ZONE
from fieldapp.replica import Replica


def today_jobs(replica: Replica) -> list[dict[str, Any]]:
    """Today's list; empty before the first login rather than an error on screen."""
    if replica.session is None:
        return []
    return replica.jobs.today()


def unacknowledged_emergencies(replica: Replica) -> list[dict[str, Any]]:
    return replica.jobs.unacknowledged_emergencies()


def job(replica: Replica, *, job_id: str) -> dict[str, Any]:
    return replica.jobs.get(job_id)


def next_moves(replica: Replica, *, status: str) -> list[str]:
    """The statuses the signed-in user may move a job to, in the order of the main path."""
    session = replica.session
    allowed = allowed_moves(status, session.role if session else "technician") - PAUSES
    if status == Status.SUSPENDED:
        return []  # resumed with 恢复处理 (hold_moves), back to where the work stood
    rank = {s: i for i, s in enumerate([*ORDER, Status.CANCELLED])}
    return [str(s) for s in sorted(allowed, key=lambda s: rank[s])]


def hold_moves(replica: Replica, *, status: str) -> list[str]:
    """Which of 挂起 (suspend), 恢复处理 (resume) and 退单 (return) the job offers now."""
    session = replica.session
    allowed = allowed_moves(status, session.role if session else "technician")
    out = [holds.RESUME] if status == Status.SUSPENDED else []
    out += [kind for kind, target in ((holds.SUSPEND, Status.SUSPENDED),
                                      (holds.RETURN, Status.RETURNED)) if target in allowed]
    return out


def suspend_job(replica: Replica, *, job_id: str, reason: str, note: str = "",
                part_request_id: str | None = None) -> Changes:
    return replica.holds.suspend(job_id, reason, note, part_request_id)


def hand_back_job(replica: Replica, *, job_id: str, reason: str, note: str = "") -> Changes:
    return replica.holds.hand_back(job_id, reason, note)


def resume_job(replica: Replica, *, job_id: str, note: str = "") -> Changes:
    return replica.holds.resume(job_id, note)


def hold_reason(replica: Replica, *, job_id: str) -> dict[str, Any] | None:
    return replica.holds.current(job_id)


def completion_summary(replica: Replica, *, job_id: str) -> dict[str, Any]:
    return replica.jobs.completion_summary(job_id)


def transition_job(replica: Replica, *, job_id: str, target: str) -> Changes:
    return replica.jobs.transition(job_id, target)


def customer_360(replica: Replica, *, customer_id: str) -> dict[str, Any]:
    view = replica.customers.view360(customer_id)
    view["usage"] = replica.customers.usage(customer_id, datetime.now(LOCAL_ZONE).date())
    return view


def toggle_customer_tag(replica: Replica, *, customer_id: str, tag: str) -> Changes:
    return replica.customers.toggle_tag(customer_id, tag)


def search_customers(replica: Replica, *, text: str) -> list[dict[str, Any]]:
    return replica.customers.search(text)


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

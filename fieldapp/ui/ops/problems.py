"""What the server would not take, per job and for the 同步问题 page."""

from __future__ import annotations

from fieldapp.replica import Replica
from fieldapp.ui.ops.problem_data import SyncProblem, problem_from_row


def job_sync_state(replica: Replica, *, job_id: str) -> str:
    """``synced``, ``pending``, ``conflict`` or ``rejected`` for the job record itself."""
    return replica.outbox.record_state("jobs", job_id)


def sync_problems(replica: Replica) -> list[SyncProblem]:
    """Every rejected or conflicting change, newest first; reading them changes nothing."""
    return [problem_from_row(replica, row) for row in replica.outbox.problems()]

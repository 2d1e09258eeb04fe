"""What a submitted inspection with hazards leaves behind, written offline on the tablet.

One rectification notice (整改通知书) per submission that found hazards, one hazard record per
failed item with a hazard level (its deadline from the level, counted from the submission),
and one rectification-check job (整改复查) per distinct deadline, dispatched to the technician
who found them (the office may reassign it). All in the submission's transaction, and
synced like any other record; the server accepts such a job only for the technician's own
customer and name.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fieldapp.forms.hazards import hazards_for, rectification_plan
from fieldapp.local_time import LOCAL_ZONE

if TYPE_CHECKING:
    from fieldapp.replica import Replica

CHECK_KIND = "rectification_check"
# Job priority (1 = most urgent) of a check, by its most severe hazard level.
PRIORITY = {"critical": 1, "serious": 2, "general": 3}


def issue(replica: Replica, submission: Mapping[str, Any], definition: Mapping[str, Any],
          answers: Mapping[str, Any], notes: Mapping[str, str | None],
          submitted_at: str) -> dict[str, list[str]]:
    """Write the notice, hazards and check jobs; call inside the submission's transaction.

    Returns the ids written per table (empty when the inspection found no hazard).
    """
    moment = datetime.fromisoformat(submitted_at).astimezone(LOCAL_ZONE)
    found = hazards_for(definition, answers, notes, today=moment.date())
    plan = rectification_plan(found, moment)
    if not plan.needed:
        return {}
    job = replica.get("jobs", submission["job_id"])
    session = replica.require_session()
    who = {"by_user": session.username, "device_id": replica.device_id}
    check_ids: dict[str, str] = {}
    for check in plan.checks:
        due = check.due_at.isoformat(timespec="seconds")
        check_ids[due] = replica.insert("jobs", {
            "number": _number("ZG", job["number"], len(check_ids) + 1), "kind": CHECK_KIND,
            "priority": PRIORITY.get(check.level, 1), "customer_id": job["customer_id"],
            "district": job["district"], "due_at": due, "assignee": session.username,
            "required_skill": job["required_skill"], "status": "dispatched",
            "summary": f"整改复查：{len(check.hazards)} 处隐患（{job['number']}）",
            "created_at": submitted_at})
    deadline = plan.deadline
    assert deadline is not None
    notice_id = replica.insert("rectification_notices", {
        "job_id": job["id"], "customer_id": job["customer_id"],
        "submission_id": submission["id"], "number": _number("TZ", job["number"], 1),
        "issued_at": submitted_at, "deadline": deadline.isoformat(timespec="seconds"),
        "hazard_count": len(plan.items), **who})
    hazard_ids = []
    for item in plan.items:
        h = item.hazard
        due = item.due_at.isoformat(timespec="seconds")
        hazard_ids.append(replica.insert("hazards", {
            "job_id": job["id"], "customer_id": job["customer_id"],
            "submission_id": submission["id"], "notice_id": notice_id,
            "question": h.question_path, "label": h.label.get("zh") or h.question_path,
            "level": h.level, "deadline_days": h.deadline_days, "due_at": due,
            "note": h.note, "status": "open", "check_job_id": check_ids[due],
            "found_at": submitted_at, **who}))
    return {"rectification_notices": [notice_id], "hazards": hazard_ids,
            "jobs": list(check_ids.values())}


def _number(prefix: str, job_number: str, n: int) -> str:
    """A readable number tied to the inspection's (GD2026112400 → ZG2026112400-1)."""
    digits = job_number.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return f"{prefix}{digits}-{n}"


def record_check(replica: Replica, submission: Mapping[str, Any],
                 answers: Mapping[str, Any]) -> list[str]:
    """A submitted rectification check: each hazard it was scheduled for becomes
    ``rectified`` or stays ``unrectified`` as checked; returns the hazard ids changed."""
    changed = []
    for instance in answers.get("hazards") or []:
        outcome = {"pass": "rectified", "fail": "unrectified"}.get(instance.get("rectified"))
        question = instance.get("hazard_item")
        if outcome is None or not question:
            continue
        for hazard in replica.db.query(
                "SELECT id FROM hazards WHERE check_job_id = ? AND question = ?",
                [submission["job_id"], question]):
            if replica.update("hazards", hazard["id"], {"status": outcome}):
                changed.append(hazard["id"])
    return changed

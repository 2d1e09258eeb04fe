"""Jobs on the tablet: today's list, one job, and status changes along the state machine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from fieldapp.changes import Changes
from fieldapp.domain.kinds import EMERGENCY
from fieldapp.domain.roles import OFFICE_ROLES
from fieldapp.domain.route import Route, Stop, plan_route
from fieldapp.domain.status import Status, check_transition
from fieldapp.errors import InvalidInput
from fieldapp.local_time import LOCAL_ZONE, as_local, now_iso

if TYPE_CHECKING:
    from fieldapp.replica import Replica

OPEN_STATUSES = (Status.DISPATCHED, Status.ACCEPTED, Status.EN_ROUTE, Status.IN_SERVICE,
                 Status.SUSPENDED)

_LIST_SQL = """
SELECT j.*, c.name AS customer_name, c.address AS customer_address, c.phone AS customer_phone,
       c.account_no AS account_no, c.lat AS customer_lat, c.lon AS customer_lon
FROM jobs j LEFT JOIN customers c ON c.id = j.customer_id
"""


@dataclass(frozen=True)
class JobFilter:
    """What the today list shows: ``open``/``done`` or any status; a kind; a priority."""

    status: str | None = None  # "open", "done" or None (all)
    kind: str | None = None
    priority: int | None = None

    def keep(self, job: Mapping[str, Any]) -> bool:
        if self.status == "open" and job["status"] not in OPEN_STATUSES:
            return False
        if self.status == "done" and job["status"] in OPEN_STATUSES:
            return False
        if self.kind is not None and job["kind"] != self.kind:
            return False
        return self.priority is None or job["priority"] == self.priority

    def apply(self, jobs: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        return [j for j in jobs if self.keep(j)]


class Jobs:
    def __init__(self, replica: Replica) -> None:
        self.r = replica

    def today(self, day: date | None = None) -> list[dict[str, Any]]:
        """The signed-in technician's jobs due on ``day`` plus any still open from before.

        Emergencies (priority 1) first, then the dispatcher's route order, then due time.
        """
        session = self.r.require_session()
        day = day or datetime.now(LOCAL_ZONE).date()
        marks = ",".join("?" * len(OPEN_STATUSES))
        sql = (_LIST_SQL + f" WHERE j.assignee = ? AND (substr(j.due_at, 1, 10) = ?"
               f" OR (substr(j.due_at, 1, 10) < ? AND j.status IN ({marks})))"
               " ORDER BY (j.priority = 1) DESC, substr(j.due_at, 1, 10),"
               " coalesce(j.route_order, 9999), j.due_at")
        params = [session.username, day.isoformat(), day.isoformat(), *OPEN_STATUSES]
        return list(self.r.db.query(sql, params))

    def route(self, start: tuple[float, float] | None, now: datetime | None = None) -> Route:
        """Today's jobs still to do, in visiting order from ``start`` (None: no GPS fix)."""
        now = now or datetime.now(LOCAL_ZONE)
        return plan_route(self.stops(now), start=start, start_time=now)

    def stops(self, now: datetime, today: Sequence[Mapping[str, Any]] | None = None
              ) -> list[Stop]:
        """Today's jobs still to do as a route's stops (to plan elsewhere: along the roads,
        off the database worker); ``today`` when they were just read (``today()``)."""
        jobs = self.today(now.date()) if today is None else today
        return [Stop(j["id"], j["customer_lat"], j["customer_lon"], j["priority"] or 3,
                     as_local(j["due_at"]))
                for j in jobs if j["status"] in OPEN_STATUSES]

    def unacknowledged_emergencies(self) -> list[dict[str, Any]]:
        """The signed-in technician's emergencies not yet accepted, oldest first: what the
        tablet alerts for until the technician takes them on."""
        session = self.r.session
        if session is None:
            return []
        return list(self.r.db.query(
            _LIST_SQL + " WHERE j.assignee = ? AND j.priority = ? AND j.status = ?"
            " ORDER BY j.created_at, j.id", [session.username, EMERGENCY, Status.DISPATCHED]))

    def get(self, job_id: str) -> dict[str, Any]:
        rows = list(self.r.db.query(_LIST_SQL + " WHERE j.id = ?", [job_id]))
        if not rows:
            self.r.get("jobs", job_id)  # raises NotFound with the id
        return rows[0]

    def history(self, job_id: str) -> list[dict[str, Any]]:
        return list(self.r.db.query(
            "SELECT * FROM job_status_history WHERE job_id = ? ORDER BY at, hlc", [job_id]))

    def require_mine(self, job_id: str) -> dict[str, Any]:
        """The job, if the signed-in technician may work on it (the office may work on any).

        The replica also holds other technicians' jobs of the same customers (the 360° view's
        history); work on those would only be refused by the server later.
        """
        session = self.r.require_session()
        job = self.r.get("jobs", job_id)
        if session.role not in OFFICE_ROLES and job["assignee"] != session.username:
            raise InvalidInput("not_assigned", f"job {job['number']} is assigned to"
                               f" {job['assignee']}", number=job["number"])
        return job

    def transition(self, job_id: str, target: str) -> Changes:
        """Move a job to ``target``, recording who, which device and when."""
        session = self.r.require_session()
        with self.r.transaction():
            job = self.require_mine(job_id)
            to = check_transition(job["status"], target, session.role)
            if to == Status.COMPLETED:
                self._check_completion(job)
            self.r.update("jobs", job_id, {"status": str(to)})
            history_id = self.r.insert("job_status_history", {
                "job_id": job_id, "customer_id": job["customer_id"],
                "from_status": job["status"], "to_status": str(to), "at": now_iso(),
                "by_user": session.username, "device_id": self.r.device_id,
            })
        return Changes.of("jobs", "job_status_history", ids=(job_id, history_id))

    def completion_summary(self, job_id: str) -> dict[str, Any]:
        """What the job has on the tablet, for the technician to look over before 完成:
        the form and its state, hazards found, photos, the signature, notes, and what the
        completion would still refuse (``missing``)."""
        self.require_mine(job_id)
        job = self.get(job_id)  # with the customer's name
        sub = self.r.forms.for_job(job_id)
        signatures = self.r.evidence.signatures(job_id)

        def count(sql: str) -> int:
            return int(self.r.db.execute(sql, [job_id]).fetchone()[0])

        try:
            self._check_completion(job)
            missing: list[str] = []
        except InvalidInput as exc:
            missing = list(exc.params.get("missing", []))
        return {
            "job": job,
            "form_state": sub["state"] if sub else None,
            "answers": count("SELECT count(*) FROM answers WHERE job_id = ?"),
            "hazards": count("SELECT count(*) FROM hazards WHERE job_id = ?"),
            "photos": count("SELECT count(*) FROM attachments WHERE job_id = ?"
                            " AND kind = 'photo'"),
            "signer": signatures[-1]["signer_name"] if signatures else None,
            "notes": count("SELECT count(*) FROM interactions WHERE job_id = ?"
                           " AND kind = 'note'"),
            "missing": missing,
        }

    def _check_completion(self, job: dict[str, Any]) -> None:
        """A job with a form completes only once its form is submitted; the form's own rules
        ask for the customer's signature where one is needed. An inspection on a form with
        no signature question (the flat checklist of v1) needs the signature on the job."""
        from fieldapp.domain.kinds import FORM_FOR_KIND

        if job["kind"] not in FORM_FOR_KIND:
            return
        sub = self.r.forms.for_job(job["id"])
        missing = []
        if sub is None or sub["state"] != "submitted":
            missing.append("form")
        if (job["kind"] == "inspection" and sub is not None
                and not self.r.forms.asks_signature(sub)
                and not self.r.evidence.signatures(job["id"])):
            missing.append("signature")
        if missing:
            raise InvalidInput("completion_requirements",
                               f"job {job['number']} cannot be completed: missing {missing}",
                               missing=missing)


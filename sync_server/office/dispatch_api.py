"""The dispatch actions as a JSON API for the hotline and other systems: create a job, list
jobs, assign one, auto-dispatch. Signed in with a device token of a dispatching role; the
rules are services/dispatch.py's, the same as the board's."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from sync_server.deps import principal, server_of
from sync_server.office.dispatch import assign_by_hand, may_dispatch, roads_for
from sync_server.services import dispatch
from sync_server.services.auth import Principal
from sync_server.services.districts import district_of

router = APIRouter(prefix="/api/v1/office", tags=["dispatch"])


def _office_principal(request: Request) -> Principal:
    who = principal(request, request.headers.get("authorization"),
                    _protocol(request.headers.get("x-fieldapp-protocol")))
    may_dispatch(who)
    return who


def _protocol(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


Dispatcher = Annotated[Principal, Depends(_office_principal)]


class JobIn(BaseModel):
    kind: str = Field(max_length=40, description="inspection, repair, meter_reading, …")
    customer: str = Field(max_length=64, description="the customer's id or account number")
    priority: int = Field(default=3, ge=1, le=4, description="1 emergency … 4 low")
    due_at: str = Field(max_length=40, description="ISO 8601; without offset: local time")
    summary: str = Field(default="", max_length=500)


class JobOut(BaseModel):
    id: str
    number: str
    status: str
    assignee: str | None


class AssignIn(BaseModel):
    username: str = Field(max_length=64)


class AssignOut(BaseModel):
    job: JobOut
    explanation: str


class AutoOut(BaseModel):
    assigned: list[AssignOut]
    unassigned: list[AssignOut]


def _out(conn: Any, job_id: str) -> JobOut:
    job = dispatch.job_row(conn, job_id)
    return JobOut(id=job["id"], number=job["number"], status=job["status"],
                  assignee=job["assignee"])


@router.post("/jobs", status_code=201)
def api_create_job(request: Request, who: Dispatcher, body: JobIn) -> JobOut:
    """Create a pending job (the hotline's or another system's)."""
    server = server_of(request)
    with server.db.write() as conn:
        job_id = dispatch.create_job(conn, who, server.clock, body.model_dump(),
                                     district_of(who))
        return _out(conn, job_id)


@router.get("/jobs")
def api_jobs(request: Request, who: Dispatcher,
             status: Annotated[str | None, Query(max_length=20)] = None) -> list[JobOut]:
    with server_of(request).db.read() as conn:
        clauses = [(c, v) for c, v in (("status = ?", status),
                                        ("district = ?", district_of(who))) if v]
        where = (" WHERE " + " AND ".join(c for c, _ in clauses)) if clauses else ""
        params = [v for _, v in clauses]
        rows = conn.execute(f"SELECT id FROM jobs{where} ORDER BY priority, due_at LIMIT 500",
                            params).fetchall()
        return [_out(conn, r[0]) for r in rows]


@router.post("/jobs/{job_id}/assign")
def apiassign_by_hand(request: Request, who: Dispatcher, job_id: str, body: AssignIn) -> AssignOut:
    explanation = assign_by_hand(request, who, job_id, body.username)
    with server_of(request).db.read() as conn:
        return AssignOut(job=_out(conn, job_id), explanation=explanation)


@router.post("/dispatch/auto")
def api_auto(request: Request, who: Dispatcher) -> AutoOut:
    """Assign every pending job; each with the reason in words."""
    server = server_of(request)
    with server.db.write() as conn:
        decided = dispatch.auto_dispatch(conn, who, server.clock, district_of(who),
                                         roads_for(request))
        out = [(pick.username is not None,
                AssignOut(job=_out(conn, job["id"]), explanation=pick.explanation))
               for job, pick in decided]
    return AutoOut(assigned=[o for ok, o in out if ok], unassigned=[o for ok, o in out if not ok])

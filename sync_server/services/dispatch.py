"""The dispatch center's rules: creating jobs, choosing a technician, assigning.

    job_id = create_job(conn, who, clock, {"kind": "repair", "customer_id": …, …})
    pick = suggest(conn, job_id)            # a technician and the reasons, in words
    assign(conn, who, clock, job_id, pick.username, pick.explanation)
    auto_dispatch(conn, who, clock)         # every pending job, emergencies first

A suggestion weighs what the dispatcher would: the skill the kind needs, the district, how
many open jobs each qualified technician holds that day, and how far they are from the
customer (from the customer of their current open job; unknown positions count as far). An
emergency goes to the nearest qualified technician, load second. Every office
write goes through ``merge.apply_mutation`` like a device's, so it is logged, versioned and
reaches the tablets at their next sync; each assignment is also kept with its explanation in
``dispatch_log``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from fieldapp.domain.kinds import EMERGENCY, KIND_SKILL, KINDS, PRIORITIES
from fieldapp.domain.roles import ACTS_AS_OFFICE
from fieldapp.domain.route import haversine_km
from fieldapp.ids import new_id
from fieldapp.local_time import LOCAL_ZONE, local_day, now_iso
from fieldapp.wire import Mutation
from fieldapp.write_policy import Door
from sync_server.clock import ServerClock
from sync_server.errors import ApiError
from sync_server.services import positions

if TYPE_CHECKING:
    from fieldapp.network.roads import Roads
from sync_server.services.auth import Principal
from sync_server.storage.db import Connection
from sync_server.sync import merge

OPEN = ("dispatched", "accepted", "en_route", "in_service", "suspended")  # a technician's
# Not yet accepted, handed back (退单) or on hold (挂起): may go to someone else.
ASSIGNABLE = ("pending", "dispatched", "returned", "suspended")
REDISPATCH = ("pending", "returned", "suspended")  # assigned: dispatched (again)
SKILL_ZH = {"inspection": "安检", "repair": "维修", "meter_reading": "抄表",
            "installation": "安装"}


# A district's roads, to measure along (``network_maps.roads_of`` with the server's store).
RoadsFor = Callable[["Connection", str], "Roads | None"]


@dataclass(frozen=True)
class Candidate:
    username: str
    display_name: str
    district: str | None
    load: int  # open jobs due the same day
    distance_km: float | None  # from their fresh fix, else their latest open job's customer
    located: str = ""  # "gps" (a fresh fix), "jobs" (their jobs' addresses) or "" (unknown)


@dataclass(frozen=True)
class Suggestion:
    job_id: str
    username: str | None  # None: nobody has the skill
    explanation: str
    candidates: list[Candidate] = field(default_factory=list)  # best first


def _rows(conn: Connection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(sql, params).fetchall()]


def job_row(conn: Connection, job_id: str) -> dict[str, Any]:
    rows = _rows(conn, "SELECT j.*, c.name AS customer_name, c.lat, c.lon FROM jobs j"
                       " LEFT JOIN customers c ON c.id = j.customer_id WHERE j.id = ?", [job_id])
    if not rows:
        raise ApiError(404, "unknown_job", f"no job {job_id}")
    return rows[0]


def technicians(conn: Connection) -> list[dict[str, Any]]:
    """Active technicians with their skills, open jobs per day and where they are now: a
    fresh trusted fix (``positions.fresh``), else their open jobs' customers; ``fix`` is
    their last reported fix at any age, for the map."""
    techs = _rows(conn, "SELECT username, display_name, district, skills FROM users"
                        " WHERE role = 'technician' AND active = 1 ORDER BY username", [])
    loads: dict[str, dict[str, int]] = {}
    # Where each one is now: the customer of their open job furthest along, latest due.
    here: dict[str, tuple[float, float]] = {}
    for r in _rows(conn, "SELECT j.assignee, j.status, j.due_at, c.lat, c.lon FROM jobs j"
                         " LEFT JOIN customers c ON c.id = j.customer_id"
                         f" WHERE j.status IN ({_marks(OPEN)}) ORDER BY j.due_at", list(OPEN)):
        day = loads.setdefault(r["assignee"], {})
        day[_day(r["due_at"])] = day.get(_day(r["due_at"]), 0) + 1
        if r["lat"] is not None and (r["assignee"] not in here
                                     or r["status"] in ("en_route", "in_service")):
            here[r["assignee"]] = (r["lat"], r["lon"])
    fixes, gps = positions.latest(conn), positions.fresh(conn)
    for t in techs:
        t["skills"] = json.loads(t["skills"] or "[]")
        t["loads"] = loads.get(t["username"], {})
        real = gps.get(t["username"])
        t["position"] = real or here.get(t["username"])
        t["located"] = "gps" if real else "jobs" if t["position"] else ""
        t["fix"] = fixes.get(t["username"])
    return techs


def suggest(conn: Connection, job_id: str, techs: list[dict[str, Any]] | None = None,
            roads: RoadsFor | None = None) -> Suggestion:
    """The technician this job should go to, with the reasons in words: the district first,
    then the fewest jobs that day and the shortest way (along the district's roads when
    ``roads`` has them, else as the crow flies); an emergency goes to the nearest."""
    job = job_row(conn, job_id)
    techs = technicians(conn) if techs is None else techs
    skill = job["required_skill"] or KIND_SKILL.get(job["kind"], job["kind"])
    skill_zh = SKILL_ZH.get(skill, skill)
    qualified = [t for t in techs if skill in t["skills"]]
    if not qualified:
        return Suggestion(job_id, None, f"没有具备“{skill_zh}”技能的在岗安检员，请手动指派")
    local = [t for t in qualified if t["district"] == job["district"]]
    pool = local or qualified
    target = (job["lat"], job["lon"]) if job["lat"] is not None else None
    day = _day(job["due_at"])

    street = roads(conn, job["district"]) if roads and target and job["district"] else None
    placed = [t for t in pool if t["position"] is not None]
    along: dict[str, float] = dict(zip((t["username"] for t in placed), street.from_km(
        target, [t["position"] for t in placed]), strict=True)) if street and target else {}

    def distance(t: Mapping[str, Any]) -> float | None:
        if target is None or t["position"] is None:
            return None
        return along.get(t["username"], haversine_km(t["position"], target))

    emergency = job["priority"] == EMERGENCY
    candidates = sorted(
        (Candidate(t["username"], t["display_name"], t["district"], t["loads"].get(day, 0),
                   distance(t), t.get("located", "")) for t in pool),
        key=lambda c: ((_far(c), c.load) if emergency else (c.load, _far(c))) + (c.username,))
    best = candidates[0]
    where = (f"{job['district']}" if local else
             f"{job['district']}没有具备该技能的人员，从其他区域选派")
    reasons = [where, f"具备“{skill_zh}”技能"]
    fewest = "（候选人中最少）" if len(candidates) > 1 and not emergency else ""
    reasons.append(f"当天在手 {best.load} 单{fewest}")
    if best.distance_km is not None:
        ties = sum(1 for c in candidates if c.load == best.load)
        nearest = ("（紧急工单，就近派出）" if emergency
                   else "（同等负荷中最近）" if ties > 1 else "")
        how = ("沿道路，" if street else "") + (
            "按实时定位" if best.located == "gps" else "按其工单地址估计")
        reasons.append(f"距客户约 {best.distance_km:.1f} km（{how}）{nearest}")
    return Suggestion(job_id, best.username,
                      f"建议指派给 {best.display_name}：" + "，".join(reasons), candidates)


def _far(c: Candidate) -> float:
    return math.inf if c.distance_km is None else c.distance_km


def _day(iso: str | None) -> str:
    """The local day of a due time: a technician's load is counted per working day."""
    if not iso:
        return ""
    try:
        return local_day(iso).isoformat()
    except ValueError:
        return iso[:10]


def assign(conn: Connection, who: Principal, clock: ServerClock, job_id: str, username: str,
           explanation: str, auto: bool = False) -> None:
    """Give a pending or not yet accepted job to ``username`` (dispatching it if pending)."""
    job = job_row(conn, job_id)
    if job["status"] not in ASSIGNABLE:
        raise ApiError(409, "not_assignable",
                       f"工单 {job['number']} 已{_STATUS_ZH.get(job['status'], job['status'])}，"
                       "不能再改派")
    tech = _rows(conn, "SELECT username, role, active FROM users WHERE username = ?",
                 [username])
    if not tech or tech[0]["role"] != "technician" or not tech[0]["active"]:
        raise ApiError(422, "not_a_technician", f"{username} 不是在岗的安检员")
    if job["assignee"] == username and job["status"] == "dispatched":
        return
    fields: dict[str, Any] = {"assignee": username}
    if job["status"] in REDISPATCH:
        fields["status"] = "dispatched"
    write(conn, who, clock, "jobs", job_id, "update", fields,
           old={k: job[k] for k in fields}, base_version=job["version"])
    if job["status"] in REDISPATCH:
        write(conn, who, clock, "job_status_history", new_id(), "insert", {
            "job_id": job_id, "customer_id": job["customer_id"], "from_status": job["status"],
            "to_status": "dispatched", "at": now_iso(), "by_user": who.username,
            "device_id": who.device_id})
    conn.execute("INSERT INTO dispatch_log(job_id, assignee, previous, by_user, at, auto,"
                 " explanation) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 [job_id, username, job["assignee"], who.username, now_iso(), int(auto),
                  explanation])


def auto_dispatch(conn: Connection, who: Principal, clock: ServerClock,
                  district: str | None = None, roads: RoadsFor | None = None
                  ) -> list[tuple[dict[str, Any], Suggestion]]:
    """Assign every pending job (of ``district``, if given), emergencies first, then by
    deadline; each choice counts in the next one's load. Returns each job with what was
    decided (unassigned when nobody qualifies)."""
    where, params = (" AND district = ?", [district]) if district else ("", [])
    pending = _rows(conn, "SELECT id, number, priority FROM jobs WHERE status = 'pending'"
                          + where + " ORDER BY priority, due_at, number", params)
    techs = technicians(conn)
    decided = []
    for job in pending:
        pick = suggest(conn, job["id"], techs, roads)
        if pick.username is not None:
            assign(conn, who, clock, job["id"], pick.username, pick.explanation, auto=True)
            chosen = next(t for t in techs if t["username"] == pick.username)
            target = job_row(conn, job["id"])
            day = _day(target["due_at"])
            chosen["loads"][day] = chosen["loads"].get(day, 0) + 1
            if chosen["position"] is None and target["lat"] is not None:
                chosen["position"] = (target["lat"], target["lon"])
        decided.append((job, pick))
    return decided


def create_job(conn: Connection, who: Principal, clock: ServerClock,
               fields: Mapping[str, Any], district: str | None = None) -> str:
    """A new pending job for a customer (of ``district``, if given); every problem with the
    fields is named."""
    kind = str(fields.get("kind") or "")
    problems = []
    if kind not in KINDS:
        problems.append(f"未知的工单类型：{kind or '（空）'}")
    customer = _rows(conn, "SELECT id, district FROM customers WHERE id = ? OR account_no = ?",
                     [str(fields.get("customer") or ""), str(fields.get("customer") or "")])
    if not customer:
        problems.append(f"没有客户 {fields.get('customer') or '（空）'}（填写户号）")
    elif district and customer[0]["district"] != district:
        problems.append(f"客户 {fields.get('customer')} 不在您负责的区域（{district}）")
    try:
        priority = int(fields.get("priority") or 3)
        if priority not in PRIORITIES:
            raise ValueError
    except (TypeError, ValueError):
        problems.append(f"优先级应为 {PRIORITIES[0]}–{PRIORITIES[-1]}")
        priority = 3
    due = _due(fields.get("due_at"))
    if due is None:
        problems.append("预约时间格式应为 2026-12-01 09:30")
    summary = str(fields.get("summary") or "").strip()
    if len(summary) > 500:
        problems.append("说明不能超过 500 字")
    if problems:
        raise ApiError(422, "invalid_job", "；".join(problems), detail=problems)
    job_id = new_id()
    created = now_iso()
    write(conn, who, clock, "jobs", job_id, "insert", {
        "number": _number(conn, created), "kind": kind, "priority": priority,
        "customer_id": customer[0]["id"], "district": customer[0]["district"],
        "due_at": due, "assignee": None, "required_skill": KIND_SKILL[kind],
        "status": "pending", "route_order": None, "summary": summary or None,
        "created_at": created})
    return job_id


def _due(value: Any) -> str | None:
    """A due time typed in the utility's zone (or ISO 8601 with an offset), stored with it."""
    text = str(value or "").strip().replace("T", " ")
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_ZONE)
    return moment.isoformat(timespec="seconds")


def _number(conn: Connection, created: str) -> str:
    """GD + the day + a running number, as the demo's and the hotline's numbers read."""
    day = datetime.fromisoformat(created).astimezone(LOCAL_ZONE).strftime("%Y%m%d")
    # The range lets both databases answer from the jobs_number index (LIKE alone cannot).
    last = conn.execute("SELECT max(number) FROM jobs WHERE number >= ? AND number <= ?"
                        " AND number LIKE ?", [f"GD{day}0000", f"GD{day}9999",
                                               f"GD{day}____"]).fetchone()[0]
    n = int(last[-4:]) + 1 if last and last[-4:].isdigit() else 1
    return f"GD{day}{n:04d}"


def write(conn: Connection, who: Principal, clock: ServerClock, table: str, record_id: str,
           op: Literal["insert", "update", "delete"], fields: dict[str, Any],
           old: dict[str, Any] | None = None,
           base_version: int = 0) -> None:
    """An office (or the rules engine's) change, applied and logged like a device's."""
    assert who.role in ACTS_AS_OFFICE
    m = Mutation(mutation_id=new_id(), table=table, record_id=record_id, op=op,
                 fields=fields, old=old or {}, base_version=base_version, hlc=clock.now(),
                 at=now_iso())
    result = merge.apply_mutation(conn, m, who, f"office-{m.mutation_id}", door=Door.OFFICE)
    if result.status not in ("applied", "merged"):
        raise ApiError(409, result.reason or "rejected", result.message or str(result.reason))


def _marks(values: tuple[str, ...]) -> str:
    return ", ".join("?" * len(values))


_STATUS_ZH = {"accepted": "接单", "en_route": "出发", "in_service": "开始服务",
              "completed": "完成", "followed_up": "回访", "cancelled": "取消"}

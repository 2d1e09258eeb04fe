"""The figures the business watches (DOMAIN.md), from the synced data, for a period and a
district: handling time, first-time fix rate, satisfaction, inspection coverage, hazard
rectification rate, load per technician and district, jobs past their deadline.

Rows are selected and filtered in SQL that runs unchanged on SQLite and PostgreSQL; the few
sums over times and JSON answers are done here in Python, where both databases agree.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import mean, median
from typing import Any

from fieldapp.domain.status import Status
from fieldapp.local_time import LOCAL_ZONE, as_local
from sync_server.services import time_limits
from sync_server.storage.db import Connection

OPEN = ("dispatched", "accepted", "en_route", "in_service", "suspended")


@dataclass(frozen=True)
class Period:
    since: date
    until: date  # inclusive
    district: str = ""



@dataclass
class Figures:
    period: Period
    completed: int = 0
    handling_minutes: float | None = None  # start of service to completion, mean
    # 抢修响应: emergency repairs, from the report (the job's creation) to the arrival (the
    # first start of service), against the utility's own time limits added up.
    emergencies: int = 0
    response_minutes: float | None = None  # median
    response_target: int | None = None  # dispatch + accept + arrive limits of repair × 紧急
    response_within: float | None = None  # share arriving within the target
    first_time_fix: float | None = None  # share of repairs fixed on the first visit
    repairs: int = 0
    satisfaction: float | None = None  # mean of 1–5
    ratings: int = 0
    hazards_found: int = 0
    hazards_rectified: int = 0
    overdue: list[dict[str, Any]] = field(default_factory=list)
    coverage: list[dict[str, Any]] = field(default_factory=list)  # per district
    load: list[dict[str, Any]] = field(default_factory=list)  # per technician
    by_district: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rectification_rate(self) -> float | None:
        return self.hazards_rectified / self.hazards_found if self.hazards_found else None


def figures(conn: Connection, period: Period, now: datetime) -> Figures:
    out = Figures(period)
    done = _completed(conn, period)
    out.completed = len(done)
    held = _held_minutes(conn, done)
    minutes = [(c["at"] - c["from"]).total_seconds() / 60 - held.get(c["job_id"], 0.0)
               for c in done if c["from"] and c["at"] >= c["from"]]
    out.handling_minutes = round(mean(minutes), 1) if minutes else None
    on_site = _repairs(conn, out, [c["job_id"] for c in done if c["kind"] == "repair"])
    _satisfaction(conn, out, [c["job_id"] for c in done], on_site)
    _hazards(conn, out)
    _emergency_response(conn, out, period)
    _coverage(conn, out)
    _load(conn, out, done, now)
    return out


def _district(alias: str, period: Period) -> tuple[str, list[Any]]:
    return (f" AND {alias}.district = ?", [period.district]) if period.district else ("", [])


def _completed(conn: Connection, period: Period) -> list[dict[str, Any]]:
    """Jobs completed in the period, each with when its handling began (the start of service;
    else acceptance, dispatch or creation, whichever was logged) and when it was completed."""
    where, params = _district("j", period)
    rows = conn.execute(
        "SELECT j.id, j.kind, j.district, j.assignee, j.created_at, h.at,"
        # the first start: a job resumed after a hold (挂起) starts service again
        " (SELECT min(d.at) FROM job_status_history d WHERE d.job_id = j.id"
        "  AND d.to_status = 'in_service') AS started_at,"
        " (SELECT min(d.at) FROM job_status_history d WHERE d.job_id = j.id"
        "  AND d.to_status = 'accepted') AS accepted_at,"
        " (SELECT min(d.at) FROM job_status_history d WHERE d.job_id = j.id"
        "  AND d.to_status = 'dispatched') AS dispatched_at"
        " FROM job_status_history h JOIN jobs j ON j.id = h.job_id"
        " WHERE h.to_status = 'completed' AND h.at >= ? AND h.at < ?" + where
        + " ORDER BY h.at", [*_loose(period.since, period.until), *params]).fetchall()
    seen, out = set(), []
    for r in rows:
        at = _within(r["at"], period.since, period.until)
        if at is None or r["id"] in seen:  # completed twice (reinstated): counted once
            continue
        seen.add(r["id"])
        out.append({"job_id": r["id"], "kind": r["kind"], "district": r["district"],
                    "assignee": r["assignee"], "at": at,
                    "from": as_local(r["started_at"] or r["accepted_at"] or r["dispatched_at"]
                                    or r["created_at"])})
    return out


def _emergency_response(conn: Connection, out: Figures, period: Period) -> None:
    """Emergencies (priority 1 repairs) whose technician arrived in the period."""
    where, params = _district("j", period)
    rows = conn.execute(
        "SELECT j.created_at, min(h.at) AS arrived FROM jobs j JOIN job_status_history h"
        " ON h.job_id = j.id AND h.to_status = 'in_service'"
        " WHERE j.kind = 'repair' AND j.priority = 1" + where
        + " GROUP BY j.id, j.created_at", params).fetchall()
    minutes = []
    for r in rows:
        arrived, reported = (_within(r["arrived"], period.since, period.until),
                             as_local(r["created_at"]))
        if arrived is not None and reported is not None and arrived >= reported:
            minutes.append((arrived - reported).total_seconds() / 60)
    steps = time_limits.limits(conn).get(("repair", 1), {})
    if all(step in steps for step in ("dispatch", "accept", "arrive")):
        out.response_target = steps["dispatch"] + steps["accept"] + steps["arrive"]
    out.emergencies = len(minutes)
    if minutes:
        out.response_minutes = round(median(minutes), 1)
        if out.response_target is not None:
            target = out.response_target
            out.response_within = round(sum(m <= target for m in minutes) / len(minutes), 3)


def _held_minutes(conn: Connection, done: list[dict[str, Any]]) -> dict[str, float]:
    """Minutes each completed job spent on hold (挂起) while it was being handled: the
    technician waiting for parts or for the customer is not handling time."""
    spans: dict[str, float] = defaultdict(float)
    windows = {c["job_id"]: (c["from"], c["at"]) for c in done if c["from"]}
    for chunk in _chunks(list(windows), 500):
        marks = ", ".join("?" * len(chunk))
        since: dict[str, datetime] = {}
        for r in conn.execute("SELECT job_id, from_status, to_status, at FROM"
                              f" job_status_history WHERE job_id IN ({marks})"
                              " AND ? IN (from_status, to_status) ORDER BY job_id, at",
                              [*chunk, str(Status.SUSPENDED)]):
            at = as_local(r["at"])
            if at is None:
                continue
            if r["to_status"] == Status.SUSPENDED:
                since.setdefault(r["job_id"], at)
            elif r["job_id"] in since:
                start, end = windows[r["job_id"]]
                began = max(since.pop(r["job_id"]), start)
                ended = min(at, end)
                if ended > began:
                    spans[r["job_id"]] += (ended - began).total_seconds() / 60
    return spans


def _repairs(conn: Connection, out: Figures, job_ids: list[str]) -> dict[str, int]:
    """First-time fix from the repair reports' answers; returns the ratings customers gave
    on the technician's tablet, by job."""
    answers: dict[str, dict[str, Any]] = defaultdict(dict)
    for chunk in _chunks(job_ids, 500):
        marks = ", ".join("?" * len(chunk))
        for r in conn.execute("SELECT s.job_id, a.question, a.value FROM submissions s"
                              " JOIN answers a ON a.submission_id = s.id"
                              f" WHERE s.job_id IN ({marks}) AND s.state = 'submitted'"
                              " AND a.question IN ('fixed', 'satisfaction')", chunk):
            answers[r["job_id"]][r["question"]] = _json(r["value"])
    fixed = [a["fixed"] == "yes" for a in answers.values() if a.get("fixed") in ("yes", "no")]
    out.repairs = len(fixed)
    out.first_time_fix = round(sum(fixed) / len(fixed), 3) if fixed else None
    return {job_id: a["satisfaction"] for job_id, a in answers.items()
            if isinstance(a.get("satisfaction"), int) and 1 <= a["satisfaction"] <= 5}


def _satisfaction(conn: Connection, out: Figures, job_ids: list[str],
                  on_site: dict[str, int]) -> None:
    """Mean rating of the completed jobs: the customer's own from the portal where given
    (made later, without the technician watching), else the one given on site."""
    scores = dict(on_site)
    for chunk in _chunks(job_ids, 500):
        marks = ", ".join("?" * len(chunk))
        for r in conn.execute("SELECT job_id, rating FROM portal_requests"
                              f" WHERE job_id IN ({marks}) AND rating IS NOT NULL", chunk):
            scores[r["job_id"]] = int(r["rating"])
    out.ratings = len(scores)
    out.satisfaction = round(float(mean(scores.values())), 2) if scores else None


def _hazards(conn: Connection, out: Figures) -> None:
    """Hazards found in the period, and how many of those are rectified by now."""
    p = out.period
    where, params = _district("c", p)
    rows = conn.execute("SELECT h.found_at, h.status FROM hazards h JOIN customers c"
                        " ON c.id = h.customer_id WHERE h.found_at >= ? AND h.found_at < ?"
                        + where, [*_loose(p.since, p.until), *params]).fetchall()
    found = [r["status"] for r in rows if _within(r["found_at"], p.since, p.until)]
    out.hazards_found = len(found)
    out.hazards_rectified = sum(1 for status in found if status == "rectified")


def _coverage(conn: Connection, out: Figures) -> None:
    """Households inspected in the inspection cycle (the period's calendar year), by district."""
    first, last = date(out.period.until.year, 1, 1), date(out.period.until.year, 12, 31)
    where, params = _district("c", out.period)
    households = {r["district"]: r["n"] for r in conn.execute(
        "SELECT c.district, count(*) AS n FROM customers c WHERE c.kind = 'residential'"
        + where + " GROUP BY c.district", params)}
    seen: dict[str, set[str]] = defaultdict(set)
    for r in conn.execute(
            "SELECT c.district, c.id, h.at FROM customers c"
            " JOIN jobs j ON j.customer_id = c.id AND j.kind = 'inspection'"
            " JOIN job_status_history h ON h.job_id = j.id AND h.to_status = 'completed'"
            " WHERE c.kind = 'residential' AND h.at >= ? AND h.at < ?" + where,
            [*_loose(first, last), *params]):
        if _within(r["at"], first, last):
            seen[r["district"]].add(r["id"])
    inspected = {d: len(ids) for d, ids in seen.items()}
    out.coverage = [{"district": d or "（未分区）", "households": n,
                     "inspected": inspected.get(d, 0),
                     "share": round(inspected.get(d, 0) / n, 3) if n else None}
                    for d, n in sorted(households.items(), key=lambda kv: kv[0] or "")]


def _load(conn: Connection, out: Figures, done: list[dict[str, Any]], now: datetime) -> None:
    """Open and completed jobs per technician and per district; jobs past their deadline."""
    where, params = _district("j", out.period)
    names = {r["username"]: (r["display_name"], r["district"]) for r in conn.execute(
        "SELECT username, display_name, district FROM users WHERE role = 'technician'")}
    open_jobs = [dict(r) for r in conn.execute(
        "SELECT j.id, j.number, j.assignee, j.district, j.due_at, j.status, j.kind"
        f" FROM jobs j WHERE j.status IN ({', '.join('?' * len(OPEN))})" + where,
        [*OPEN, *params])]
    per_tech: dict[str, dict[str, Any]] = {}
    for u, (name, district) in names.items():
        if not out.period.district or district == out.period.district:
            per_tech[u] = {"username": u, "name": name, "district": district, "open": 0,
                           "completed": 0}
    per_district: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"open": 0, "completed": 0, "overdue": 0})
    for j in open_jobs:
        per_district[j["district"] or "（未分区）"]["open"] += 1
        if j["assignee"] in per_tech:
            per_tech[j["assignee"]]["open"] += 1
        due = as_local(j["due_at"])
        if due is not None and due < now:
            per_district[j["district"] or "（未分区）"]["overdue"] += 1
            out.overdue.append({**j, "late_hours": round((now - due).total_seconds() / 3600,
                                                         1)})
    pending = conn.execute("SELECT j.district, j.due_at, j.id, j.number, j.assignee,"
                           " j.status, j.kind FROM jobs j WHERE j.status = 'pending'" + where,
                           params).fetchall()
    for j in pending:
        due = as_local(j["due_at"])
        if due is not None and due < now:
            per_district[j["district"] or "（未分区）"]["overdue"] += 1
            out.overdue.append({**dict(j), "late_hours": round(
                (now - due).total_seconds() / 3600, 1)})
    for c in done:
        per_district[c["district"] or "（未分区）"]["completed"] += 1
        if c["assignee"] in per_tech:
            per_tech[c["assignee"]]["completed"] += 1
    out.load = sorted(per_tech.values(), key=lambda t: (-t["open"], t["username"]))
    out.by_district = [{"district": d, **v} for d, v in sorted(per_district.items())]
    out.overdue.sort(key=lambda j: -j["late_hours"])


def csv_rows(f: Figures) -> Iterable[list[Any]]:
    """The figures as rows for a spreadsheet: one section after another."""
    p = f.period
    yield ["期间", f"{p.since} 至 {p.until}", "区域", p.district or "全部"]
    yield []
    yield ["指标", "数值", "样本"]
    yield ["完成工单", f.completed, ""]
    yield ["平均处理时长（分钟，自开始服务）", _or_blank(f.handling_minutes), f.completed]
    yield ["一次修复率", _or_blank(f.first_time_fix), f.repairs]
    yield ["客户满意度（1–5）", _or_blank(f.satisfaction), f.ratings]
    yield ["隐患整改率", _or_blank(f.rectification_rate), f.hazards_found]
    yield ["超期工单", len(f.overdue), ""]
    yield []
    yield ["区域", "居民户数", "本年度已安检", "安检覆盖率"]
    for c in f.coverage:
        yield [c["district"], c["households"], c["inspected"], _or_blank(c["share"])]
    yield []
    yield ["区域", "在办工单", "期间完成", "超期"]
    for d in f.by_district:
        yield [d["district"], d["open"], d["completed"], d["overdue"]]
    yield []
    yield ["安检员", "姓名", "区域", "在办工单", "期间完成"]
    for t in f.load:
        yield [t["username"], t["name"], t["district"], t["open"], t["completed"]]


def _or_blank(value: Any) -> Any:
    return "" if value is None else value


def _loose(first: date, last: date) -> list[str]:
    """Bounds a day wider than ``first``..``last`` for times written with any UTC offset
    (devices write local time, the server UTC): SQL narrows, Python decides exactly."""
    return [(first - timedelta(days=1)).isoformat(), (last + timedelta(days=2)).isoformat()]


def _within(value: str | None, first: date, last: date) -> datetime | None:
    moment = as_local(value)
    if moment is None:
        return None
    day = moment.astimezone(LOCAL_ZONE).date()
    return moment if first <= day <= last else None


def _json(raw: str | None) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


"""Demo work orders: 60 days of history, today's routes and about two weeks ahead.

Past jobs are mostly completed or followed up, so each customer has a believable service
history; jobs due today or later are dispatched, apart from a few pending unassigned ones on
the dispatch board. ``tech01`` always gets a full inspection route today for the walkthrough.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fieldapp.domain.kinds import KIND_SKILL
from fieldapp.domain.status import Status

# How often each skill turns into a job when a technician has it.
SKILL_WEIGHTS = {"inspection": 5.0, "repair": 3.0, "meter_reading": 1.5, "installation": 1.0}

REPAIRS: tuple[tuple[int, str], ...] = (
    (1, "厨房有燃气味，疑似泄漏"), (1, "表前阀处有嘶嘶声，闻到燃气味"),
    (1, "楼道燃气味浓，用户已关闭表前阀"), (2, "家中无气，灶具无法点火"),
    (2, "IC卡表显示E03，无法供气"), (2, "燃气压力不足，火焰很小"), (3, "燃气表不走字"),
    (3, "灶具熄火保护失灵"), (3, "热水器打火困难"), (3, "软管老化，用户要求更换"),
    (3, "表具显示屏不亮"), (4, "报警器误报，要求上门检测"),
)
# (hazard, rectification deadline in days) as in the KB article on hazard levels.
HAZARDS: tuple[tuple[str, int], ...] = (
    ("燃气软管老化", 30), ("未安装熄火保护灶具", 7), ("热水器烟道未伸出室外", 7),
    ("卧室内使用燃气", 1), ("私改燃气管道", 1), ("未安装燃气报警器", 30), ("表具周围堆放杂物", 30),
)
METER_READINGS = ("远传表数据异常，上门核抄", "季度上门抄表", "用量突增核查", "连续零用量核查")
INSTALLATIONS = ("新装燃气热水器接驳", "燃气表移位", "新开户通气点火", "灶具接驳及试火",
                 "可燃气体报警器安装")

WORK_START = 8 * 60 + 30  # minutes after midnight
WORK_END = 17 * 60 + 30
HISTORY_DAYS = 60
DEMO_INSPECTOR = "tech01"
DEMO_INSPECTIONS_TODAY = 8


def iso(t: dt.datetime) -> str:
    """Local wall time as ISO 8601 with the utility's fixed +08:00 offset (China has no DST)."""
    return t.isoformat(timespec="seconds") + "+08:00"


@dataclass
class _Draft:
    day: dt.date
    kind: str
    priority: int
    customer: dict[str, Any]
    summary: str
    assignee: str | None
    status: str
    origin: _Draft | None = None  # the inspection a rectification check follows up
    due: dt.datetime | None = None
    route_order: int | None = None
    created: dt.datetime | None = None


class _JobMaker:
    def __init__(self, rng: random.Random, today: dt.date, customers: list[dict[str, Any]],
                 users: list[dict[str, Any]]) -> None:
        self.rng = rng
        self.today = today
        self.techs = [u for u in users if u["role"] == "technician"]
        self.by_district: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for c in customers:
            self.by_district[c["district"]].append(c)
        self.districts = sorted(self.by_district)
        self.busy: set[tuple[str, dt.date]] = set()
        self.drafts: list[_Draft] = []

    def customer(self, district: str, day: dt.date) -> dict[str, Any]:
        while True:
            c = self.rng.choice(self.by_district[district])
            if (c["id"], day) not in self.busy:
                self.busy.add((c["id"], day))
                return c

    def describe(self, kind: str, cust: dict[str, Any], priority: int | None = None,
                 min_priority: int = 1) -> tuple[int, str]:
        rng = self.rng
        tags = json.loads(cust["tags"])
        if kind == "inspection":
            if cust["kind"] == "commercial":
                summary = "工商业用户安全检查"
            elif "独居老人" in tags:
                summary = "年度入户安检（独居老人，请提前电话预约）"
            elif rng.random() < 0.1:
                summary = "入户安检复访（上次到访不遇）"
            else:
                summary = "年度入户安检"
            return (2 if "高风险" in tags else rng.choice((3, 3, 3, 4))), summary
        if kind == "repair":
            options = [r for r in REPAIRS
                       if (priority is None or r[0] == priority) and r[0] >= min_priority]
            weights = [{1: 1.0, 2: 2.0, 3: 2.5, 4: 1.0}[p] for p, _ in options]
            return rng.choices(options, weights)[0]
        if kind == "meter_reading":
            return 4, rng.choice(METER_READINGS)
        return 3, rng.choice(INSTALLATIONS)

    def add(self, tech: dict[str, Any] | None, day: dt.date, status: str, *,
            kind: str | None = None, priority: int | None = None,
            district: str | None = None) -> _Draft:
        rng = self.rng
        if kind is None:
            skills = tech["skills"] if tech else list(SKILL_WEIGHTS)
            kind = rng.choices(skills, [SKILL_WEIGHTS[s] for s in skills])[0]
        if district is None:
            home = tech["district"] if tech else rng.choice(self.districts)
            district = home if rng.random() < 0.88 else rng.choice(self.districts)
        cust = self.customer(district, day)
        # Emergencies cannot be booked ahead: jobs on later days are appointments.
        prio, summary = self.describe(kind, cust, priority, 1 if day <= self.today else 3)
        d = _Draft(day, kind, prio, cust, summary, tech["username"] if tech else None, status)
        self.drafts.append(d)
        return d

    def past_status(self, days_ago: int) -> str:
        r = self.rng.random()
        if r < 0.04:
            return Status.CANCELLED
        if days_ago <= 3:
            # Follow-up calls lag a few days; a few recent jobs are still open past their due time.
            if r < 0.10:
                return self.rng.choice((Status.DISPATCHED, Status.ACCEPTED, Status.IN_SERVICE))
            return Status.COMPLETED if r < 0.85 else Status.FOLLOWED_UP
        return Status.FOLLOWED_UP if r < 0.82 else Status.COMPLETED

    def rectification(self, insp: _Draft) -> None:
        rng = self.rng
        hazard, days = rng.choice(HAZARDS)
        day = insp.day + dt.timedelta(days=days)
        if (insp.customer["id"], day) in self.busy:
            return
        self.busy.add((insp.customer["id"], day))
        if day < self.today:
            status = self.past_status((self.today - day).days)
        else:
            status = Status.DISPATCHED
        self.drafts.append(_Draft(day, "rectification_check", 2 if days <= 1 else 3,
                                  insp.customer, f"隐患整改复查：{hazard}", insp.assignee,
                                  status, origin=insp))

    def plan(self) -> None:
        rng, today = self.rng, self.today
        for off in range(-HISTORY_DAYS, 0):
            day = today + dt.timedelta(days=off)
            for tech in self.techs:
                if rng.random() >= 0.19:
                    continue
                for _ in range(1 if rng.random() < 0.8 else 2):
                    d = self.add(tech, day, self.past_status(-off))
                    if (d.kind == "inspection" and rng.random() < 0.12
                            and d.status in (Status.COMPLETED, Status.FOLLOWED_UP)):
                        self.rectification(d)
        for tech in self.techs:
            if tech["username"] == DEMO_INSPECTOR:
                home = tech["district"]
                self.add(tech, today, Status.DISPATCHED, kind="repair", priority=1, district=home)
                for _ in range(DEMO_INSPECTIONS_TODAY):
                    self.add(tech, today, Status.DISPATCHED, kind="inspection", district=home)
            else:
                for _ in range(rng.randint(2, 5)):
                    self.add(tech, today, Status.DISPATCHED)
        for off in range(1, 15):
            day = today + dt.timedelta(days=off)
            for tech in self.techs:
                n = rng.choice((0, 0, 1, 1, 2, 3)) if off <= 7 else int(rng.random() < 0.2)
                for _ in range(n):
                    self.add(tech, day, Status.DISPATCHED)
        for _ in range(6):
            self.add(None, today + dt.timedelta(days=rng.randint(0, 3)), Status.PENDING)

    def schedule(self) -> None:
        """Spread each technician's day over working hours; emergencies go first on the route."""
        rng = self.rng
        groups: dict[tuple[str, dt.date], list[_Draft]] = defaultdict(list)
        for d in self.drafts:
            if d.assignee is None:
                minute = rng.randrange(WORK_START, WORK_END, 15)
                d.due = dt.datetime.combine(d.day, dt.time(minute // 60, minute % 60))
            else:
                groups[(d.assignee, d.day)].append(d)
        for (_, day), group in groups.items():
            rng.shuffle(group)
            group.sort(key=lambda d: d.priority != 1)
            width = (WORK_END - WORK_START) // len(group)
            for i, d in enumerate(group):
                minute = WORK_START + i * width + rng.randrange(0, max(1, width * 2 // 5), 5)
                d.due = dt.datetime.combine(day, dt.time(minute // 60, minute % 60))
                d.route_order = i + 1

    def created(self, d: _Draft) -> dt.datetime:
        rng = self.rng
        assert d.due is not None
        if d.origin is not None and d.origin.due is not None:
            at = d.origin.due + dt.timedelta(minutes=rng.randint(40, 120))
        elif d.kind == "repair":
            lead = {1: (15, 60), 2: (60, 240)}.get(d.priority, (240, 2880))
            at = d.due - dt.timedelta(minutes=rng.randint(*lead))
        else:
            days = {"inspection": (2, 21), "meter_reading": (1, 7)}.get(d.kind, (3, 14))
            day = d.day - dt.timedelta(days=rng.randint(*days))
            at = dt.datetime.combine(day, dt.time(rng.randint(9, 16), rng.randrange(60)))
        # Nothing is created after the dispatcher's morning run on the generation day.
        latest = dt.datetime.combine(self.today, dt.time(8, 0))
        if at > latest:
            at = latest - dt.timedelta(minutes=rng.randint(1, 45))
        return at


def make_jobs(rng: random.Random, new_id: Callable[[], str], today: dt.date,
              customers: list[dict[str, Any]],
              users: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Generate job rows (columns of ``TABLES['jobs']``) consuming ``rng`` deterministically."""
    maker = _JobMaker(rng, today, customers, users)
    maker.plan()
    maker.schedule()
    for d in maker.drafts:
        d.created = maker.created(d)
    maker.drafts.sort(key=lambda d: (d.created, d.due))
    per_day: dict[dt.date, int] = defaultdict(int)
    rows = []
    for d in maker.drafts:
        assert d.created is not None and d.due is not None
        per_day[d.created.date()] += 1
        rows.append({
            "id": new_id(),
            "number": f"GD{d.created:%Y%m%d}{per_day[d.created.date()]:04d}",
            "kind": d.kind, "priority": d.priority, "customer_id": d.customer["id"],
            "district": d.customer["district"], "due_at": iso(d.due), "assignee": d.assignee,
            "required_skill": KIND_SKILL[d.kind], "status": str(d.status),
            "route_order": d.route_order, "summary": d.summary, "created_at": iso(d.created),
        })
    return rows


# What happened to each job, as the tablets and the office would have logged it: dispatched
# soon after creation, accepted before the visit, the service, completion, the follow-up call.
STEPS = (Status.DISPATCHED, Status.ACCEPTED, Status.IN_SERVICE, Status.COMPLETED,
         Status.FOLLOWED_UP)


def history_rows(rng: random.Random, new_id: Callable[[], str], jobs: list[dict[str, Any]],
                 now: dt.datetime) -> list[dict[str, Any]]:
    """job_status_history rows for ``jobs`` up to their status, none later than ``now``."""
    rows = []
    for job in jobs:
        status = Status(job["status"])
        if status == Status.PENDING:
            continue
        created = dt.datetime.fromisoformat(job["created_at"])
        due = dt.datetime.fromisoformat(job["due_at"])
        work = 30 + rng.randrange(0, 60, 5) if job["kind"] == "repair" else \
            20 + rng.randrange(0, 40, 5)
        times = {
            Status.DISPATCHED: created + dt.timedelta(minutes=rng.randint(3, 30)),
            Status.ACCEPTED: due - dt.timedelta(minutes=rng.randint(20, 90)),
            Status.IN_SERVICE: due + dt.timedelta(minutes=rng.randint(0, 15)),
        }
        times[Status.COMPLETED] = times[Status.IN_SERVICE] + dt.timedelta(minutes=work)
        times[Status.FOLLOWED_UP] = times[Status.COMPLETED] + dt.timedelta(
            hours=rng.randint(20, 50))
        if status == Status.CANCELLED:
            path = [Status.DISPATCHED, Status.CANCELLED]
            times[Status.CANCELLED] = times[Status.DISPATCHED] + dt.timedelta(hours=2)
        else:
            path = list(STEPS[:STEPS.index(status) + 1])
        before = Status.PENDING
        for step in path:
            at = max(times[step], times[Status.DISPATCHED])
            if at > now:
                break
            office = step in (Status.DISPATCHED, Status.FOLLOWED_UP, Status.CANCELLED)
            rows.append({
                "id": new_id(), "job_id": job["id"], "customer_id": job["customer_id"],
                "from_status": str(before), "to_status": str(step),
                "at": at.isoformat(timespec="seconds"),
                "by_user": "dispatcher" if office else job["assignee"],
                "device_id": "office" if office else f"pad-{job['assignee']}"})
            before = step
    return rows

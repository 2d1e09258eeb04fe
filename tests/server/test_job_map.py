"""The dispatch map: jobs placed by their customers' coordinates, north up, linked to their
pages; technicians where they work now; nothing to draw without coordinates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sync_server.office.job_map import HEIGHT, WIDTH, build
from sync_server.services.positions import Fix

JOBS = [
    {"id": "a", "lat": 32.02, "lon": 118.80, "status": "pending", "priority": 1,
     "district": "秦淮区"},
    {"id": "b", "lat": 32.07, "lon": 118.77, "status": "in_service", "priority": 3,
     "district": "鼓楼区"},
    {"id": "c", "lat": None, "lon": None, "status": "dispatched", "priority": 3},
]


def test_jobs_and_technicians_are_placed_north_up() -> None:
    plan = build(JOBS, [{"display_name": "王建国", "position": (32.07, 118.77)},
                        {"display_name": "李秀英", "position": None}], lambda j: j["id"])
    assert plan is not None
    a, b = plan.jobs
    assert (a.href, a.emergency, a.colour) == ("/office/jobs/a", True, "#b3261e")
    assert b.y < a.y and b.x < a.x  # b is north-west of a
    for dot in plan.jobs:
        assert 0 <= dot.x <= WIDTH and 0 <= dot.y <= HEIGHT
    [tech] = plan.technicians  # placed by their jobs, said to be a guess
    assert tech.text == "王建国（按工单估计）"
    assert (round(tech.x), round(tech.y)) == (round(b.x), round(b.y))
    assert {d.text for d in plan.districts} == {"秦淮区", "鼓楼区"}
    assert plan.scale in ("1 km", "2 km", "5 km", "500 m") and 0 < plan.scale_px <= WIDTH / 4


def test_a_reported_fix_places_a_technician_with_its_age() -> None:
    now = datetime.now(UTC)
    seen = Fix("tech01", 32.02, 118.80, 8.0, now - timedelta(minutes=3), None)
    doubted = Fix("tech02", 32.07, 118.77, 8.0, now - timedelta(seconds=20), "位置跳变 150 公里")
    plan = build(JOBS, [{"display_name": "王建国", "position": (32.07, 118.77), "fix": seen},
                        {"display_name": "李秀英", "position": None, "fix": doubted}],
                 lambda j: j["id"])
    assert plan is not None
    a, b = plan.jobs
    here, far = plan.technicians
    assert here.text == "王建国 · 3 分钟前" and (round(here.x), round(here.y)) == (
        round(a.x), round(a.y))  # at the fix, not at the jobs
    assert far.text == "李秀英 · 刚刚（位置存疑）"


def test_nothing_to_place_no_map() -> None:
    assert build([JOBS[2]], [], str) is None

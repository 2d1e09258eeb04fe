"""Route order on fixed coordinates: emergencies first, appointments kept, then short."""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta

import pytest

from fieldapp.domain.route import Stop, haversine_km, plan_route
from fieldapp.local_time import LOCAL_ZONE
from fieldapp.replica import Replica

START = (32.0, 118.8)
EIGHT = datetime(2026, 11, 24, 8, 0, tzinfo=LOCAL_ZONE)


def _at(hour: int, minute: int = 0) -> datetime:
    return EIGHT.replace(hour=hour, minute=minute)


def _east(km: float) -> tuple[float, float]:
    """A point ``km`` east of START along its parallel (close enough for these distances)."""
    return START[0], START[1] + km / (111.195 * 0.848048)  # cos(32°)


def _stop(name: str, km_east: float, **kw: object) -> Stop:
    lat, lon = _east(km_east)
    return Stop(name, lat, lon, **kw)  # type: ignore[arg-type]


def _length(start: tuple[float, float], stops: list[Stop]) -> float:
    points = [start, *((s.lat, s.lon) for s in stops)]
    return sum(haversine_km(a, b) for a, b in itertools.pairwise(points))  # type: ignore[arg-type]


def test_haversine() -> None:
    assert haversine_km((32.0, 118.8), (33.0, 118.8)) == pytest.approx(111.195, abs=0.001)
    assert haversine_km(START, START) == 0.0
    nanjing, shanghai = (32.0603, 118.7969), (31.2304, 121.4737)
    assert haversine_km(nanjing, shanghai) == pytest.approx(haversine_km(shanghai, nanjing))
    assert 265 < haversine_km(nanjing, shanghai) < 275


def test_stops_on_a_street_are_visited_in_order() -> None:
    stops = [_stop(f"s{km}", km) for km in (3, 1, 5, 2, 4)]
    route = plan_route(stops, start=START, start_time=EIGHT)
    assert route.order == ["s1", "s2", "s3", "s4", "s5"]
    assert route.total_km == pytest.approx(5.0, abs=0.01)
    assert [leg.km for leg in route.legs] == pytest.approx([1, 1, 1, 1, 1], abs=0.01)


def test_an_emergency_comes_first_however_far() -> None:
    stops = [_stop("near", 1), _stop("leak", -8, priority=1), _stop("next", 2)]
    route = plan_route(stops, start=START, start_time=EIGHT)
    assert route.order == ["leak", "near", "next"]
    assert route.total_km == pytest.approx(8 + 9 + 1, abs=0.01)


def test_several_emergencies_are_ordered_among_themselves_first() -> None:
    stops = [_stop("a", 1), _stop("leak-far", -6, priority=1), _stop("leak-near", -2, priority=1)]
    assert plan_route(stops, start=START, start_time=EIGHT).order == \
        ["leak-near", "leak-far", "a"]


def test_improvement_beats_plain_nearest_neighbour() -> None:
    # Nearest first would go A (1 km), C (2 km), then all the way back to B: 7.5 km.
    stops = [_stop("A", 1), _stop("B", -1.5), _stop("C", 3)]
    route = plan_route(stops, start=START, start_time=EIGHT)
    assert route.order == ["B", "A", "C"]
    assert route.total_km == pytest.approx(6.0, abs=0.01)


@pytest.mark.parametrize("seed", range(6))
def test_small_days_come_close_to_the_best_order(seed: int) -> None:
    rnd = random.Random(seed)
    stops = [Stop(f"s{i}", 32 + rnd.random() * 0.08, 118.7 + rnd.random() * 0.1)
             for i in range(7)]
    route = plan_route(stops, start=START, start_time=EIGHT)
    by_id = {s.id: s for s in stops}
    best = min(_length(START, list(p)) for p in itertools.permutations(stops))
    assert route.total_km == pytest.approx(_length(START, [by_id[i] for i in route.order]),
                                           abs=0.01)
    assert route.total_km <= best * 1.06  # a heuristic: within a few percent of optimal


def test_an_early_appointment_is_kept_even_if_it_is_further() -> None:
    # 20 km/h: going to "near" first (30 min on site) would reach "appointment" after 09:00.
    stops = [_stop("near", -2), _stop("appointment", 6, due_at=_at(8, 30))]
    route = plan_route(stops, start=START, start_time=EIGHT)
    assert route.order == ["appointment", "near"]
    assert route.late_min == 0
    assert route.legs[0].arrive_at == _at(8, 18)


def test_nobody_waits_hours_at_a_door_for_an_afternoon_appointment() -> None:
    stops = [_stop("afternoon", 0.5, due_at=_at(14)), _stop("b", 3), _stop("c", 4)]
    route = plan_route(stops, start=START, start_time=EIGHT)
    assert route.order[-1] == "afternoon"
    leg = route.legs[-1]
    assert leg.late_min == 0 and leg.arrive_at >= _at(13)  # its window opens an hour before


def test_appointments_that_cannot_all_be_kept_minimise_lateness() -> None:
    stops = [_stop("x", 5, due_at=_at(8, 15)), _stop("y", -5, due_at=_at(8, 15))]
    route = plan_route(stops, start=START, start_time=EIGHT)
    # 15 min to either, 30 min on site, 30 min across: the second is late whichever it is.
    assert route.late_min == pytest.approx(30.0, abs=0.1)
    assert sum(leg.late_min > 0 for leg in route.legs) == 1


def test_yesterdays_appointment_does_not_bend_todays_route() -> None:
    stops = [_stop("s1", 1), _stop("overdue", 3, due_at=_at(9) - timedelta(days=1)),
             _stop("s2", 2)]
    route = plan_route(stops, start=START, start_time=EIGHT)
    assert route.order == ["s1", "s2", "overdue"] and route.late_min == 0


def test_without_a_fix_the_route_starts_at_the_most_pressing_stop() -> None:
    stops = [_stop("a", 1), _stop("b", 2, due_at=_at(9)), _stop("c", 3)]
    route = plan_route(stops, start=None, start_time=EIGHT)
    assert route.order[0] == "b" and route.legs[0].km == 0.0


def test_stops_without_coordinates_go_last_in_their_order() -> None:
    stops = [Stop("nowhere-1", None, None), _stop("a", 1), Stop("nowhere-2", None, 118.8)]
    route = plan_route(stops, start=START, start_time=EIGHT)
    assert route.order == ["a", "nowhere-1", "nowhere-2"]
    assert route.unplaced == ["nowhere-1", "nowhere-2"] and len(route.legs) == 1
    assert plan_route([Stop("x", None, None)], start=START, start_time=EIGHT).order == ["x"]


def test_the_same_day_always_gives_the_same_route() -> None:
    rnd = random.Random(11)
    stops = [Stop(f"s{i}", 32 + rnd.random() * 0.2, 118.6 + rnd.random() * 0.3,
                  priority=rnd.choice([1, 3, 3, 3]),
                  due_at=rnd.choice([None, _at(9), _at(11), _at(15)])) for i in range(40)]
    first = plan_route(stops, start=START, start_time=EIGHT)
    assert plan_route(list(stops), start=START, start_time=EIGHT) == first
    assert sorted(first.order) == sorted(s.id for s in stops)
    emergencies = {s.id for s in stops if s.priority == 1}
    assert set(first.order[:len(emergencies)]) == emergencies


def test_todays_open_jobs_from_the_replica(fresh_replica: Replica) -> None:
    today = datetime.now(LOCAL_ZONE).replace(hour=8, minute=0, second=0, microsecond=0)
    # tech01 has job-1 (cust-1, 09:00) and job-2 (cust-2, 11:00). Standing next to cust-2,
    # job-2 is nearer, but its window opens at 10:00 and job-1's closes at 09:30.
    route = fresh_replica.jobs.route((32.02, 118.7905), now=today)
    assert route.order == ["job-1", "job-2"] and route.late_min == 0
    assert route.legs[1].arrive_at == today.replace(hour=10) and route.legs[1].wait_min > 60
    fresh_replica.db.execute("UPDATE jobs SET status = 'completed' WHERE id = 'job-2'")
    assert fresh_replica.jobs.route((32.02, 118.7905), now=today).order == ["job-1"]

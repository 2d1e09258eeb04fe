"""Route planning for 10, 50 and 200 stops in a Nanjing-sized area, timed.

Run by hand: ``PYTHONPATH=. .venv/bin/python bench/bench_route.py``.
Prints the planning time (median of several runs), the route length and how it compares with
plain nearest-neighbour (the baseline the 2-opt and single-stop moves improve on), for days
without appointments, with appointments on a third of the stops, and with a few emergencies.
A real day is 10–20 stops: at 30 minutes on site plus driving, 50 or 200 stops cannot fit in
one day, so their appointments are late whatever the order and the search spends its budget
of schedule checks trying (see ``RouteSettings.max_checks``).
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import datetime, timedelta

from fieldapp.domain.route import Stop, haversine_km, plan_route
from fieldapp.local_time import LOCAL_ZONE

START = (32.0415, 118.7781)
EIGHT = datetime(2026, 11, 24, 8, 0, tzinfo=LOCAL_ZONE)


def stops(n: int, *, appointments: float, emergencies: int, seed: int = 20261124) -> list[Stop]:
    # Separate generators: the same places whichever appointments are drawn.
    where, when = random.Random(seed), random.Random(seed + 1)
    out = []
    for i in range(n):
        lat, lon = 31.95 + where.random() * 0.18, 118.68 + where.random() * 0.22
        due = None
        if when.random() < appointments:
            due = EIGHT + timedelta(hours=when.choice([1, 2, 3, 5, 6, 7, 8]))
        out.append(Stop(f"s{i}", lat, lon, priority=1 if i < emergencies else 3, due_at=due))
    return out


def nearest_neighbour_km(day: list[Stop]) -> float:
    here, left, total = START, list(day), 0.0
    while left:
        nxt = min(left, key=lambda s: haversine_km(here, (s.lat, s.lon)))  # type: ignore[arg-type]
        total += haversine_km(here, (nxt.lat, nxt.lon))  # type: ignore[arg-type]
        here = (nxt.lat, nxt.lon)  # type: ignore[assignment]
        left.remove(nxt)
    return total


def main() -> None:
    print(f"{'stops':>5} {'kind':<22} {'median s':>9} {'km':>8} {'NN km':>8} {'ratio':>6}"
          f" {'late min':>9}")
    for n in (10, 50, 200):
        for kind, kw in (("no appointments", {"appointments": 0.0, "emergencies": 0}),
                         ("1/3 with appointment", {"appointments": 1 / 3, "emergencies": 0}),
                         ("3 emergencies + appts", {"appointments": 1 / 3, "emergencies": 3})):
            day = stops(n, **kw)
            runs = 5 if n < 200 else 3
            times, route = [], None
            for _ in range(runs):
                began = time.perf_counter()
                route = plan_route(day, start=START, start_time=EIGHT)
                times.append(time.perf_counter() - began)
            assert route is not None
            nn = nearest_neighbour_km(day)
            print(f"{n:>5} {kind:<22} {statistics.median(times):>9.4f} {route.total_km:>8.1f}"
                  f" {nn:>8.1f} {route.total_km / nn:>6.3f} {route.late_min:>9.1f}")


if __name__ == "__main__":
    main()

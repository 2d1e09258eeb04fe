"""The order to visit today's jobs in: emergencies first, appointments kept, then short.

    route = plan_route(stops, start=(32.04, 118.78), start_time=now)
    route.order, route.total_km, route.legs[0].arrive_at

Emergencies (priority 1) come first whatever the distance: a leak does not wait for a tidy
route. The rest are ordered to minimise, in this order, the minutes late against appointment
windows and then the effort (distance, plus time spent waiting for a window to open counted
as distance not driven): nearest-neighbour and earliest-appointment-first starts, each
improved by 2-opt and single-stop moves, the better one kept. Distances are great-circle
(haversine) kilometres; streets are longer, so figures are for comparing orders, not for
promising arrival times. Pure functions: no database, no clock unless given one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from fieldapp.domain.kinds import EMERGENCY

EARTH_RADIUS_KM = 6371.0088
_EPS = 1e-9
_MAX_PASSES = 50

LatLon = tuple[float, float]


@dataclass(frozen=True)
class Stop:
    id: str
    lat: float | None
    lon: float | None
    priority: int = 3
    due_at: datetime | None = None  # the appointment, timezone-aware; None: any time


@dataclass(frozen=True)
class RouteSettings:
    speed_kmh: float = 20.0  # city traffic and parking, as the crow flies
    service_min: float = 30.0  # time spent at each stop
    # An appointment at 10:00 is kept by arriving 09:00–10:30; earlier means waiting at the door.
    early_min: float = 60.0
    late_min: float = 30.0
    # Each schedule check costs a pass over the stops; on an overbooked day every move could
    # cut lateness, so the search stops after this many. A count, not a time limit: the same
    # stops always give the same route.
    max_checks: int = 20_000


@dataclass(frozen=True)
class Leg:
    stop_id: str
    km: float  # from the previous stop (or the start)
    arrive_at: datetime
    wait_min: float  # at the door before the window opens
    late_min: float  # after the window closed


@dataclass(frozen=True)
class Route:
    order: list[str]  # every stop id once: emergencies, the rest, then those without position
    legs: list[Leg]  # one per placed stop, in order
    total_km: float
    late_min: float
    unplaced: list[str]  # stops without coordinates, kept in their given order at the end


# km from each of the points to each other: ``d[i][j]``
Distances = Callable[[Sequence[LatLon]], list[list[float]]]


def haversine_km(a: LatLon, b: LatLon) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def plan_route(stops: Sequence[Stop], *, start: LatLon | None, start_time: datetime,
               settings: RouteSettings | None = None, distance: Distances | None = None
               ) -> Route:
    """Order ``stops`` from ``start`` (None: no fix, begin at the most pressing stop);
    ``distance`` measures them (along the roads: ``fieldapp.network.roads``), else as the
    crow flies."""
    settings = settings or RouteSettings()
    placed = [s for s in stops if s.lat is not None and s.lon is not None]
    unplaced = [s.id for s in stops if s.lat is None or s.lon is None]
    if not placed:
        return Route(unplaced, [], 0.0, 0.0, unplaced)
    emergencies = [s for s in placed if s.priority == EMERGENCY]
    others = [s for s in placed if s.priority != EMERGENCY]
    if start is None:
        first = min(emergencies or others, key=lambda s: (_due_key(s), s.id))
        start = _position(first)

    # Emergencies: as soon as possible, so shortest among themselves, no windows.
    # Along the roads, the order planned as the crow flies is a starting order too: the
    # search keeps it unless it finds better, so the roads' route is never the longer.
    head = _Planner(emergencies, start, start_time, settings, windows=False,
                    distance=distance).best(_crow(emergencies, start, start_time, settings,
                                                  False, distance))
    after = head.end_point(start)
    head_legs = head.legs()
    after_time = head_legs[-1][1] + timedelta(minutes=settings.service_min) if head_legs \
        else start_time
    tail = _Planner(others, after, after_time, settings, windows=True,
                    distance=distance).best(_crow(others, after, after_time, settings, True,
                                                  distance))

    legs = [*_legs(head), *_legs(tail)]
    return Route(order=[leg.stop_id for leg in legs] + unplaced, legs=legs,
                 total_km=round(sum(leg.km for leg in legs), 3),
                 late_min=round(sum(leg.late_min for leg in legs), 1), unplaced=unplaced)


def _crow(stops: list[Stop], start: LatLon, start_time: datetime, settings: RouteSettings,
          windows: bool, distance: Distances | None) -> list[list[int]]:
    """The order planned as the crow flies, when ``distance`` measures otherwise."""
    if distance is None:
        return []
    return [_Planner(stops, start, start_time, settings, windows=windows).best().path]


def _position(stop: Stop) -> LatLon:
    """A placed stop's coordinates: only stops with both are planned."""
    if stop.lat is None or stop.lon is None:
        raise ValueError(f"stop {stop.id} has no position")
    return stop.lat, stop.lon


def _due_key(stop: Stop) -> float:
    return stop.due_at.timestamp() if stop.due_at else math.inf


def _legs(planner: _Planner) -> list[Leg]:
    out = []
    for index, (km, arrive, wait, late) in zip(planner.path, planner.legs(), strict=True):
        out.append(Leg(planner.stops[index].id, round(km, 3), arrive, round(wait, 1),
                       round(late, 1)))
    return out


class _Planner:
    """One block of stops after a fixed start point; ``path`` holds indices into ``stops``."""

    def __init__(self, stops: list[Stop], start: LatLon, start_time: datetime,
                 settings: RouteSettings, *, windows: bool,
                 distance: Distances | None = None) -> None:
        self.stops = stops
        self.start_time = start_time
        self.settings = settings
        points = [start, *(_position(s) for s in stops)]
        # Node 0 is the start; stop i is node i + 1.
        self.dist = distance(points) if distance else [
            [haversine_km(a, b) for b in points] for a in points]
        day = start_time.date()
        self.windows: list[tuple[float, float] | None] = []
        for s in stops:
            # Appointments on another day (overdue jobs carried over) cannot be kept by any
            # order today; treating them as windowless keeps them from dragging the route about.
            if windows and s.due_at is not None and s.due_at.astimezone(
                    start_time.tzinfo).date() == day:
                due = (s.due_at - start_time).total_seconds() / 60
                self.windows.append((due - settings.early_min, due + settings.late_min))
            else:
                self.windows.append(None)
        self.has_windows = any(w is not None for w in self.windows)
        self.path: list[int] = []
        self.checks_left = 0

    # -- costs ----------------------------------------------------------------------------
    def _d(self, a: int | None, b: int | None) -> float:
        """Distance between stop indices; None is the start (as ``a``) or the open end."""
        if b is None:
            return 0.0
        return self.dist[0 if a is None else a + 1][b + 1]

    def km(self, path: list[int]) -> float:
        return sum(self._d(a, b) for a, b in zip([None, *path], path, strict=False))

    def _schedule(self, path: list[int]) -> list[tuple[float, float, float, float]]:
        """Per stop: km, arrival minute, minutes waited, minutes late."""
        out, clock, prev = [], 0.0, None
        per_km = 60.0 / self.settings.speed_kmh
        for index in path:
            km = self._d(prev, index)
            clock += km * per_km
            wait = late = 0.0
            window = self.windows[index]
            if window is not None:
                if clock < window[0]:
                    wait, clock = window[0] - clock, window[0]
                late = max(0.0, clock - window[1])
            out.append((km, clock, wait, late))
            clock += self.settings.service_min
            prev = index
        return out

    def cost(self, path: list[int]) -> tuple[float, float, float]:
        """(minutes late, effort, minutes waiting); orders compare on the first two.

        Effort is km plus waiting turned into the km that could have been driven meanwhile:
        otherwise the shortest route could park a technician at a 14:00 door from 8:00.
        """
        if not self.has_windows:
            return 0.0, self.km(path), 0.0
        late = wait = km = 0.0
        for leg_km, _, leg_wait, leg_late in self._schedule(path):
            km, wait, late = km + leg_km, wait + leg_wait, late + leg_late
        return round(late, 6), km + wait * self.settings.speed_kmh / 60, wait

    def legs(self) -> list[tuple[float, datetime, float, float]]:
        return [(km, self.start_time + timedelta(seconds=round(minute * 60)), wait, late)
                for km, minute, wait, late in self._schedule(self.path)]

    def end_point(self, start: LatLon) -> LatLon:
        if not self.path:
            return start
        last = self.stops[self.path[-1]]
        return _position(last)

    # -- search ---------------------------------------------------------------------------
    def best(self, also: Sequence[list[int]] = ()) -> _Planner:
        """The best order found from a few starting orders (and ``also``'s)."""
        if not self.stops:
            return self
        seeds = [self._nearest_neighbour(), *also]
        if self.has_windows:
            seeds.append(sorted(range(len(self.stops)),
                                key=lambda i: (_due_key(self.stops[i]), i)))
        improved = [self._improve(seed) for seed in seeds]
        self.path = min(improved, key=lambda path: self.cost(path)[:2])
        return self

    def _nearest_neighbour(self) -> list[int]:
        left, path, here = set(range(len(self.stops))), [], None
        while left:
            here = min(left, key=lambda i: (self._d(here, i), i))
            path.append(here)
            left.remove(here)
        return path

    def _improve(self, path: list[int]) -> list[int]:
        """2-opt reversals and single-stop moves until neither finds anything better."""
        path = list(path)
        state = self.cost(path)
        self.checks_left = self.settings.max_checks  # each start gets the same chance
        for _ in range(_MAX_PASSES):
            before = state
            for i in range(len(path) - 1):
                for j in range(i + 1, len(path)):
                    delta = self._reverse_delta(path, i, j)
                    if self._worth(delta, state):
                        candidate = path[:i] + path[i:j + 1][::-1] + path[j + 1:]
                        better = self._better(candidate, delta, state)
                        if better is not None:
                            path, state = candidate, better
            for i in range(len(path)):
                for k in range(len(path)):
                    if k == i:
                        continue
                    delta = self._move_delta(path, i, k)
                    if self._worth(delta, state):
                        rest = path[:i] + path[i + 1:]
                        candidate = rest[:k] + [path[i]] + rest[k:]
                        better = self._better(candidate, delta, state)
                        if better is not None:
                            path, state = candidate, better
            if state[:2] >= (before[0] - _EPS, before[1] - _EPS):
                break
        return path

    def _worth(self, delta: float, state: tuple[float, float, float]) -> bool:
        # On time with nobody waiting, only a shorter route can be better; otherwise any move
        # might help, as long as there are checks left.
        late, _, wait = state
        return delta < -_EPS or ((late > _EPS or wait > _EPS) and self.checks_left > 0)

    def _better(self, candidate: list[int], delta: float,
                state: tuple[float, float, float]) -> tuple[float, float, float] | None:
        """The candidate's cost if it beats ``state``, else None."""
        late, effort, _ = state
        if not self.has_windows:
            return (0.0, effort + delta, 0.0) if delta < -_EPS else None
        if self.checks_left <= 0:
            return None
        self.checks_left -= 1
        new = self.cost(candidate)
        if new[0] < late - _EPS or (new[0] <= late + _EPS and new[1] < effort - _EPS):
            return new
        return None

    def _node(self, path: list[int], k: int) -> int | None:
        """Stop index at position ``k``; None before the first (the start) and after the last."""
        return path[k] if 0 <= k < len(path) else None

    def _reverse_delta(self, path: list[int], i: int, j: int) -> float:
        d, node = self._d, self._node
        before, first, last, after = node(path, i - 1), path[i], path[j], node(path, j + 1)
        return d(before, last) + d(first, after) - d(before, first) - d(last, after)

    def _move_delta(self, path: list[int], i: int, k: int) -> float:
        """Change in km when the stop at ``i`` is taken out and put back at ``k`` of the rest."""
        d, node = self._d, self._node
        prev, stop, nxt = node(path, i - 1), path[i], node(path, i + 1)
        removed = d(prev, nxt) - d(prev, stop) - d(stop, nxt)
        # Positions in the path without stop i.
        left = node(path, k - 1 if k <= i else k)
        right = node(path, k if k < i else k + 1)
        return removed + d(left, stop) + d(stop, right) - d(left, right)

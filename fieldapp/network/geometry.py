"""Metres on a city's scale: WGS-84 degrees put on a local plane around the network.

An equirectangular plane through the network's middle: across a district's 20 km it is off
by well under 0.1 %, far less than the GIS's own drawing error, and it makes snapping and
distances plain arithmetic.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from fieldapp.domain.route import EARTH_RADIUS_KM

XY = tuple[float, float]
_M_PER_DEG = EARTH_RADIUS_KM * 1000 * math.pi / 180


@dataclass(frozen=True)
class Plane:
    lat0: float
    lon0: float

    @classmethod
    def around(cls, points: Iterable[tuple[float, float]]) -> Plane:
        """The plane through the middle of ``points`` (lon, lat as GeoJSON has them)."""
        listed = list(points) or [(0.0, 0.0)]
        lons, lats = [p[0] for p in listed], [p[1] for p in listed]
        return cls((min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2)

    def xy(self, lon: float, lat: float) -> XY:
        return ((lon - self.lon0) * _M_PER_DEG * math.cos(math.radians(self.lat0)),
                (lat - self.lat0) * _M_PER_DEG)

    def lonlat(self, p: XY) -> tuple[float, float]:
        return (self.lon0 + p[0] / (_M_PER_DEG * math.cos(math.radians(self.lat0))),
                self.lat0 + p[1] / _M_PER_DEG)


def dist(a: XY, b: XY) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def length(line: list[XY]) -> float:
    return sum(dist(a, b) for a, b in zip(line, line[1:], strict=False))


def onto(p: XY, a: XY, b: XY) -> tuple[float, XY, float]:
    """The point of segment a–b nearest to ``p``: its distance from ``p``, the point, and
    how far along the segment it is (0 at a, 1 at b)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    span = dx * dx + dy * dy
    t = 0.0 if span == 0 else max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy)
                                           / span))
    q = (a[0] + t * dx, a[1] + t * dy)
    return dist(p, q), q, t


@dataclass
class Grid:
    """Items by the square cells their boxes cover: what is near a point, without looking
    at every pipe of the city."""
    cell: float
    cells: dict[tuple[int, int], list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(self, item: int, a: XY, b: XY) -> None:
        cells, size = self.cells, self.cell
        i0, i1 = sorted((int(a[0] // size), int(b[0] // size)))
        j0, j1 = sorted((int(a[1] // size), int(b[1] // size)))
        for i in range(i0, i1 + 1):
            for j in range(j0, j1 + 1):
                cells[i, j].append(item)

    def near(self, p: XY, radius: float) -> set[int]:
        cells, size = self.cells, self.cell
        found: set[int] = set()
        for i in range(int((p[0] - radius) // size), int((p[0] + radius) // size) + 1):
            for j in range(int((p[1] - radius) // size), int((p[1] + radius) // size) + 1):
                hit = cells.get((i, j))
                if hit:
                    found.update(hit)
        return found

"""Road distance: the district's street centrelines (the ``roads`` layer of the network
import, from the utility's GIS) as a graph, joined as the pipes are (``build``), and the
distances along it between the stops of a route or from a technician to a job.

A raster basemap carries no road graph, so the roads come with the district's other GIS
layers. A point more than ``SNAP_M`` from any road, or on a part of the roads not joined to
the other point's, is measured as the crow flies: a route is never refused for a gap.

    roads = Roads.of(features)
    km = roads.matrix_km([(lat, lon), ...])  # km[i][j] along the roads, i to j
"""

from __future__ import annotations

import heapq
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fieldapp.network.build import Network, build
from fieldapp.network.geometry import Grid, dist, length
from fieldapp.network.model import PIPES, ROADS, Feature

SNAP_M = 300.0  # a house this far from every road centreline is not reached by one
LatLon = tuple[float, float]


@dataclass(frozen=True)
class _Snap:
    off_m: float  # from the point to the road
    edge: int
    along_m: float  # from the edge's end a to the snapped point


class Roads:
    def __init__(self, net: Network) -> None:
        self.net = net
        self.grid: Grid = net.index()

    @classmethod
    def of(cls, features: list[Feature]) -> Roads:
        """The roads of ``features`` (lines, as ``geojson.read`` gives them)."""
        return cls(build({PIPES: features}))  # joined as pipes are: ends and tees

    @property
    def empty(self) -> bool:
        return not self.net.edges

    def matrix_km(self, points: Sequence[LatLon]) -> list[list[float]]:
        """Distances in km from each point to each other, along the roads where both are
        near a joined road, else as the crow flies."""
        snaps = [self._snap(p) for p in points]
        return [self._row(i, points, snaps) for i in range(len(points))]

    def from_km(self, origin: LatLon, points: Sequence[LatLon]) -> list[float]:
        """Distances in km from ``origin`` to each of ``points`` (one walk of the roads)."""
        everything = [origin, *points]
        return self._row(0, everything, [self._snap(p) for p in everything])[1:]

    def _row(self, i: int, points: Sequence[LatLon],
             snaps: Sequence[_Snap | None]) -> list[float]:
        from fieldapp.domain.route import haversine_km

        here = snaps[i]
        reach = self._reach(here) if here is not None else None
        row = []
        for j, b in enumerate(points):
            crow = haversine_km(points[i], b)
            there = snaps[j]
            metres = self._between(here, there, reach) if i != j else 0.0
            if metres is None or not math.isfinite(metres):
                row.append(crow)  # off the roads, or on roads not joined
            elif here and there and crow * 1000 <= here.off_m + there.off_m:
                row.append(crow)  # next door: across, not out to the road and back
            else:
                row.append(metres / 1000)
        return row

    def _snap(self, point: LatLon) -> _Snap | None:
        if self.empty:
            return None
        p = self.net.plane.xy(point[1], point[0])
        found = self.net.nearest(self.grid, p, SNAP_M)
        if found is None:
            return None
        off, e, i, _q, t = found
        line = self.net.edges[e].line
        along = length(line[:i + 1]) + t * dist(line[i], line[i + 1])
        return _Snap(off, e, along)

    def _reach(self, start: _Snap) -> dict[int, float]:
        """Metres from ``start`` to every node it reaches (Dijkstra)."""
        edge = self.net.edges[start.edge]
        best: dict[int, float] = {}
        queue = [(start.along_m, edge.a), (edge.length_m - start.along_m, edge.b)]
        heapq.heapify(queue)
        while queue:
            metres, node = heapq.heappop(queue)
            if node in best:
                continue
            best[node] = metres
            for e in self.net.adjacent.get(node, ()):
                nxt = self.net.other(self.net.edges[e], node)
                if nxt not in best:
                    heapq.heappush(queue, (metres + self.net.edges[e].length_m, nxt))
        return best

    def _between(self, a: _Snap | None, b: _Snap | None,
                 reach: dict[int, float] | None) -> float | None:
        if a is None or b is None or reach is None:
            return None
        edge = self.net.edges[b.edge]
        along = min(reach.get(edge.a, math.inf) + b.along_m,
                    reach.get(edge.b, math.inf) + edge.length_m - b.along_m)
        if a.edge == b.edge:
            along = min(along, abs(a.along_m - b.along_m))
        return a.off_m + along + b.off_m

    def along_km(self, points: Sequence[LatLon]) -> float:
        """The length of a path through ``points`` in that order, along the roads."""
        if len(points) < 2:
            return 0.0
        km = self.matrix_km(points)
        return sum(km[i][i + 1] for i in range(len(points) - 1))


_built: OrderedDict[str, Roads | None] = OrderedDict()  # bundle sha → its roads (or none)
_building = threading.Lock()
KEPT = 8  # districts' roads kept built (a server dispatches for several)


def of_bundle(sha: str, data: bytes | Callable[[], bytes]) -> Roads | None:
    """The roads of a network bundle (``bundle.pack``; or what reads it, called only the
    first time), built once per bundle."""
    from fieldapp.network.bundle import layer_features

    with _building:
        if sha in _built:
            _built.move_to_end(sha)
            return _built[sha]
        features = layer_features(data if isinstance(data, bytes) else data(), ROADS)
        found = _built[sha] = Roads.of(features) if features else None
        while len(_built) > KEPT:
            _built.popitem(last=False)
        return found

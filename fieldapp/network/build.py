"""The network's graph from its layers: pipe ends that meet are one node, a line that ends
on another pipe joins it there (a service line's tee on a main, drawn without a vertex), and
a valve or a source on a pipe sits on a node of its own, the pipe cut in two there.

What is flagged, not refused (the rest of the network is still of use at a leak): a pipe end
that stops short of another pipe by a few metres (a drawing error, most likely), a valve off
every pipe (left out of the isolation), a part of the network no source feeds.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from fieldapp.network.geometry import XY, Grid, Plane, dist, length, onto
from fieldapp.network.model import (
    PIPES,
    SERVICE_LINES,
    SOURCES,
    VALVES,
    Feature,
    Problem,
)

SNAP_M = 0.5  # ends or devices this close are one node (GIS exports round to centimetres)
ON_PIPE_M = 1.0  # a valve this far off a pipe's line is on it (drawn by hand on a basemap)
GAP_M = 3.0  # an end this close to a pipe it does not join is flagged
CELL_M = 50.0  # the spatial index's cells
CLOSED_WORDS = {"closed", "close", "shut", "nc", "normally closed", "关", "关闭", "常闭"}
STATUS_KEYS = ("normal_status", "status", "state", "状态", "常态")


@dataclass
class Edge:
    id: str  # the pipe's id; both pieces of a pipe cut at a valve keep it
    kind: str  # PIPES or SERVICE_LINES
    a: int
    b: int
    line: list[XY]
    length_m: float
    properties: dict[str, Any]


@dataclass(frozen=True)
class Device:
    id: str
    kind: str  # VALVES or SOURCES
    node: int
    closed: bool  # a valve shut in normal operation: gas does not pass it now
    lonlat: tuple[float, float]
    properties: dict[str, Any]


@dataclass
class Network:
    plane: Plane
    nodes: list[XY]
    edges: list[Edge]
    devices: list[Device]
    problems: list[Problem] = field(default_factory=list)
    adjacent: dict[int, list[int]] = field(default_factory=dict)  # node → its edges
    _index: Grid | None = field(default=None, repr=False)

    def index(self) -> Grid:
        """``segments()`` of the built network, made once (a leak's trace asks each time)."""
        if self._index is None:
            self._index = self.segments()
        return self._index

    def other(self, edge: Edge, node: int) -> int:
        return edge.b if edge.a == node else edge.a

    def walk(self, starts: set[int], shut: frozenset[int] | set[int] = frozenset()) -> set[int]:
        """Every node reached from ``starts`` along the pipes, through no node of ``shut``
        (a shut node is reached, not passed)."""
        seen, queue = set(starts), deque(n for n in starts if n not in shut)
        while queue:
            node = queue.popleft()
            for e in self.adjacent.get(node, ()):
                nxt = self.other(self.edges[e], node)
                if nxt not in seen:
                    seen.add(nxt)
                    if nxt not in shut:
                        queue.append(nxt)
        return seen

    def segments(self) -> Grid:
        """Every segment of every edge, indexed as edge * 2**20 + segment."""
        grid = Grid(CELL_M)
        for e, edge in enumerate(self.edges):
            for i, (a, b) in enumerate(zip(edge.line, edge.line[1:], strict=False)):
                grid.add(e << 20 | i, a, b)
        return grid

    def nearest(self, grid: Grid, p: XY, radius: float,
                skip: set[int] | None = None) -> tuple[float, int, int, XY, float] | None:
        """The nearest segment to ``p`` within ``radius``: distance, edge, segment, the
        point on it and how far along the segment."""
        best = None
        for key in grid.near(p, radius):
            e, i = key >> 20, key & 0xFFFFF
            if skip and e in skip:
                continue
            line = self.edges[e].line
            d, q, t = onto(p, line[i], line[i + 1])
            if d <= radius and (best is None or d < best[0]):
                best = (d, e, i, q, t)
        return best


class _Joints:
    """Nodes by place: a point within ``SNAP_M`` of a node is that node."""

    def __init__(self, nodes: list[XY]) -> None:
        self.nodes, self.grid = nodes, Grid(SNAP_M * 4)

    def find(self, p: XY) -> int | None:
        near = [(dist(p, self.nodes[n]), n) for n in self.grid.near(p, SNAP_M)]
        hits = [hit for hit in near if hit[0] <= SNAP_M]
        return min(hits)[1] if hits else None

    def at(self, p: XY) -> int:
        found = self.find(p)
        if found is not None:
            return found
        self.nodes.append(p)
        self.grid.add(len(self.nodes) - 1, p, p)
        return len(self.nodes) - 1


def build(layers: dict[str, list[Feature]]) -> Network:
    """The network of the layers' features (``geojson.read``), with what was flagged."""
    everything = [p for features in layers.values() for f in features for line in f.lines
                  for p in line]
    net = Network(Plane.around(everything), [], [], [])
    joints = _Joints(net.nodes)
    for kind in (PIPES, SERVICE_LINES):
        for feature in layers.get(kind, []):
            _add_lines(net, joints, feature)
    _index(net)
    grid = net.segments()
    cuts: dict[int, list[tuple[int, float, XY, int]]] = {}
    for node, edges in list(net.adjacent.items()):  # ends on another pipe's middle: a tee
        hit = net.nearest(grid, net.nodes[node], SNAP_M, skip=set(edges))
        if hit and node not in (net.edges[hit[1]].a, net.edges[hit[1]].b):
            cuts.setdefault(hit[1], []).append((hit[2], hit[4], hit[3], node))
    for kind in (VALVES, SOURCES):
        for feature in layers.get(kind, []):
            _add_device(net, joints, grid, feature, cuts)
    for e, at in cuts.items():
        _cut(net, e, sorted(at))
    _index(net)
    _flag_gaps(net)
    _flag_unfed(net)
    return net


def _add_lines(net: Network, joints: _Joints, feature: Feature) -> None:
    added = 0
    for part in feature.lines:
        line: list[XY] = []
        for lonlat in part:
            p = net.plane.xy(*lonlat)
            if not line or dist(line[-1], p) > 1e-3:
                line.append(p)
        if len(line) < 2 or length(line) < SNAP_M:
            continue
        net.edges.append(Edge(feature.id, feature.layer, joints.at(line[0]),
                              joints.at(line[-1]), line, length(line), feature.properties))
        added += 1
    if not added:
        net.problems.append(Problem("too_short", feature.layer, feature.id))


def _index(net: Network) -> None:
    net.adjacent = {}
    for e, edge in enumerate(net.edges):
        net.adjacent.setdefault(edge.a, []).append(e)
        if edge.b != edge.a:
            net.adjacent.setdefault(edge.b, []).append(e)


def _add_device(net: Network, joints: _Joints, grid: Grid, feature: Feature,
                cuts: dict[int, list[tuple[int, float, XY, int]]]) -> None:
    lonlat = feature.lines[0][0]
    p = net.plane.xy(*lonlat)
    node = joints.find(p)
    if node is None:
        hit = net.nearest(grid, p, ON_PIPE_M)
        if hit is None:
            near = net.nearest(grid, p, 200.0)
            net.problems.append(Problem("off_pipe", feature.layer, feature.id, params={
                "pipe": net.edges[near[1]].id if near else "（200 米内无）",
                "gap_m": f"{near[0]:.1f}" if near else "200+"}))
            return
        _, e, i, q, t = hit
        node = joints.at(q)
        cuts.setdefault(e, []).append((i, t, q, node))
    net.devices.append(Device(feature.id, feature.layer, node,
                              normally_closed(feature.properties), lonlat, feature.properties))


def normally_closed(properties: dict[str, Any]) -> bool:
    """Whether a valve's GIS attributes say it is shut in normal operation."""
    status = next((str(properties[k]).strip().lower() for k in STATUS_KEYS
                   if k in properties), "")
    return status in CLOSED_WORDS


def _cut(net: Network, e: int, at: list[tuple[int, float, XY, int]]) -> None:
    """Cut edge ``e`` at the given (segment, place along it, point, node)s, in order."""
    edge = net.edges[e]
    pieces: list[tuple[list[XY], int]] = []  # each piece's line and the node it ends at
    current, start = [edge.line[0]], edge.a
    for i in range(len(edge.line) - 1):
        for seg, _, q, node in at:
            if seg == i:
                current.append(q)
                pieces.append((current, node))
                current = [q]
        current.append(edge.line[i + 1])
    pieces.append((current, edge.b))
    first = True
    for line, end in pieces:
        if end == start:  # two cuts at one node: nothing between them
            continue
        piece = Edge(edge.id, edge.kind, start, end, line, length(line), edge.properties)
        if first:
            net.edges[e], first = piece, False
        else:
            net.edges.append(piece)
        start = end


def _flag_gaps(net: Network) -> None:
    grid = net.segments()
    for node, edges in net.adjacent.items():
        if len(edges) != 1 or net.edges[edges[0]].kind != PIPES:
            continue
        hit = net.nearest(grid, net.nodes[node], GAP_M, skip={edges[0]})
        if hit and node not in (net.edges[hit[1]].a, net.edges[hit[1]].b):
            net.problems.append(Problem("unjoined_end", PIPES, net.edges[edges[0]].id, params={
                "other": net.edges[hit[1]].id, "gap_m": f"{hit[0]:.1f}"}))


def _flag_unfed(net: Network) -> None:
    fed = {d.node for d in net.devices if d.kind == SOURCES}
    seen: set[int] = set()
    for start in net.adjacent:
        if start in seen:
            continue
        part = net.walk({start})
        edges = {e for node in part for e in net.adjacent.get(node, ())}
        seen |= part
        if not part & fed:
            ids = sorted({net.edges[e].id for e in edges})
            net.problems.append(Problem("no_source", PIPES, "", params={
                "count": len(ids), "sample": "、".join(ids[:3])}))

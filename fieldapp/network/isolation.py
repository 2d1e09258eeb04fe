"""Which valves shut off a leak: the isolation trace a gas utility's GIS runs, on the tablet.

From the leak's place on its pipe, the network is walked along the pipes (nearest first)
until a valve, a source or a shut valve stops the walk. The open valves found so bound the
leak. One of them must be closed when gas can reach it from a source on its far side (the
other valves of the bound closed too); one whose far side no source feeds is listed apart,
as downstream (closing it keeps back the gas in the pipes beyond, nothing more). A source
reached with no valve between is said as such: it must be shut at the station.

    found = isolate(network, lat=32.0401, lon=118.7802)
    [v.id for v in found.close], found.affected_service_lines
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

from fieldapp.errors import InvalidInput
from fieldapp.network.build import Device, Network
from fieldapp.network.geometry import dist, length
from fieldapp.network.model import SERVICE_LINES, SOURCES, VALVES

MAX_LEAK_M = 50.0  # a leak farther than this from every pipe is not on the network


@dataclass(frozen=True)
class Valve:
    id: str
    lat: float
    lon: float
    along_m: float  # from the leak, along the pipes
    straight_m: float  # from the leak, as the crow flies
    properties: dict[str, Any]


@dataclass(frozen=True)
class Isolation:
    pipe: str  # the pipe the leak is on
    off_pipe_m: float  # how far the given place was from it
    close: list[Valve]  # to be closed, nearest first
    downstream: list[Valve]  # bound the leak, but no source feeds them
    unvalved_sources: list[str]  # sources the leak reaches with no valve between
    affected_service_lines: list[dict[str, Any]]  # left without gas once ``close`` is shut
    shut_m: float  # length of pipe left without gas


def isolate(net: Network, lat: float, lon: float) -> Isolation:
    """The valves that isolate a leak at (lat, lon); ``InvalidInput`` when no pipe is
    within ``MAX_LEAK_M`` of it."""
    p = net.plane.xy(lon, lat)
    hit = net.nearest(net.index(), p, MAX_LEAK_M)
    if hit is None:
        raise InvalidInput("leak_off_network", f"no pipe within {MAX_LEAK_M:.0f} m",
                           within_m=MAX_LEAK_M)
    off, e, i, q, _ = hit
    edge = net.edges[e]
    to_a = length([*edge.line[:i + 1], q])
    devices: dict[int, list[Device]] = {}
    for device in net.devices:
        devices.setdefault(device.node, []).append(device)

    # Dijkstra from the leak, stopped by every device's node.
    best = {edge.a: to_a, edge.b: edge.length_m - to_a}
    heap = [(d, n) for n, d in best.items()]
    heapq.heapify(heap)
    zone, bound, done = {e}, {}, set()
    unvalved: list[str] = []
    while heap:
        d, node = heapq.heappop(heap)
        if node in done:
            continue
        done.add(node)
        here = devices.get(node, [])
        if any(x.kind == VALVES for x in here):
            if not any(x.closed for x in here if x.kind == VALVES):
                bound[node] = d
            continue
        if any(x.kind == SOURCES for x in here):
            unvalved += [x.id for x in here if x.kind == SOURCES]
            continue
        for nxt_e in net.adjacent.get(node, ()):
            zone.add(nxt_e)
            nxt = net.other(net.edges[nxt_e], node)
            nd = d + net.edges[nxt_e].length_m
            if nd < best.get(nxt, float("inf")):
                best[nxt] = nd
                heapq.heappush(heap, (nd, nxt))

    # With every bounding valve shut, does a source feed the far side of each? One walk
    # from the sources answers for all of them (a walk from each valve's far side took
    # seconds on a district of 200 bounding valves).
    normally_shut = {x.node for x in net.devices if x.kind == VALVES and x.closed}
    shut = bound.keys() | normally_shut
    sources = {x.node for x in net.devices if x.kind == SOURCES}
    fed_nodes = net.walk(sources, shut) - shut
    close: list[Valve] = []
    downstream: list[Valve] = []
    to_close: set[int] = set()
    for node, d in sorted(bound.items(), key=lambda kv: kv[1]):
        beyond = [net.other(net.edges[x], node) for x in net.adjacent.get(node, ())
                  if x not in zone]
        fed = any(b in fed_nodes or b in sources for b in beyond)
        if fed:
            to_close.add(node)
        for valve in (x for x in devices[node] if x.kind == VALVES):
            lon_v, lat_v = valve.lonlat
            found = Valve(valve.id, lat_v, lon_v, round(d, 1),
                          round(dist(p, net.nodes[node]), 1), valve.properties)
            (close if fed else downstream).append(found)

    # What is left without gas once those are closed: every pipe no source reaches (one
    # that only touches a shut valve is not reached through it).
    shut = to_close | normally_shut
    lit = net.walk(sources, shut) - shut
    dark = [x for x in net.edges if x.a not in lit and x.b not in lit]
    return Isolation(edge.id, round(off, 1), close, downstream, sorted(set(unvalved)),
                     [x.properties for x in dark if x.kind == SERVICE_LINES],
                     round(sum(x.length_m for x in dark), 1))

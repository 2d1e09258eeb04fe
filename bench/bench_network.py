"""The gas network of a large district, timed: checking the GIS layers on the server
(``pack``), building the graph on the tablet from its bundle (``unpack``) and a leak's
isolation trace (``isolate``).

Run by hand: ``PYTHONPATH=. .venv/bin/python bench/bench_network.py [BLOCKS]``.
A street grid of BLOCKS × BLOCKS blocks of 80 m (70: a district 5.6 km across), a main along
every block side (each drawn as one pipe), a valve on every third, a service line teed onto
the middle of each main, four sources at the corners. Baselines in the same run: reading the
bundle's JSON (what building the graph cannot go below), and one walk over the whole built
graph (``Network.walk``, the trace's own: what any trace at least touches).
"""

from __future__ import annotations

import json
import math
import sys
import time
from statistics import median

from fieldapp.network.bundle import pack, unpack
from fieldapp.network.isolation import isolate

LON0, LAT0, STEP_M = 118.75, 32.00, 80.0
M_PER_DEG = 6371008.8 * math.pi / 180
REPEAT = 5


def lonlat(x: float, y: float) -> list[float]:
    return [round(LON0 + x / (M_PER_DEG * math.cos(math.radians(LAT0))), 8),
            round(LAT0 + y / M_PER_DEG, 8)]


def district(blocks: int) -> dict[str, str]:
    pipes, valves, services = [], [], []
    n = 0
    for i in range(blocks + 1):
        for j in range(blocks + 1):
            for di, dj in ((1, 0), (0, 1)):
                if i + di > blocks or j + dj > blocks:
                    continue
                a, b = (i * STEP_M, j * STEP_M), ((i + di) * STEP_M, (j + dj) * STEP_M)
                n += 1
                pipes.append(_line(f"P{n}", a, b, {"material": "PE", "diameter_mm": 110}))
                mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
                quarter = ((3 * a[0] + b[0]) / 4, (3 * a[1] + b[1]) / 4)
                if n % 3 == 0:
                    valves.append(_point(f"V{n}", mid, {"location": f"第{n}号阀井"}))
                side = (mid[0] + 6 * dj, mid[1] + 6 * di) if n % 3 == 0 else mid
                services.append(_line(f"S{n}", quarter if n % 3 == 0 else side,
                                      (side[0] + 6 * dj, side[1] + 6 * di),
                                      {"meter": f"M{n:06d}"}))
    edge = blocks * STEP_M
    sources = [_point(f"R{k}", p, {"name": f"调压站{k}"})
               for k, p in enumerate(((0, 0), (edge, 0), (0, edge), (edge, edge)), 1)]
    return {"pipes": _fc(pipes), "valves": _fc(valves), "service_lines": _fc(services),
            "sources": _fc(sources)}


def _line(fid: str, a: tuple[float, float], b: tuple[float, float],
          props: dict) -> dict:
    return {"type": "Feature", "id": fid, "properties": props,
            "geometry": {"type": "LineString", "coordinates": [lonlat(*a), lonlat(*b)]}}


def _point(fid: str, p: tuple[float, float], props: dict) -> dict:
    return {"type": "Feature", "id": fid, "properties": props,
            "geometry": {"type": "Point", "coordinates": lonlat(*p)}}


def _fc(features: list[dict]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def timed(step):  # type: ignore[no-untyped-def]
    runs = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        result = step()
        runs.append(time.perf_counter() - start)
    return median(runs), result


def main() -> None:
    blocks = int(sys.argv[1]) if len(sys.argv) > 1 else 70
    files = district(blocks)
    size = sum(len(t.encode()) for t in files.values())
    pack_s, (data, net) = timed(lambda: pack(dict(files)))
    print(f"district of {blocks}x{blocks} blocks: {sum(e.kind == 'pipes' for e in net.edges):,}"
          f" pipe pieces, {len(net.devices):,} valves and sources,"
          f" {sum(e.kind == 'service_lines' for e in net.edges):,} service lines;"
          f" GeoJSON {size / 1e6:.1f} MB, bundle {len(data) / 1e6:.1f} MB;"
          f" {len(net.problems)} problems flagged")
    read_s, _ = timed(lambda: json.loads(data))
    build_s, built = timed(lambda: unpack(data))
    print(f"server check (pack): {pack_s:.2f} s")
    print(f"tablet build (unpack): {build_s:.2f} s; baseline: reading the bundle's JSON"
          f" {read_s:.3f} s -> {build_s / read_s:.1f}x")
    middle = lonlat(blocks * STEP_M / 2 + 20, blocks * STEP_M / 2 + 1)
    trace_s, found = timed(lambda: isolate(built, lat=middle[1], lon=middle[0]))
    walk_s, reached = timed(lambda: built.walk({0}))  # the trace's own walk, over everything
    nodes = len(reached)
    print(f"isolation of a leak mid-district: {trace_s * 1000:.1f} ms"
          f" ({len(found.close)} valves to close, {len(found.downstream)} downstream,"
          f" {len(found.affected_service_lines)} service lines without gas); baseline: one"
          f" walk over all {nodes:,} nodes {walk_s * 1000:.1f} ms -> {trace_s / walk_s:.1f}x")


if __name__ == "__main__":
    main()

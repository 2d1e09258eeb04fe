"""The demo's gas network: for each district, mains along a 150 m street grid over its
customers, sectional valves bounding every 4 x 4 blocks, regulator stations at two corners,
a service line from each customer's house to the main nearest it, and the streets'
centrelines (the roads route distances are measured along), written as the GIS layers a
utility would export (so the demo goes through the same import as a utility's own files).
"""

from __future__ import annotations

import json
import math
from typing import Any

from fieldapp.network.geometry import Plane
from fieldapp.network.model import PIPES, ROADS, SERVICE_LINES, SOURCES, VALVES

SPACING_M = 150.0
SECTION = 4  # blocks a side of a section the sectional valves bound


def layers(customers: list[dict[str, Any]], meters: dict[str, str],
           code: str) -> dict[str, str]:
    """The layers (GeoJSON text) for one district's ``customers``; ``meters`` gives each
    customer's meter barcode; ``code`` prefixes the ids (one district's from another's)."""
    placed = [c for c in customers if c.get("lat") is not None and c.get("lon") is not None]
    plane = Plane.around((c["lon"], c["lat"]) for c in placed)
    points = {c["id"]: plane.xy(c["lon"], c["lat"]) for c in placed}
    xs, ys = [p[0] for p in points.values()], [p[1] for p in points.values()]
    x0, y0 = _down(min(xs)) - SPACING_M, _down(min(ys)) - SPACING_M
    cols = math.ceil((max(xs) - x0) / SPACING_M) + 1
    rows = math.ceil((max(ys) - y0) / SPACING_M) + 1

    def at(x: float, y: float) -> list[float]:
        lon, lat = plane.lonlat((x, y))
        return [round(lon, 7), round(lat, 7)]

    pipes, valves, services, roads = [], [], [], []
    n = 0
    for i in range(cols + 1):
        for j in range(rows + 1):
            for di, dj in ((1, 0), (0, 1)):
                if i + di > cols or j + dj > rows:
                    continue
                n += 1
                a = (x0 + i * SPACING_M, y0 + j * SPACING_M)
                b = (x0 + (i + di) * SPACING_M, y0 + (j + dj) * SPACING_M)
                pipes.append(_feature(f"{code}-G{n}", "LineString", [at(*a), at(*b)], {
                    "material": "PE" if n % 5 else "钢管", "diameter_mm": 110 if n % 7 else 160}))
                roads.append(_feature(f"{code}-W{n}", "LineString", [at(*a), at(*b)],
                                      {"kind": "街道"}))  # the main runs under the street
                # Sectional valves: on every main that crosses a section's edge, so each
                # section of SECTION x SECTION blocks can be shut off on its own.
                if (i if di else j) % SECTION == 0:
                    valves.append(_feature(f"{code}-V{n}", "Point",
                                           at((a[0] + b[0]) / 2, (a[1] + b[1]) / 2),
                                           {"location": f"阀井 {code}-V{n}"}))
    for cid, (x, y) in points.items():
        foot = _foot(x, y, x0, y0)
        if math.dist((x, y), foot) >= 2:  # a house on the main itself has no service line
            services.append(_feature(f"{code}-S-{cid}", "LineString", [at(*foot), at(x, y)],
                                     {"customer": cid, "meter": meters.get(cid, "")}))
    corners = [(x0, y0), (x0 + cols * SPACING_M, y0 + rows * SPACING_M)]
    sources = [_feature(f"{code}-R{k}", "Point", at(*p), {"name": f"调压站 {code}-R{k}"})
               for k, p in enumerate(corners, 1)]
    return {PIPES: _collection(pipes), VALVES: _collection(valves),
            SOURCES: _collection(sources), SERVICE_LINES: _collection(services),
            ROADS: _collection(roads)}


def _down(v: float) -> float:
    return math.floor(v / SPACING_M) * SPACING_M


def _foot(x: float, y: float, x0: float, y0: float) -> tuple[float, float]:
    """The nearest point of the grid's mains to (x, y), not at a crossing (a tee on a
    main's middle, as houses are connected)."""
    gx = x0 + round((x - x0) / SPACING_M) * SPACING_M
    gy = y0 + round((y - y0) / SPACING_M) * SPACING_M
    return (x, gy) if abs(y - gy) <= abs(x - gx) else (gx, y)


def _feature(fid: str, kind: str, coordinates: Any, props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "id": fid, "properties": props,
            "geometry": {"type": kind, "coordinates": coordinates}}


def _collection(features: list[dict[str, Any]]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features},
                      ensure_ascii=False)

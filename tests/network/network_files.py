"""A small gas network drawn in metres east and north of a point in Nanjing, written as the
GIS's GeoJSON layers and read back through the real reader.

    S1 ──V1──── J ──────V2───┬──────┬── end        (the main, one pipe drawn west to east)
                │           SL1    SL2             (service lines teed on the main)
               SL3
                │
                V3
                │
                └─────── V4 ─── S2                 (a branch to the second source)
"""

from __future__ import annotations

import json
import math
from typing import Any

from fieldapp.network import geojson
from fieldapp.network.build import Network, build
from fieldapp.network.model import PIPES, SERVICE_LINES, SOURCES, VALVES

LON0, LAT0 = 118.78, 32.04
M_PER_DEG = 6371008.8 * math.pi / 180


def lonlat(x: float, y: float) -> list[float]:
    return [LON0 + x / (M_PER_DEG * math.cos(math.radians(LAT0))), LAT0 + y / M_PER_DEG]


def line(fid: str, *points: tuple[float, float], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "id": fid, "properties": props,
            "geometry": {"type": "LineString", "coordinates": [lonlat(*p) for p in points]}}


def point(fid: str, x: float, y: float, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"id": fid, **props},
            "geometry": {"type": "Point", "coordinates": lonlat(x, y)}}


def collection(*features: dict[str, Any], **extra: Any) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features), **extra},
                      ensure_ascii=False)


def layers(v4_status: str = "open") -> dict[str, str]:
    return {
        PIPES: collection(
            line("M1", (0, 0), (150, 0), (300, 0), material="PE", diameter_mm=160),
            line("B1", (150, 0), (150, -200)),
            line("B2", (150, -200), (400, -200))),
        SERVICE_LINES: collection(
            line("SL1", (250, 0), (250, 20), meter="M-001", customer="C-1"),
            line("SL2", (280, 0.3), (280, 15), meter="M-002", customer="C-2"),
            line("SL3", (150, -20), (170, -20), meter="M-003", customer="C-3"),
            line("SL4", (250, -200), (250, -215), meter="M-004", customer="C-4")),
        VALVES: collection(point("V1", 100, 0), point("V2", 200, 0.4), point("V3", 150, -60),
                           point("V4", 300, -200, status=v4_status)),
        SOURCES: collection(point("S1", 0, 0, name="城南调压站"),
                            point("S2", 400, -200, name="河西调压站")),
    }


def network(files: dict[str, str]) -> Network:
    read = {layer: geojson.read(text, layer) for layer, text in files.items()}
    net = build({layer: features for layer, (features, _) in read.items()})
    net.problems[:0] = [p for _, problems in read.values() for p in problems]
    return net


def at(x: float, y: float) -> dict[str, float]:
    lon, lat = lonlat(x, y)
    return {"lat": lat, "lon": lon}

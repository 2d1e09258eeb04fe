"""Where the photos were taken, drawn as a small SVG around the customer's registered
location: the back office has no map tiles (and runs no scripts), but a plan with distances
answers the question that matters — were the photos taken at this address?"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fieldapp.domain.route import haversine_km

SIZE = 260  # px
MARGIN = 30
MIN_SPAN_M = 100  # the plan shows at least this much around the address


@dataclass(frozen=True)
class Point:
    label: str
    x: float
    y: float
    radius: float  # the GPS accuracy, in px
    distance_m: int | None  # from the customer's registered location


@dataclass(frozen=True)
class PhotoMap:
    home: Point | None
    photos: list[Point]
    scale_m: int  # what the scale bar stands for
    scale_px: float
    size: int = SIZE


def build(customer: Mapping[str, Any], photos: Sequence[Mapping[str, Any]]) -> PhotoMap | None:
    """The plan, or None when no photo has a position."""
    placed = [(i, p) for i, p in enumerate(photos, start=1)
              if p.get("lat") is not None and p.get("lon") is not None]
    if not placed:
        return None
    home = ((customer["lat"], customer["lon"])
            if customer.get("lat") is not None and customer.get("lon") is not None else None)
    points = [(p["lat"], p["lon"]) for _, p in placed] + ([home] if home else [])
    lat0 = sum(lat for lat, _ in points) / len(points)
    lon0 = sum(lon for _, lon in points) / len(points)
    m_per_lon = 111_320 * math.cos(math.radians(lat0))

    def metres(lat: float, lon: float) -> tuple[float, float]:
        return (lon - lon0) * m_per_lon, (lat - lat0) * 110_540

    xy = [metres(lat, lon) for lat, lon in points]
    span = max(MIN_SPAN_M, *(2 * max(abs(x), abs(y)) for x, y in xy))
    scale = (SIZE - 2 * MARGIN) / span  # px per metre

    def at(lat: float, lon: float, label: str, accuracy: float | None,
           distance: int | None) -> Point:
        x, y = metres(lat, lon)
        return Point(label, SIZE / 2 + x * scale, SIZE / 2 - y * scale,
                     max(3.0, (accuracy or 0) * scale), distance)

    shown = [at(p["lat"], p["lon"], str(i), p.get("accuracy_m"),
                round(haversine_km((p["lat"], p["lon"]), home) * 1000) if home else None)
             for i, p in placed]
    bar = _round_metres(span / 4)
    return PhotoMap(at(home[0], home[1], "登记地址", None, None) if home else None, shown,
                    bar, bar * scale)


def _round_metres(value: float) -> int:
    """A scale bar length people read easily: 1, 2 or 5 × a power of ten."""
    power = 10 ** math.floor(math.log10(max(value, 1)))
    return int(next(m * power for m in (5, 2, 1) if m * power <= value) if value >= 1 else 1)

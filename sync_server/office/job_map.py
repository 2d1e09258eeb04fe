"""The dispatch map: jobs and technicians placed by their coordinates on a server-drawn SVG
(no tiles: the office works without the internet, and runs no scripts). Each job is a link
to its page and says what it is on hover; district names sit at their jobs' centre."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

WIDTH, HEIGHT, MARGIN = 1100, 640, 30
COLOUR = {"pending": "#b3261e", "dispatched": "#e8710a", "accepted": "#0b5cab",
          "en_route": "#0b5cab", "in_service": "#0b5cab", "completed": "#1b7a3d",
          "followed_up": "#1b7a3d", "returned": "#b3261e", "suspended": "#8a4b00"}


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    colour: str
    title: str
    href: str
    emergency: bool


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class JobMap:
    jobs: list[Dot]
    technicians: list[Label]
    districts: list[Label]
    width: int = WIDTH
    height: int = HEIGHT
    scale_km: int = 1
    scale_px: float = 0.0


def build(jobs: Sequence[Mapping[str, Any]], technicians: Sequence[Mapping[str, Any]],
          describe: Any) -> JobMap | None:
    """``jobs`` need lat, lon, status, priority, id; ``describe(job)`` gives the hover text."""
    placed = [j for j in jobs if j.get("lat") is not None and j.get("lon") is not None]
    if not placed:
        return None
    lats = [j["lat"] for j in placed]
    lons = [j["lon"] for j in placed]
    lat0 = (min(lats) + max(lats)) / 2
    kx = 111.32 * math.cos(math.radians(lat0))  # km per degree of longitude
    ky = 110.54
    span_x = max((max(lons) - min(lons)) * kx, 1.0)
    span_y = max((max(lats) - min(lats)) * ky, 1.0)
    scale = min((WIDTH - 2 * MARGIN) / span_x, (HEIGHT - 2 * MARGIN) / span_y)  # px per km
    lon_mid = (min(lons) + max(lons)) / 2

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return (WIDTH / 2 + (lon - lon_mid) * kx * scale,
                HEIGHT / 2 - (lat - lat0) * ky * scale)

    dots = []
    centres: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for j in placed:
        x, y = xy(j["lat"], j["lon"])
        dots.append(Dot(x, y, COLOUR.get(j["status"], "#6b7785"), describe(j),
                        f"/office/jobs/{j['id']}", j.get("priority") == 1))
        centres[j.get("district") or ""].append((x, y))
    techs = []
    for t in technicians:
        if t.get("position"):
            x, y = xy(*t["position"])
            if 0 <= x <= WIDTH and 0 <= y <= HEIGHT:
                techs.append(Label(x, y, t["display_name"]))
    districts = [Label(sum(x for x, _ in pts) / len(pts), sum(y for _, y in pts) / len(pts),
                       name) for name, pts in centres.items() if name]
    km = next(k for k in (10, 5, 2, 1) if k * scale <= WIDTH / 4) if scale < WIDTH / 4 else 1
    return JobMap(dots, techs, districts, scale_km=km, scale_px=km * scale)

"""The dispatch map: jobs and technicians placed by their coordinates on a server-drawn SVG
(no tiles: the office works without the internet, and runs no scripts). Each job is a link
to its page and says what it is on hover; district names sit at their jobs' centre."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sync_server.services import positions

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
    pipes: list[str] = field(default_factory=list)  # SVG path data, one per main
    valves: list[Label] = field(default_factory=list)  # their ids as the hover text


def build(jobs: Sequence[Mapping[str, Any]], technicians: Sequence[Mapping[str, Any]],
          describe: Any, network: Mapping[str, Any] | None = None) -> JobMap | None:
    """``jobs`` need lat, lon, status, priority, id; ``describe(job)`` gives the hover text;
    ``network`` is a district's bundle (``fieldapp.network.bundle``), its mains and valves
    drawn under the jobs."""
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
        where, text = _technician(t)
        if where is not None:
            x, y = xy(*where)
            if 0 <= x <= WIDTH and 0 <= y <= HEIGHT:
                techs.append(Label(x, y, text))
    districts = [Label(sum(x for x, _ in pts) / len(pts), sum(y for _, y in pts) / len(pts),
                       name) for name, pts in centres.items() if name]
    km = next(k for k in (10, 5, 2, 1) if k * scale <= WIDTH / 4) if scale < WIDTH / 4 else 1
    pipes, valves = _network(network or {}, xy)
    return JobMap(dots, techs, districts, scale_km=km, scale_px=km * scale, pipes=pipes,
                  valves=valves)


def _network(bundle: Mapping[str, Any],
             xy: Any) -> tuple[list[str], list[Label]]:
    layers = bundle.get("layers", {})
    pipes = []
    for feature in layers.get("pipes", []):
        for line in feature["lines"]:
            points = [xy(lat, lon) for lon, lat in line]
            if any(0 <= x <= WIDTH and 0 <= y <= HEIGHT for x, y in points):
                pipes.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points))
    valves = []
    for feature in layers.get("valves", []):
        x, y = xy(feature["lines"][0][0][1], feature["lines"][0][0][0])
        if 0 <= x <= WIDTH and 0 <= y <= HEIGHT:
            valves.append(Label(x, y, f"阀门 {feature['id']}"))
    return pipes, valves


def _technician(t: Mapping[str, Any]) -> tuple[tuple[float, float] | None, str]:
    """Where a technician is drawn and what it says: their last reported fix with its age
    (and a doubted one said so), else their jobs' addresses, said to be a guess."""
    fix = t.get("fix")
    if fix is not None:
        doubt = "（位置存疑）" if fix.doubtful else ""
        return (fix.lat, fix.lon), f"{t['display_name']} · {positions.age_zh(fix)}{doubt}"
    if t.get("position"):
        return t["position"], f"{t['display_name']}（按工单估计）"
    return None, ""


def technician_rows(technicians: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The list under the map: each technician, where they were seen and how long ago (a
    doubted or far-off fix is not drawn on the plan, but it is said here)."""
    rows = []
    for t in technicians:
        fix = t.get("fix")
        if fix is not None:
            accuracy = f" · 精度 {fix.accuracy_m:.0f} 米" if fix.accuracy_m is not None else ""
            seen = f"定位 {positions.age_zh(fix)}{accuracy}"
            used = ("派单按实时定位" if t.get("located") == "gps" else
                    fix.doubtful or "定位已超过 15 分钟，派单按其工单地址估计")
        else:
            seen = "未上报定位"
            used = "派单按其工单地址估计" if t.get("position") else "位置未知"
        rows.append({"name": str(t["display_name"]), "district": str(t.get("district") or ""),
                     "seen": seen, "used": used})
    return rows

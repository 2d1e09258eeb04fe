"""The dispatch map: jobs and technicians placed by their coordinates on a server-drawn SVG
in Web Mercator, over the district's own basemap tiles when it has one (served by this
server: the office works without the internet, and runs no scripts). Each job is a link
to its page and says what it is on hover; district names sit at their jobs' centre."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fieldapp.basemap.mercator import TILE, metres_per_pixel, world
from sync_server.services import positions

WIDTH, HEIGHT, MARGIN = 1100, 640, 30
MAX_ZOOM = 17.0  # one job alone: a few streets around it
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
class Tiles:
    """Where a district's basemap tiles are served (``<href>/<z>/<x>/<y>``) and its zooms."""
    href: str
    min_zoom: int
    max_zoom: int
    attribution: str = ""


@dataclass(frozen=True)
class Tile:
    x: float
    y: float
    size: float
    href: str


@dataclass(frozen=True)
class JobMap:
    jobs: list[Dot]
    technicians: list[Label]
    districts: list[Label]
    width: int = WIDTH
    height: int = HEIGHT
    scale: str = "1 km"  # what the scale bar stands for
    scale_px: float = 0.0
    pipes: list[str] = field(default_factory=list)  # SVG path data, one per main
    valves: list[Label] = field(default_factory=list)  # their ids as the hover text
    tiles: list[Tile] = field(default_factory=list)  # the basemap's, under everything
    attribution: str = ""


def build(jobs: Sequence[Mapping[str, Any]], technicians: Sequence[Mapping[str, Any]],
          describe: Any, network: Mapping[str, Any] | None = None,
          tiles: Tiles | None = None) -> JobMap | None:
    """``jobs`` need lat, lon, status, priority, id; ``describe(job)`` gives the hover text;
    ``network`` is a district's bundle (``fieldapp.network.bundle``), its mains and valves
    drawn under the jobs; ``tiles`` its basemap, drawn under everything."""
    placed = [j for j in jobs if j.get("lat") is not None and j.get("lon") is not None]
    if not placed:
        return None
    # Web Mercator, as the basemap's tiles are cut: a zoom that fits every job, the plan's
    # corner at ``left, top`` (world pixels at that zoom).
    corners = [world(j["lon"], j["lat"], 0) for j in placed]
    span_x = max(max(c[0] for c in corners) - min(c[0] for c in corners), 1e-9)
    span_y = max(max(c[1] for c in corners) - min(c[1] for c in corners), 1e-9)
    zoom = min(MAX_ZOOM, math.log2(min((WIDTH - 2 * MARGIN) / span_x,
                                       (HEIGHT - 2 * MARGIN) / span_y)))
    k = 2.0 ** zoom
    left = (max(c[0] for c in corners) + min(c[0] for c in corners)) / 2 * k - WIDTH / 2
    top = (max(c[1] for c in corners) + min(c[1] for c in corners)) / 2 * k - HEIGHT / 2
    lat0 = sum(j["lat"] for j in placed) / len(placed)
    scale = 1000 / metres_per_pixel(lat0, zoom)  # px per km

    def xy(lat: float, lon: float) -> tuple[float, float]:
        x, y = world(lon, lat, zoom)
        return x - left, y - top

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
    # The longest round length whose bar fits a quarter of the plan.
    metres = next((m for m in (20000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20)
                   if m * scale / 1000 <= WIDTH / 4), 20)
    pipes, valves = _network(network or {}, xy)
    return JobMap(dots, techs, districts, scale=f"{metres // 1000} km" if metres >= 1000
                  else f"{metres} m", scale_px=metres * scale / 1000, pipes=pipes,
                  valves=valves, tiles=_tiles(tiles, zoom, left, top) if tiles else [],
                  attribution=tiles.attribution if tiles else "")


def _tiles(tiles: Tiles, zoom: float, left: float, top: float) -> list[Tile]:
    """The basemap's tiles that cover the plan, at the file's zoom nearest the plan's."""
    tz = max(tiles.min_zoom, min(tiles.max_zoom, round(zoom)))
    size = TILE * 2.0 ** (zoom - tz)
    if WIDTH / size > 24:
        return []  # the file's zooms are far deeper than the plan's: hundreds of tiles
    last = 2 ** tz - 1
    out = []
    for tx in range(max(0, int(left // size)), min(last, int((left + WIDTH) // size)) + 1):
        for ty in range(max(0, int(top // size)), min(last, int((top + HEIGHT) // size)) + 1):
            out.append(Tile(tx * size - left, ty * size - top, size,
                            f"{tiles.href}/{tz}/{tx}/{ty}"))
    return out


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

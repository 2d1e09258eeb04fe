"""The demo's offline basemap: for each district, raster tiles of its own streets (the street
grid its gas mains run under, ``fieldapp.demo.network``), its compounds and their buildings,
drawn with Pillow and written as one PMTiles file, the kind a utility's GIS would hand over.

Everything is placed in world pixels, so a street or a name that crosses a tile's edge is
drawn the same way on both tiles and meets itself.
"""

from __future__ import annotations

import io
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from fieldapp.basemap.mercator import TILE, lonlat, metres_per_pixel, tile_of, world
from fieldapp.basemap.write import write_pmtiles
from fieldapp.capture.photo import cjk_font
from fieldapp.demo.names import DISTRICTS
from fieldapp.network.model import PIPES

VERSION = 1  # of the drawing: a demo server keeps drawn files by it
ZOOMS = range(13, 18)
LAND, ROAD, CASING, MAIN_ROAD = "#f2efe9", "#ffffff", "#cfc8bc", "#fbd9a6"
COMPOUND, BUILDING, BUILDING_EDGE, TEXT = "#e4ecd9", "#d9cfc6", "#bcaea2", "#3c3c3c"
ROAD_M, MAIN_M = 9.0, 14.0  # a street's width on the ground
ATTRIBUTION = "FieldApp 演示底图（由演示数据生成）"
LonLat = tuple[float, float]


@dataclass
class Sheet:
    """What one district's map shows, in degrees."""

    name: str
    roads: list[tuple[list[LonLat], bool, str]] = field(default_factory=list)  # main?, name
    compounds: list[tuple[str, tuple[float, float, float, float]]] = field(default_factory=list)
    buildings: list[LonLat] = field(default_factory=list)

    def bounds(self) -> tuple[float, float, float, float]:
        points = [p for line, _, _ in self.roads for p in line] + self.buildings
        return (min(p[0] for p in points), min(p[1] for p in points),
                max(p[0] for p in points), max(p[1] for p in points))


def sheet(district: str, customers: list[dict[str, Any]], layers: dict[str, str]) -> Sheet:
    """The district's streets from its network's mains (one street a grid line, named from
    the district's streets), its compounds and buildings from its customers' addresses."""
    out = Sheet(district)
    names = next((d.streets for d in DISTRICTS if d.name == district), ("街",))
    rows: dict[float, list[LonLat]] = defaultdict(list)
    cols: dict[float, list[LonLat]] = defaultdict(list)
    for f in json.loads(layers[PIPES])["features"]:
        (x1, y1), (x2, y2) = f["geometry"]["coordinates"][:2]
        if abs(y1 - y2) < abs(x1 - x2):
            rows[round(y1, 4)] += [(x1, y1), (x2, y2)]
        else:
            cols[round(x1, 4)] += [(x1, y1), (x2, y2)]
    for n, (_, pts) in enumerate(sorted(rows.items())):
        line = sorted(pts)  # one straight street: its two ends
        out.roads.append(([line[0], line[-1]], n % 4 == 0, names[n % len(names)]))
    for n, (_, pts) in enumerate(sorted(cols.items())):
        line = sorted(pts, key=lambda p: p[1])
        out.roads.append(([line[0], line[-1]], n % 4 == 0,
                          f"{names[(n + 3) % len(names)][:2]}{n + 1}巷"))
    compounds: dict[str, list[LonLat]] = defaultdict(list)
    houses: dict[str, list[LonLat]] = defaultdict(list)
    for c in customers:
        if c.get("lat") is None or c.get("lon") is None:
            continue
        words = str(c.get("address") or "").split()
        at = (float(c["lon"]), float(c["lat"]))
        if c.get("kind") == "residential" and len(words) >= 5:
            compounds[words[3]].append(at)
            houses[f"{words[3]} {words[4]}"].append(at)
        else:
            houses[str(c["id"])].append(at)
    for name, pts in sorted(compounds.items()):
        pad = 0.0003
        out.compounds.append((name, (min(p[0] for p in pts) - pad, min(p[1] for p in pts) - pad,
                                     max(p[0] for p in pts) + pad, max(p[1] for p in pts) + pad)))
    out.buildings = [(sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))
                     for _, pts in sorted(houses.items())]
    return out


def write(target: Path, drawn: Sheet) -> Path:
    """``drawn`` as a PMTiles file of PNG tiles at ``ZOOMS``."""
    return write_pmtiles(target, tiles(drawn), bounds=drawn.bounds(), name=drawn.name,
                         attribution=ATTRIBUTION)


def cached(cache: Path, name: str, district: str, customers: list[dict[str, Any]],
           layers: dict[str, str]) -> Path:
    """The district's basemap drawn into ``cache`` as ``<name>-v<VERSION>.pmtiles``, or the
    one drawn there before (drawing takes seconds; each demo server would redraw it)."""
    drawn = cache / f"{name}-v{VERSION}.pmtiles"
    if not drawn.is_file():
        write(drawn, sheet(district, customers, layers))
    return drawn


def tiles(drawn: Sheet) -> Iterator[tuple[int, int, int, bytes]]:
    w, s, e, n = drawn.bounds()
    for z in ZOOMS:
        (x0, y0), (x1, y1) = tile_of(w, n, z), tile_of(e, s, z)
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                yield z, x, y, _tile(drawn, z, x, y)


def _tile(drawn: Sheet, z: int, tx: int, ty: int) -> bytes:
    image = Image.new("RGB", (TILE, TILE), LAND)
    pen = ImageDraw.Draw(image)
    ox, oy = tx * TILE, ty * TILE
    lat = lonlat(ox, oy, z)[1]
    px = 1 / metres_per_pixel(lat, z)  # pixels a metre

    def xy(p: LonLat) -> tuple[float, float]:
        wx, wy = world(p[0], p[1], z)
        return wx - ox, wy - oy

    for _, (w, s, e, n) in drawn.compounds:
        (ax, ay), (bx, by) = xy((w, n)), xy((e, s))
        pen.rectangle((ax, ay, bx, by), fill=COMPOUND)
    for casing in (True, False):
        for line, main, _ in drawn.roads:
            width = max(1.0, (MAIN_M if main else ROAD_M) * px)
            colour = CASING if casing else MAIN_ROAD if main else ROAD
            pen.line([xy(p) for p in line], fill=colour,
                     width=round(width + (2 if casing and width > 2 else 0)))
    if z >= 15:
        half_w, half_h = 11 * px, 7 * px
        for p in drawn.buildings:
            x, y = xy(p)
            pen.rectangle((x - half_w, y - half_h, x + half_w, y + half_h), fill=BUILDING,
                          outline=BUILDING_EDGE)
    _labels(pen, drawn, z, xy)
    buf = io.BytesIO()
    image.save(buf, "PNG", compress_level=6)
    return buf.getvalue()


def _labels(pen: ImageDraw.ImageDraw, drawn: Sheet, z: int, xy: Any) -> None:
    if z <= 14:
        w, s, e, n = drawn.bounds()
        _text(pen, xy(((w + e) / 2, (s + n) / 2)), drawn.name, 22 if z == 14 else 16)
        return
    if z >= 16:
        for line, main, name in drawn.roads:
            if main or z >= 17:
                (ax, ay), (bx, by) = xy(line[0]), xy(line[-1])
                steps = max(1, int(abs(bx - ax) + abs(by - ay)) // 700)
                for k in range(steps):
                    t = (k + 0.5) / steps
                    _text(pen, (ax + (bx - ax) * t, ay + (by - ay) * t), name, 13,
                          vertical=abs(by - ay) > abs(bx - ax))
    for name, (w, s, e, n) in drawn.compounds:
        _text(pen, xy(((w + e) / 2, (s + n) / 2)), name, 12 if z == 15 else 14)


def _text(pen: ImageDraw.ImageDraw, at: tuple[float, float], text: str, size: int, *,
          vertical: bool = False) -> None:
    reach = len(text) * size / 2 + 4
    if not (-reach < at[0] < TILE + reach and -reach < at[1] < TILE + reach):
        return  # nowhere near this tile
    font = cjk_font(size)
    if vertical:  # a north-south street's name reads down it, a character at a time
        top = at[1] - len(text) * size / 2
        for k, ch in enumerate(text):
            pen.text((at[0], top + k * size), ch, font=font, fill=TEXT, anchor="mt",
                     stroke_width=2, stroke_fill=LAND)
        return
    pen.text(at, text, font=font, fill=TEXT, anchor="mm", stroke_width=2, stroke_fill=LAND)

"""Vector basemap tiles (Mapbox Vector Tiles, as OpenMapTiles, Protomaps or a GIS's own
export hold them) drawn as raster images, the same on the tablet and on the office's map:
decoded with ``mapbox_vector_tile`` and painted with Pillow, a plain style keyed on the
layer names those schemas use (water, green, buildings, roads, names), anything else drawn
as thin grey lines and pale areas so that no layer is silently dropped.

    png = to_png(tile_bytes)
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

import mapbox_vector_tile
from PIL import Image, ImageDraw

from fieldapp.capture.photo import cjk_font

SIZE = 256
LAND, WATER, GREEN, BUILDING, BUILDING_EDGE = "#f2efe9", "#aad3df", "#d8e8c8", "#d9d0c9", \
    "#bcaea2"
ROAD, MAJOR, CASING, OTHER_LINE, OTHER_AREA, TEXT = "#ffffff", "#fcd6a4", "#c8c0b4", "#b8b8b8", \
    "#ebe7df", "#3c3c3c"
# Layer names → what they are, in the order they are drawn (later over earlier).
KINDS = (("water", {"water", "ocean", "waterway", "lake", "river"}),
         ("green", {"park", "landcover", "landuse", "natural", "green", "vegetation"}),
         ("building", {"building", "buildings"}),
         ("road", {"transportation", "roads", "road", "streets", "highway"}),
         ("label", {"place", "places", "transportation_name", "water_name", "poi", "pois",
                    "road_labels", "place_label", "poi_label"}))
MAJOR_KINDS = {"motorway", "trunk", "primary", "secondary", "major_road", "highway", "主干道"}


class VectorTileError(ValueError):
    pass


def kind_of(layer: str) -> str:
    name = layer.lower()
    return next((kind for kind, names in KINDS if name in names), "other")


def decode(data: bytes) -> dict[str, Any]:
    """The tile's layers (tile coordinates, y down, 0..extent); ``VectorTileError`` if the
    bytes are not a vector tile."""
    try:
        layers = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
    except Exception as exc:  # the protobuf decoder raises its own kinds for bad bytes
        raise VectorTileError(str(exc)[:120]) from exc
    if not isinstance(layers, dict):
        raise VectorTileError("not a vector tile")
    return layers


def to_png(data: bytes, size: int = SIZE) -> bytes:
    """The tile drawn as a ``size`` × ``size`` PNG."""
    layers = decode(data)
    image = Image.new("RGB", (size, size), LAND)
    pen = ImageDraw.Draw(image)
    order = {kind: n for n, (kind, _) in enumerate(KINDS)}
    drawn = sorted(layers.items(), key=lambda item: order.get(kind_of(item[0]), -1))
    labels: list[tuple[tuple[float, float], str]] = []
    for name, layer in drawn:
        scale = size / float(layer.get("extent") or 4096)
        kind = kind_of(name)
        for feature in layer.get("features", ()):
            geometry = feature.get("geometry") or {}
            props = feature.get("properties") or {}
            _draw(pen, kind, geometry, props, scale, labels)
    for at, text in labels:
        pen.text(at, text[:24], font=cjk_font(12), fill=TEXT, anchor="mm", stroke_width=2,
                 stroke_fill=LAND)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=3)
    return out.getvalue()


def _draw(pen: ImageDraw.ImageDraw, kind: str, geometry: dict[str, Any],
          props: dict[str, Any], scale: float,
          labels: list[tuple[tuple[float, float], str]]) -> None:
    shape = geometry.get("type")
    coords: Any = geometry.get("coordinates") or []
    name = props.get("name:zh") or props.get("name")
    if shape in ("Polygon", "MultiPolygon"):
        polygons: Any = [coords] if shape == "Polygon" else coords
        fill = {"water": WATER, "green": GREEN, "building": BUILDING}.get(kind, OTHER_AREA)
        for polygon in polygons or ():
            for ring_no, ring in enumerate(polygon):
                points = _points(ring, scale)
                if len(points) >= 3:  # holes (the rings after the first) show the land
                    pen.polygon(points, fill=fill if ring_no == 0 else LAND,
                                outline=BUILDING_EDGE if kind == "building" else None)
    elif shape in ("LineString", "MultiLineString"):
        lines: Any = [coords] if shape == "LineString" else coords
        major = str(props.get("class") or props.get("kind") or "") in MAJOR_KINDS
        for line in lines or ():
            points = _points(line, scale)
            if len(points) < 2:
                continue
            if kind == "road":
                width = 6 if major else 4
                pen.line(points, fill=CASING, width=width + 2)
                pen.line(points, fill=MAJOR if major else ROAD, width=width)
            elif kind == "water":
                pen.line(points, fill=WATER, width=2)
            else:
                pen.line(points, fill=OTHER_LINE, width=1)
        if name and kind in ("road", "label") and lines and len(lines[0]) >= 2:
            k = (len(lines[0]) - 1) // 2  # the middle segment's middle
            (ax, ay), (bx, by) = lines[0][k][:2], lines[0][k + 1][:2]
            labels.append((((ax + bx) / 2 * scale, (ay + by) / 2 * scale), str(name)))
    elif shape in ("Point", "MultiPoint") and name:
        point = coords if shape == "Point" else (coords or [[0, 0]])[0]
        labels.append(((point[0] * scale, point[1] * scale), str(name)))


def _points(ring: Iterable[Sequence[float]], scale: float) -> list[tuple[float, float]]:
    return [(float(p[0]) * scale, float(p[1]) * scale) for p in ring]

"""A layer of the network from a GeoJSON file (RFC 7946), as the utility's GIS exports it.

What refuses the whole file: it is not JSON or not features, or its coordinates are not
WGS-84 degrees (an old-style ``crs`` member naming another system, or a coordinate outside
±180/±90: projected metres, as a GIS exports by default in a Gauss-Krüger zone), or two
features share an id. A feature without a geometry, or of the wrong kind for its layer, is
flagged and left out. CGCS2000 (EPSG:4490) is taken as WGS-84: they differ by centimetres.
China's GCJ-02 offset cannot be told from the numbers; the GIS must not export in it.
"""

from __future__ import annotations

import json
import math
from typing import Any

from fieldapp.network.model import (
    PIPES,
    ROADS,
    SERVICE_LINES,
    Feature,
    NetworkFileError,
    Problem,
)

DEGREES_CRS = {"EPSG:4326", "EPSG:4490", "OGC:CRS84"}
LINES = {PIPES, SERVICE_LINES, ROADS}  # the layers of lines; the others are points
ID_KEYS = ("id", "ID", "gis_id", "GISID", "FID", "编号")


def read(data: bytes | str, layer: str) -> tuple[list[Feature], list[Problem]]:
    """The layer's features and what was flagged in them; ``NetworkFileError`` when the
    file cannot be taken."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise NetworkFileError([Problem("not_json", layer, "", "error",
                                        {"reason": str(exc)[:120]})]) from exc
    kind = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
    if kind == "Feature":
        doc = {"type": "FeatureCollection", "features": [doc]}
    elif kind != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise NetworkFileError([Problem("not_features", layer, "", "error",
                                        {"found": str(kind)[:40]})])
    _check_crs(doc.get("crs"), layer)
    return take(doc["features"], layer)


def take(raws: list[Any], layer: str) -> tuple[list[Feature], list[Problem]]:
    """The layer's features from GeoJSON-shaped feature dicts (a shapefile's records come
    this way too), and what was flagged; ``NetworkFileError`` for a repeated id or
    coordinates that are not degrees."""
    features: list[Feature] = []
    problems: list[Problem] = []
    errors: list[Problem] = []
    seen: dict[str, int] = {}
    for place, raw in enumerate(raws, 1):
        raw = raw if isinstance(raw, dict) else {}
        props: dict[str, Any] = raw.get("properties") or {}
        props = props if isinstance(props, dict) else {}
        fid = _id(raw, props) or f"#{place}"
        if fid in seen:
            errors.append(Problem("duplicate_id", layer, fid, "error",
                                  {"id": fid, "other": seen[fid]}))
            continue
        seen[fid] = place
        lines, problem = _lines(raw.get("geometry"), layer, fid)
        if problem:
            (errors if problem.severity == "error" else problems).append(problem)
            continue
        features.append(Feature(layer, place, fid, lines, dict(props)))
    if errors:
        raise NetworkFileError(errors)
    return features, problems


def _check_crs(crs: Any, layer: str) -> None:
    if not isinstance(crs, dict):
        return  # RFC 7946: no crs member, WGS-84
    name = str((crs.get("properties") or {}).get("name", ""))
    short = name.upper().replace("URN:OGC:DEF:CRS:", "").replace("::", ":")
    if short.replace("OGC:1.3:", "OGC:") not in DEGREES_CRS:
        raise NetworkFileError([Problem("crs", layer, "", "error", {"crs": name[:60]})])


def _id(raw: dict[str, Any], props: dict[str, Any]) -> str:
    for value in (raw.get("id"), *(props.get(k) for k in ID_KEYS)):
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            return str(value)[:64]
    return ""


def _lines(geometry: Any, layer: str, fid: str,
           ) -> tuple[list[list[tuple[float, float]]], Problem | None]:
    if not isinstance(geometry, dict) or geometry.get("type") is None:
        return [], Problem("no_geometry", layer, fid)
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    wanted = ("LineString", "MultiLineString") if layer in LINES else ("Point",)
    if kind not in wanted:
        return [], Problem("wrong_geometry", layer, fid,
                           params={"found": str(kind)[:30], "wanted": wanted[0]})
    parts: Any = [[coords]] if kind == "Point" else [coords] if kind == "LineString" else coords
    try:
        lines = [[_point(p) for p in part] for part in parts]
    except _NotDegrees as exc:
        return [], Problem("not_degrees", layer, fid, "error", {"value": exc.args[0]})
    except (TypeError, ValueError, IndexError):
        return [], Problem("no_geometry", layer, fid)
    return lines, None


class _NotDegrees(Exception):
    pass


def _point(p: Any) -> tuple[float, float]:
    lon, lat = float(p[0]), float(p[1])
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError("not a number")
    if abs(lon) > 180 or abs(lat) > 90:
        raise _NotDegrees(f"[{p[0]}, {p[1]}]"[:60])
    return lon, lat

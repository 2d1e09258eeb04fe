"""A district's network as one file: the features of its layers that were taken, written the
same way every time (so the same network is the same bytes and the same SHA-256), for the
server to keep and the tablets to fetch and work from offline.

    data, net = pack({"pipes": pipes_geojson, "valves": valves_geojson, ...})
    net = unpack(data)  # on the tablet
"""

from __future__ import annotations

import json
from typing import Any

from fieldapp.network import geojson
from fieldapp.network.build import Network, build, normally_closed
from fieldapp.network.model import (
    LAYER_ZH,
    PIPES,
    SERVICE_LINES,
    VALVES,
    Feature,
    NetworkFileError,
    Problem,
)

FORMAT = 1


def pack(files: dict[str, bytes | str]) -> tuple[bytes, Network]:
    """The bundle of the given layers (layer → a GeoJSON file, or a zipped shapefile) and
    the network they make,
    with what was flagged; ``NetworkFileError`` when a layer cannot be taken (or is not
    one of ``LAYER_ZH``'s)."""
    unknown = sorted(set(files) - set(LAYER_ZH))
    if unknown:
        raise NetworkFileError([Problem("not_features", layer, "", "error",
                                        {"found": "未知图层"}) for layer in unknown])
    layers: dict[str, list[Feature]] = {}
    flagged: list[Problem] = []
    refused: list[Problem] = []
    for layer in sorted(files):
        try:
            layers[layer], problems = _read(files[layer], layer)
        except NetworkFileError as exc:  # every layer's refusals said at once
            refused += exc.problems
            continue
        flagged += problems
    if refused:
        raise NetworkFileError(refused)
    net = build(layers)
    net.problems[:0] = flagged
    doc = {"format": FORMAT, "layers": {layer: [
        {"id": f.id, "lines": f.lines, "properties": f.properties} for f in features]
        for layer, features in layers.items()}}
    return json.dumps(doc, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode(), net


def unpack(data: bytes) -> Network:
    """The network of a bundle ``pack`` wrote; ``NetworkFileError`` when it is not one."""
    try:
        doc: Any = json.loads(data)
        if doc["format"] != FORMAT:
            raise ValueError(f"layout {doc['format']}")
        layers = {layer: _features(layer, features)
                  for layer, features in doc["layers"].items() if layer in LAYER_ZH}
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise NetworkFileError([Problem("not_json", "pipes", "", "error",
                                        {"reason": str(exc)[:120]})]) from exc
    return build(layers)


def layer_features(data: bytes, layer: str) -> list[Feature]:
    """One layer's features of a bundle, as read (no graph built); [] without the layer."""
    try:
        doc: Any = json.loads(data)
        return _features(layer, doc["layers"].get(layer, ()))
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise NetworkFileError([Problem("not_json", layer, "", "error",
                                        {"reason": str(exc)[:120]})]) from exc


def _features(layer: str, written: Any) -> list[Feature]:
    """A layer's features as ``pack`` wrote them, read back."""
    return [Feature(layer, place, str(f["id"]),
                    [[(float(p[0]), float(p[1])) for p in line] for line in f["lines"]],
                    dict(f["properties"]))
            for place, f in enumerate(written, 1)]


def drawn(data: bytes) -> tuple[list[tuple[list[tuple[float, float]], bool]],
                                list[tuple[str, float, float, bool]]]:
    """What a map draws of a bundle, without building its graph: the pipes' and service
    lines' lines (with whether each is a service line), and the valves as (id, lon, lat,
    shut in normal operation)."""
    try:
        doc: Any = json.loads(data)
        layers = doc["layers"]
        lines = [([(float(p[0]), float(p[1])) for p in line], layer == SERVICE_LINES)
                 for layer in (PIPES, SERVICE_LINES) for f in layers.get(layer, ())
                 for line in f["lines"]]
        valves = [(str(f["id"]), float(f["lines"][0][0][0]), float(f["lines"][0][0][1]),
                   normally_closed(dict(f["properties"]))) for f in layers.get(VALVES, ())]
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise NetworkFileError([Problem("not_json", "pipes", "", "error",
                                        {"reason": str(exc)[:120]})]) from exc
    return lines, valves


def _read(data: bytes | str, layer: str) -> tuple[list[Feature], list[Problem]]:
    if isinstance(data, bytes) and data[:4] == b"PK\x03\x04":  # a zip: a shapefile's parts
        # Imported here: only the server reads shapefiles; the tablet unpacks bundles.
        from fieldapp.network import shapefile_layer

        return shapefile_layer.read(data, layer)
    return geojson.read(data, layer)

"""A PMTiles file written from tiles (with protomaps' ``pmtiles`` writer): the demo's
basemap, and a utility's own tiles gathered into one file."""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterable
from pathlib import Path

from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer

_TYPES = {"png": TileType.PNG, "jpg": TileType.JPEG, "webp": TileType.WEBP,
          "pbf": TileType.MVT}


def write_pmtiles(path: Path, tiles: Iterable[tuple[int, int, int, bytes]], *,
                  bounds: tuple[float, float, float, float], name: str,
                  attribution: str = "", image: str = "png") -> Path:
    """``tiles`` as (z, x, y, bytes), in any order, images or (``image="pbf"``) vector
    tiles; written beside ``path`` and moved into place whole, so a reader never opens half
    a file."""
    ordered = sorted(tiles, key=lambda t: zxy_to_tileid(t[0], t[1], t[2]))
    if not ordered:
        raise ValueError("no tiles to write")
    w, s, e, n = bounds
    vector = image == "pbf"  # vector tiles are kept gzipped, as tippecanoe writes them
    header = {"tile_type": _TYPES[image],
              "tile_compression": Compression.GZIP if vector else Compression.NONE,
              "min_lon_e7": round(w * 1e7), "min_lat_e7": round(s * 1e7),
              "max_lon_e7": round(e * 1e7), "max_lat_e7": round(n * 1e7),
              "center_zoom": ordered[len(ordered) // 2][0],
              "center_lon_e7": round((w + e) / 2 * 1e7),
              "center_lat_e7": round((s + n) / 2 * 1e7)}
    part = path.with_name(f"{path.name}.{os.getpid()}.part")  # two writers, two parts
    path.parent.mkdir(parents=True, exist_ok=True)
    with part.open("wb") as f:
        writer = Writer(f)  # type: ignore[no-untyped-call]
        for z, x, y, data in ordered:
            writer.write_tile(  # type: ignore[no-untyped-call]
                zxy_to_tileid(z, x, y), gzip.compress(data, mtime=0) if vector else data)
        writer.finalize(header, {  # type: ignore[no-untyped-call]
            "name": name, "attribution": attribution, "format": image, "type": "baselayer"})
    os.replace(part, path)
    return path

"""Basemap files made for the tests: tiles of one colour each, its colour telling which tile
it is, written as PMTiles (the product's writer) or MBTiles (by hand, as a GIS exports it:
rows counted from the south unless the metadata says ``scheme=xyz``)."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PIL import Image

from fieldapp.basemap.mercator import tile_of
from fieldapp.basemap.write import write_pmtiles

# A small area of 秦淮区 and the zooms the files hold.
AREA = (118.79, 32.01, 118.81, 32.03)
ZOOMS = (14, 15, 16)


def colour(z: int, x: int, y: int) -> tuple[int, int, int]:
    """Each tile's own colour: neighbours differ, so a tile drawn out of place shows."""
    return ((x * 37 + z * 11) % 200 + 30, (y * 53 + z * 7) % 200 + 30, (x + y) % 2 * 120 + 60)


def rgb(hex_colour: str) -> tuple[int, int, int]:
    """``"#aad3df"`` as (170, 211, 223): the styles' colours, as an image's pixels read."""
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


def png(rgb: tuple[int, int, int], kind: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), rgb).save(buf, kind)
    return buf.getvalue()


def coloured_tiles(area: tuple[float, float, float, float] = AREA,
                   zooms: Iterable[int] = ZOOMS) -> list[tuple[int, int, int, bytes]]:
    w, s, e, n = area
    out = []
    for z in zooms:
        (x0, y0), (x1, y1) = tile_of(w, n, z), tile_of(e, s, z)
        out += [(z, x, y, png(colour(z, x, y))) for x in range(x0, x1 + 1)
                for y in range(y0, y1 + 1)]
    return out


def pmtiles_file(path: Path, area: tuple[float, float, float, float] = AREA,
                 zooms: Iterable[int] = ZOOMS, name: str = "测试底图") -> Path:
    return write_pmtiles(path, coloured_tiles(area, zooms), bounds=area, name=name,
                         attribution="测试")


def mbtiles_file(path: Path, tiles: list[tuple[int, int, int, bytes]] | None = None, *,
                 metadata: dict[str, str] | None = None, xyz: bool = False) -> Path:
    tiles = coloured_tiles() if tiles is None else tiles
    meta = {"name": "测试 MBTiles", "format": "png",
            "bounds": ",".join(str(v) for v in AREA), **(metadata or {})}
    if xyz:
        meta["scheme"] = "xyz"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        conn.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, "
                     "tile_row INTEGER, tile_data BLOB)")
        conn.executemany("INSERT INTO metadata VALUES (?, ?)", meta.items())
        conn.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", [
            (z, x, y if xyz else 2 ** z - 1 - y, data) for z, x, y, data in tiles])
    conn.close()
    return path


def demo_district(district: str = "秦淮区") -> tuple[Path, dict[str, str], list[dict[str, Any]]]:
    """The demo's basemap of ``district`` (drawn once into the demo servers' cache), its
    network's layers and its customers."""
    from fieldapp.demo import basemap, network
    from fieldapp.demo.generate import generate
    from sync_server.seed import ROOT

    data = generate()
    districts = sorted({c["district"] for c in data.rows["customers"] if c["district"]})
    customers = [c for c in data.rows["customers"] if c["district"] == district]
    meters = {m["customer_id"]: m["barcode"] for m in data.rows["meters"]}
    code = f"D{districts.index(district) + 1}"
    layers = network.layers(customers, meters, code)
    drawn = basemap.cached(ROOT / "var" / "cache" / "demo-basemaps", f"20261124-{code}",
                           district, customers, layers)
    return drawn, layers, customers


def vector_tile(name: str = "中山路") -> bytes:
    """One vector tile as a GIS's tiler writes it: water over its left half, a road across
    it three quarters down, a building in its top right, a place's name."""
    import mapbox_vector_tile

    return mapbox_vector_tile.encode([
        {"name": "water", "features": [{"geometry": "POLYGON ((0 0, 2048 0, 2048 4096, 0 4096,"
                                                    " 0 0))", "properties": {}}]},
        {"name": "transportation", "features": [{"geometry": "LINESTRING (0 3000, 4096 3000)",
                                                 "properties": {"name": name,
                                                                "class": "primary"}}]},
        {"name": "building", "features": [{"geometry": "POLYGON ((3000 300, 3800 300, 3800 1100,"
                                                       " 3000 1100, 3000 300))",
                                           "properties": {}}]},
        {"name": "place", "features": [{"geometry": "POINT (2600 2000)",
                                        "properties": {"name": "夫子庙"}}]},
    ], default_options={"y_coord_down": True})


def vector_tiles(area: tuple[float, float, float, float] = AREA,
                 zooms: Iterable[int] = ZOOMS) -> list[tuple[int, int, int, bytes]]:
    data = vector_tile()
    return [(z, x, y, data) for z, x, y, _ in coloured_tiles(area, zooms)]

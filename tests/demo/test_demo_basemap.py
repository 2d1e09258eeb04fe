"""The demo's offline basemaps: one per district, drawn from the demo's own streets (the grid
its mains run under), compounds and buildings, imported through the same door as a
utility's file, and drawn once (kept for the next demo server)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from fieldapp.basemap.mercator import TILE, tile_of, world
from fieldapp.basemap.tiles import open_basemap
from fieldapp.demo import basemap
from sync_server.seed import seed_demo, seed_demo_networks
from sync_server.services import basemaps, network_maps
from sync_server.storage.db import open_database
from sync_server.storage.objects import FileSystemStore
from tests.basemap.basemaps import rgb


def test_every_demo_district_gets_a_basemap_of_its_streets_drawn_once(tmp_path: Path) -> None:
    db = open_database(tmp_path / "server")
    objects = FileSystemStore(tmp_path / "server" / "attachments")
    cache = tmp_path / "cache"
    try:
        seed_demo(db)
        seed_demo_networks(db, objects, cache=cache)
        drawn = sorted(cache.iterdir())
        assert len(drawn) == 6
        stamps = [p.stat().st_mtime_ns for p in drawn]
        with db.read() as conn:
            named = {d: network_maps.current(conn, d, basemaps.PREFIX)
                     for d in network_maps.known_districts(conn)}
        # Another demo server, on its own data: the drawn files are used again, not redrawn.
        other = open_database(tmp_path / "other")
        try:
            seed_demo(other)
            seed_demo_networks(other, FileSystemStore(tmp_path / "other" / "attachments"),
                               cache=cache)
        finally:
            other.close()
        assert [p.stat().st_mtime_ns for p in sorted(cache.iterdir())] == stamps
    finally:
        db.close()
    assert len(named) == 6 and all(s and s["kind"] == "pmtiles" for s in named.values())
    sha = named["秦淮区"]["sha256"]  # type: ignore[index]
    with open_basemap(tmp_path / "server" / "attachments" / sha[:2] / sha) as found:
        assert (found.name, found.min_zoom, found.max_zoom) == ("秦淮区", 13, 17)
        assert "演示" in found.attribution
        # A street of the district, where its main runs: drawn as a street at zoom 17.
        sheet = basemap_sheet("秦淮区")
        (lon1, lat1), (lon2, lat2) = sheet.roads[1][0]
        lon, lat = (lon1 + lon2) / 2, (lat1 + lat2) / 2
        x, y = tile_of(lon, lat, 17)
        wx, wy = world(lon, lat, 17)
        image = Image.open(io.BytesIO(found.tile(17, x, y) or b"")).convert("RGB")
        street = image.getpixel((int(wx - x * TILE), int(wy - y * TILE)))
        assert street in (rgb(basemap.ROAD), rgb(basemap.MAIN_ROAD))
        assert rgb(basemap.LAND) in {c for _, c in image.getcolors(1 << 16) or []}


def basemap_sheet(district: str) -> basemap.Sheet:
    from fieldapp.demo import network
    from fieldapp.demo.generate import generate

    data = generate()
    customers = [c for c in data.rows["customers"] if c["district"] == district]
    meters = {m["customer_id"]: m["barcode"] for m in data.rows["meters"]}
    n = sorted({c["district"] for c in data.rows["customers"]}).index(district) + 1
    return basemap.sheet(district, customers, network.layers(customers, meters, f"D{n}"))

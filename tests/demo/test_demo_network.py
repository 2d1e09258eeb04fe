"""The demo's gas networks: one per district, imported through the same door as a utility's
GIS layers, clean of problems, and answering at a demo customer's leak."""

from __future__ import annotations

from pathlib import Path

from fieldapp.demo.generate import generate
from fieldapp.network.bundle import unpack
from fieldapp.network.isolation import isolate
from sync_server.seed import seed_demo, seed_demo_networks
from sync_server.services import network_maps
from sync_server.storage.db import open_database
from sync_server.storage.objects import FileSystemStore


def test_every_demo_district_gets_a_network_once(tmp_path: Path):
    db = open_database(tmp_path)
    objects = FileSystemStore(tmp_path / "attachments")
    try:
        seed_demo(db)
        assert seed_demo_networks(db, objects) == 6
        assert seed_demo_networks(db, objects) == 0  # a restart imports nothing again
        customer = next(c for c in generate().rows["customers"] if c["district"] == "秦淮区")
        with db.read() as conn:
            settings = {d: network_maps.current(conn, d)
                        for d in network_maps.known_districts(conn)}
    finally:
        db.close()
    assert len(settings) == 6 and all(s and s["flagged"] == 0 for s in settings.values())
    sha = settings["秦淮区"]["sha256"]
    net = unpack((tmp_path / "attachments" / sha[:2] / sha).read_bytes())
    found = isolate(net, customer["lat"], customer["lon"])
    assert found.off_pipe_m < 1 and len(found.close) == 16 and not found.unvalved_sources
    assert customer["id"] in {s["customer"] for s in found.affected_service_lines}

"""The demo data set loaded into the server (``--demo``): users, customers, jobs, KB.

Its rows go through the records write door (``services.records``) like any import.
"""

from __future__ import annotations

from pathlib import Path

from sync_server.services import auth, basemaps, network_maps
from sync_server.services.records import insert_records, seed_forms
from sync_server.storage.db import Storage
from sync_server.storage.objects import ObjectStore

ROOT = Path(__file__).resolve().parents[1]


def seed_demo(db: Storage, seed: int = 20261124) -> dict[str, int]:
    """Load the seeded demo data set (users, customers, jobs, KB) once; returns row counts."""
    from fieldapp.demo.generate import generate

    data = generate(seed)
    counts: dict[str, int] = {}
    with db.write() as conn:
        seed_forms(conn)
        if conn.execute("SELECT count(*) FROM customers").fetchone()[0]:
            return counts  # already seeded: keep whatever work was synced since
        for user in data.users:
            auth.add_user(conn, user["username"], user["display_name"], user["role"],
                          user["password"], user.get("district"), user.get("skills"))
        for table, rows in data.rows.items():
            counts[table] = insert_records(conn, table, rows)
    return counts


def seed_demo_networks(db: Storage, objects: ObjectStore, seed: int = 20261124,
                       cache: Path | None = None) -> int:
    """Each demo district's gas network (``fieldapp.demo.network``), imported as a utility's
    GIS layers are, and its offline basemap drawn from the same streets
    (``fieldapp.demo.basemap``), for the districts that have none yet; how many networks
    were imported. Drawing a district's basemap takes seconds: each is kept in ``cache``
    (``var/cache/demo-basemaps``) for the next demo server."""
    from fieldapp.demo import basemap, network
    from fieldapp.demo.generate import generate

    data = generate(seed)
    meters = {m["customer_id"]: m["barcode"] for m in data.rows["meters"]}
    districts = sorted({c["district"] for c in data.rows["customers"] if c["district"]})
    cache = cache or ROOT / "var" / "cache" / "demo-basemaps"
    done = 0
    for n, district in enumerate(districts, 1):
        with db.read() as conn:
            has_network = network_maps.current(conn, district) is not None
            has_basemap = network_maps.current(conn, district, basemaps.PREFIX) is not None
        if has_network and has_basemap:
            continue
        customers = [c for c in data.rows["customers"] if c["district"] == district]
        layers = network.layers(customers, meters, f"D{n}")
        if not has_network:
            checked = network_maps.check({k: v.encode() for k, v in layers.items()})
            with db.write() as conn:
                done += network_maps.install(conn, objects, district, checked, "demo")
        if not has_basemap:
            found = basemaps.check(
                basemap.cached(cache, f"{seed}-D{n}", district, customers, layers))
            basemaps.store(objects, found)
            with db.write() as conn:
                basemaps.install(conn, district, found, "demo")
    return done

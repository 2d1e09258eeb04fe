"""The demo data set loaded into the server (``--demo``): users, customers, jobs, KB.

Its rows go through the records write door (``services.records``) like any import.
"""

from __future__ import annotations

from sync_server.services import auth, network_maps
from sync_server.services.records import insert_records, seed_forms
from sync_server.storage.db import Storage
from sync_server.storage.objects import ObjectStore


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


def seed_demo_networks(db: Storage, objects: ObjectStore, seed: int = 20261124) -> int:
    """Each demo district's gas network (``fieldapp.demo.network``), imported as a utility's
    GIS layers are, for the districts that have none yet; how many were imported."""
    from fieldapp.demo import network
    from fieldapp.demo.generate import generate

    data = generate(seed)
    meters = {m["customer_id"]: m["barcode"] for m in data.rows["meters"]}
    districts = sorted({c["district"] for c in data.rows["customers"] if c["district"]})
    done = 0
    for n, district in enumerate(districts, 1):
        with db.read() as conn:
            if network_maps.current(conn, district) is not None:
                continue
        customers = [c for c in data.rows["customers"] if c["district"] == district]
        checked = network_maps.check(
            {k: v.encode() for k, v in network.layers(customers, meters, f"D{n}").items()})
        with db.write() as conn:
            done += network_maps.install(conn, objects, district, checked, "demo")
    return done

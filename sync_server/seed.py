"""The demo data set loaded into the server (``--demo``): users, customers, jobs, KB.

Its rows go through the records write door (``services.records``) like any import.
"""

from __future__ import annotations

from sync_server.services import auth
from sync_server.services.records import insert_records, seed_forms
from sync_server.storage.db import Storage


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

"""Records written by the server itself rather than pushed by a device: the utility's shared
settings, the shipped forms, imported or seeded rows. Each goes through the change log like
any other change, so devices pull it.

    insert_records(conn, "customers", rows)        # insert or overwrite by id, logged
    publish_setting(conn, "utility_name", "…")     # a shared setting; devices pull it
    utility_name(conn)                             # as the documents read it
    seed_forms(conn)                               # the forms shipped in resources/forms
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from fieldapp.forms.checklist import bundled_definitions
from fieldapp.records import TABLES
from sync_server.services import audit
from sync_server.storage.db import Connection, utc_now

SEED_HLC = "000000000000000000:00000:seed"
BLOCK = 1000  # records written by one statement


def insert_records(conn: Connection, table: str, rows: Iterable[dict[str, Any]],
                   by_user: str = "system") -> int:
    """Insert (or overwrite, by id) records with a change-log entry each; returns how many.
    Written in blocks of ``BLOCK``: the chain computed in memory, then one statement for
    the block's log entries and one for its records."""
    spec = TABLES[table]
    cols = ["id", *spec.columns, "version", "hlc"]
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols[1:])
    insert = (f'INSERT INTO "{table}" ({",".join(cols)}) VALUES ({",".join("?" * len(cols))})'
              f" ON CONFLICT (id) DO UPDATE SET {updates}")
    now = utc_now()
    n = 0
    for block in _blocks(rows, BLOCK):
        values = [[row.get(c) for c in spec.columns] for row in block]
        seqs = audit.log_many(conn, [{
            "tbl": table, "record_id": row["id"],
            "customer_id": row["id"] if table == "customers" else row.get("customer_id"),
            "op": "insert",
            "fields": json.dumps(dict(zip(spec.columns, fields, strict=True)),
                                 ensure_ascii=False),
            "hlc": SEED_HLC, "by_user": by_user, "device_id": "server", "at": now}
            for row, fields in zip(block, values, strict=True)])
        conn.executemany(insert, [[row["id"], *fields, seq, SEED_HLC]
                                  for row, fields, seq in zip(block, values, seqs,
                                                              strict=True)])
        n += len(block)
    return n


def _blocks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    block: list[dict[str, Any]] = []
    for row in rows:
        block.append(row)
        if len(block) == size:
            yield block
            block = []
    if block:
        yield block


def publish_setting(conn: Connection, key: str, value: str, by_user: str = "system") -> bool:
    """Set one of the utility's shared settings; devices pull it. False when unchanged."""
    current = conn.execute("SELECT value FROM org_settings WHERE id = ?", [key]).fetchone()
    if current is not None and current[0] == value:
        return False
    insert_records(conn, "org_settings", [{"id": key, "value": value}], by_user)
    return True


def utility_name(conn: Connection) -> str:
    """The utility's name as published (``--utility-name``), read as the documents read it."""
    from fieldapp.reports import report_data

    return report_data.utility_name(
        lambda sql, params: [dict(r) for r in conn.execute(sql, list(params)).fetchall()])


def seed_forms(conn: Connection) -> None:
    rows = [{"id": f"form-{code}-v{version}", "code": code, "form_version": version,
             "title": definition["title"]["zh"],
             "definition": json.dumps(definition, ensure_ascii=False)}
            for (code, version), definition in bundled_definitions().items()]
    existing = {r[0] for r in conn.execute("SELECT id FROM form_definitions")}
    insert_records(conn, "form_definitions", [r for r in rows if r["id"] not in existing])

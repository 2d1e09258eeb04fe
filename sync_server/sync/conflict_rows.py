"""What the server keeps of a value it did not apply: a conflict row for review, naming
the customer it concerns (what district-scoped review filters by), and what a revoked
tablet hands in before it erases its data."""

from __future__ import annotations

import json
from typing import Any

from fieldapp.records import TABLES
from fieldapp.wire import Mutation, MutationResult
from sync_server.services.auth import Principal
from sync_server.storage.db import Connection, utc_now
from sync_server.storage.rows import current_row, tombstone


def hand_in(conn: Connection, mutations: list[Mutation], who: Principal) -> int:
    """Keep for review the refused changes a revoked tablet hands in before it erases its
    data: each value next to the server's. Only changes this server refused count, each
    once (a hand-in repeated after a lost answer adds nothing); returns how many are kept."""
    kept = 0
    for m in mutations:
        done = conn.execute("SELECT result FROM mutation_results WHERE mutation_id = ?"
                            " AND coalesce(device_id, ?) = ?",
                            [m.mutation_id, who.device_id, who.device_id]).fetchone()
        if done is None or m.table not in TABLES:
            continue
        result = MutationResult.model_validate_json(done[0])
        already = conn.execute("SELECT 1 FROM conflicts WHERE mutation_id = ? AND reason"
                               " LIKE 'handed_in%'", [m.mutation_id]).fetchone()
        if result.status != "rejected" or already:
            continue
        row = current_row(conn, m.table, m.record_id) or {}
        reason = f"handed_in:{result.reason}"
        for field, value in (m.fields.items() if m.op != "delete" else [(None, "deleted")]):
            if field is None or field in TABLES[m.table].columns:
                preserve(conn, m, who, field, row.get(field) if field else None, value,
                          reason)
        kept += 1
    return kept


def preserve(conn: Connection, m: Mutation, who: Principal, field: str | None, kept: Any,
              preserved: Any, reason: str, made_by: dict[str, Any] | None = None) -> int:
    """Keep a losing value for review. It came from this mutation, unless ``made_by`` (its
    hlc, by_user, device_id, mutation_id) names an earlier change: a delete overridden."""
    src = made_by or {"hlc": m.hlc, "by_user": who.username, "device_id": who.device_id,
                      "mutation_id": m.mutation_id}
    return int(conn.execute(
        "INSERT INTO conflicts(tbl, record_id, field, reason, kept, preserved, preserved_hlc,"
        " preserved_by, preserved_device, mutation_id, at, customer_id)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
        [m.table, m.record_id, field, reason, json.dumps(kept, ensure_ascii=False),
         json.dumps(preserved, ensure_ascii=False), src["hlc"], src["by_user"],
         src["device_id"], src["mutation_id"], utc_now(), customer_of(conn, m)]).fetchone()[0])


def customer_of(conn: Connection, m: Mutation) -> str | None:
    """The customer a mutation concerns (what district-scoped review filters by): the
    record's own, else the one the mutation names, else a deleted record's."""
    if m.table == "customers":
        return m.record_id
    spec = TABLES.get(m.table)
    if spec is None or not spec.scoped:
        return None
    row = current_row(conn, m.table, m.record_id) or tombstone(conn, m.table, m.record_id)
    found = row.get("customer_id") if row else None
    named = m.fields.get("customer_id")
    return found or (named if isinstance(named, str) else None)

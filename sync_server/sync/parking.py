"""Mutations waiting for their parent record, and the stored answer to every mutation.

A device's mutation may arrive before the record it belongs to (an answer before its
submission, an edit before the insert it follows: batches from two devices, or reordered
by retries). Refusing it would lose it; instead it is *parked*: stored whole with the
principal that sent it, listed for review (a conflict with reason ``awaiting_parent``), and
answered ``parked``. When the parent lands, every mutation waiting for it is applied as
its sender would have had it applied, its stored answer replaced by the outcome, and its
review entry closed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict

from fieldapp.wire import Mutation, MutationResult
from sync_server.services.auth import Principal
from sync_server.storage import deferred
from sync_server.storage.db import Connection, utc_now

Apply = Callable[..., MutationResult]
# Inside ``watching``: the parent tables anything waits for (none: no lookup per insert).
_waited_for: ContextVar[set[str] | None] = ContextVar("waited_for", default=None)


@contextmanager
def watching(conn: Connection) -> Iterator[None]:
    """For one push: which tables have mutations waiting, read once, so that a landed
    record whose table nothing waits for is not looked up (most inserts)."""
    token = _waited_for.set({r[0] for r in conn.execute(
        "SELECT DISTINCT parent_table FROM parked WHERE applied_at IS NULL")})
    try:
        yield
    finally:
        _waited_for.reset(token)


def park(conn: Connection, m: Mutation, who: Principal, batch_id: str, parent_table: str,
         parent_id: str, conflict_id: int) -> MutationResult:
    """Keep ``m`` until ``parent_table``/``parent_id`` arrives; answer it ``parked``."""
    waited_for = _waited_for.get()
    if waited_for is not None:
        waited_for.add(parent_table)
    conn.execute(
        "INSERT INTO parked(mutation_id, device_id, principal, parent_table, parent_id,"
        " mutation, batch_id, at, conflict_id) VALUES (?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT (mutation_id) DO UPDATE SET parent_table = excluded.parent_table,"
        " parent_id = excluded.parent_id, conflict_id = excluded.conflict_id, applied_at = NULL",
        [m.mutation_id, who.device_id, json.dumps(asdict(who)), parent_table, parent_id,
         m.model_dump_json(), batch_id, utc_now(), conflict_id])
    return MutationResult(mutation_id=m.mutation_id, status="parked", reason="awaiting_parent",
                          message=f"kept until {parent_table} {parent_id} arrives")


def record_result(conn: Connection, mutation_id: str, result: MutationResult,
                  device_id: str, digest: str | None) -> None:
    """The answer a resend of this mutation gets (a parked one's is replaced later)."""
    deferred.write(
        conn, "mutation_results",
        "INSERT INTO mutation_results(mutation_id, result, device_id, digest) VALUES (?,?,?,?)"
        " ON CONFLICT (mutation_id) DO UPDATE SET result = excluded.result",
        [mutation_id, result.model_dump_json(), device_id, digest])


def release(conn: Connection, table: str, record_id: str, apply: Apply) -> int:
    """Apply the mutations waiting for ``table``/``record_id``, which has just landed;
    returns how many were applied (or, refused now, kept with the new reason)."""
    waited_for = _waited_for.get()
    if waited_for is not None and table not in waited_for:
        return 0
    waiting = conn.execute(
        "SELECT * FROM parked WHERE parent_table = ? AND parent_id = ? AND applied_at IS NULL"
        " ORDER BY id", [table, record_id]).fetchall()
    for row in waiting:
        m = Mutation.model_validate_json(row["mutation"])
        who = Principal(**json.loads(row["principal"]))
        digest = conn.execute("DELETE FROM mutation_results WHERE mutation_id = ?"
                              " RETURNING digest", [m.mutation_id]).fetchone()
        conn.execute("UPDATE parked SET applied_at = ? WHERE id = ?", [utc_now(), row["id"]])
        result = apply(conn, m, who, row["batch_id"], digest=digest[0] if digest else None)
        # Its review entry is closed: applied, refused (kept again with that reason) or,
        # parked again for another parent, listed anew.
        conn.execute(
            "UPDATE conflicts SET resolved_at = ?, resolved_by = 'system', resolution = ?"
            " WHERE id = ?", [utc_now(), json.dumps(
                {"choice": "arrived", "status": result.status, "reason": result.reason},
                ensure_ascii=False), row["conflict_id"]])
    return len(waiting)

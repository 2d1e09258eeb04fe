"""A device's push, as a whole batch: what is refused before anything is applied, then each
mutation through the merge (``merge.apply_mutation``) in one transaction.

Refused whole, with nothing applied (the device can fix nothing by resending, so these are
request errors, not per-mutation answers):

    422 bad_hlc             an HLC not written canonically, or naming another device
    409 batch_id_reused     a batch id already used by another device, or with other content
    409 mutation_id_reused  a mutation id already used by another device, or with other content

A batch id and a mutation id belong to the device that first sent them, with a digest of
what they carried: the same device resending the same batch (its answer was lost) gets the
stored answer, marked ``replayed``; nobody else can reach that answer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from fieldapp.domain.roles import TECHNICIAN
from fieldapp.hlc import Timestamp, canonical
from fieldapp.wire import MAX_SKEW_MS, Mutation, PushRequest, PushResponse
from sync_server import faults
from sync_server.clock import ServerClock
from sync_server.errors import ApiError
from sync_server.services import audit
from sync_server.services.auth import Principal
from sync_server.storage import deferred, rows
from sync_server.storage.db import Connection, utc_now
from sync_server.sync import merge, moved, parking, write_checks

# Mutations whose held writes are sent together (``deferred.send``): few enough that the
# database has the first ones written while the rest are merged, many enough that each
# table's rows still go as one statement of arrays.
SEND_EVERY = 100


def digest(m: Mutation) -> str:
    """What a mutation carries, as sent (before the server bounds its clock)."""
    return hashlib.sha256(m.model_dump_json().encode()).hexdigest()


def check_clocks(mutations: list[Mutation], who: Principal) -> None:
    """Every HLC canonical and stamped by the pushing device, so that stamps compare by
    value and no device can sort its changes as another's."""
    for m in mutations:
        try:
            stamp = canonical(m.hlc)
        except ValueError as exc:
            raise ApiError(422, "bad_hlc", f"mutation {m.mutation_id}: {exc}") from exc
        if stamp.node != who.device_id:
            raise ApiError(422, "bad_hlc", f"mutation {m.mutation_id}: the HLC names device"
                           f" {stamp.node[:64]!r}, not {who.device_id!r}")


@dataclass(frozen=True)
class Prepared:
    """What a batch needs that reads nothing stored, worked out before the write lock is
    taken: on PostgreSQL every other writer waits while a push holds it, so the lock covers
    the reads, the merge and the writes only."""
    digests: dict[str, str]  # mutation id → what it carried, as sent
    whole: str  # the batch's digest
    mutations: list[Mutation]  # in order, their clocks bounded
    checks: list[write_checks.Checked]  # each one's shape check and authorship stamp


def prepare(body: PushRequest, who: Principal, clock: ServerClock) -> Prepared:
    digests = {m.mutation_id: digest(m) for m in body.mutations}
    whole = hashlib.sha256(json.dumps([digests[m.mutation_id] for m in body.mutations])
                           .encode()).hexdigest()
    mutations = [bounded(m, clock) for m in body.mutations]
    return Prepared(digests, whole, mutations,
                    [write_checks.precheck(m, who) for m in mutations])


def push_batch(conn: Connection, body: PushRequest, who: Principal,
               clock: ServerClock, prepared: Prepared | None = None) -> PushResponse:
    """Apply a batch (or answer its repeat) inside the caller's write transaction;
    ``prepared`` is ``prepare``'s, done before the transaction (else here)."""
    prepared = prepared or prepare(body, who, clock)
    digests, whole = prepared.digests, prepared.whole
    stored = conn.execute("SELECT response, device_id, digest FROM batches WHERE batch_id = ?",
                          [body.batch_id]).fetchone()
    if stored:
        if stored["device_id"] != who.device_id or stored["digest"] not in (None, whole):
            raise ApiError(409, "batch_id_reused", f"batch {body.batch_id} was already sent"
                           " with other mutations or by another device; nothing was applied")
        replay = PushResponse.model_validate_json(stored["response"])
        return replay.model_copy(update={"replayed": True})
    answered = _check_ids(conn, body.mutations, digests, who)
    results = []
    with (audit.appending(), rows.cached(), moved.tracking(), parking.watching(conn),
          deferred.holding(conn) as conn):
        _prefetch(conn, body.mutations, who)
        for m, checked in zip(prepared.mutations, prepared.checks, strict=True):
            new = m.mutation_id not in answered
            answered.add(m.mutation_id)  # a repeat later in the batch gets this answer
            results.append(merge.apply_mutation(conn, m, who, body.batch_id, new=new,
                                                digest=digests[m.mutation_id],
                                                checked=checked))
            faults.after_mutation(len(results))
            if len(results) % SEND_EVERY == 0:
                deferred.send(conn)
    response = PushResponse(batch_id=body.batch_id, results=results,
                            server_hlc=clock.now())
    conn.execute("INSERT INTO batches(batch_id, device_id, response, at, digest)"
                 " VALUES (?, ?, ?, ?, ?)",
                 [body.batch_id, who.device_id, response.model_dump_json(), utc_now(), whole])
    return response


def _prefetch(conn: Connection, mutations: list[Mutation], who: Principal) -> None:
    """What the merge reads per mutation, read in a query a table for the whole batch:
    its records, the records they name as parents, whether this technician has jobs of
    the customers it edits, and who else changed the records it updates."""
    wanted: dict[str, set[str]] = {}
    updated: dict[str, dict[str, int]] = {}  # table → record → the oldest version seen
    customers: set[str] = set()
    for m in mutations:
        wanted.setdefault(m.table, set()).add(m.record_id)
        named = m.record_id if m.table == "customers" else m.fields.get("customer_id")
        if isinstance(named, str):
            customers.add(named)
        if m.op == "update":
            seen = updated.setdefault(m.table, {})
            seen[m.record_id] = min(seen.get(m.record_id, m.base_version), m.base_version)
        for name, table in write_checks.PARENTS.items():
            if isinstance(m.fields.get(name), str):  # any other value is refused by its check
                wanted.setdefault(table, set()).add(m.fields[name])
    # Every question sent before any answer is read: one round trip on PostgreSQL.
    readers = [read for table, ids in wanted.items() for read in rows.ask(conn, table, ids)]
    if who.role == TECHNICIAN:  # only a technician's scope is their jobs' customers
        readers += rows.ask_jobs_of(conn, who.username, customers)
    if who.device_id is not None:
        for table, after in updated.items():
            readers += moved.ask(conn, who.device_id, table, after)
    for read in readers:
        read()


def _check_ids(conn: Connection, mutations: list[Mutation], digests: dict[str, str],
               who: Principal) -> set[str]:
    """A mutation id seen before must be this device's, with the same content (a resend
    in a new batch is answered from its stored result, as a repeat within one batch).
    Returns the ids that already have a stored answer."""
    seen: dict[str, str] = {}
    for m in mutations:
        if seen.setdefault(m.mutation_id, digests[m.mutation_id]) != digests[m.mutation_id]:
            raise _reused(m.mutation_id)
    answered = set()
    for chunk in rows.chunks(list(seen)):
        for row in conn.execute(
                "SELECT mutation_id, device_id, digest FROM mutation_results WHERE mutation_id"
                f" {rows.AMONG}", [rows.among(chunk)]):
            if (row["device_id"] not in (None, who.device_id)
                    or row["digest"] not in (None, digests[row["mutation_id"]])):
                raise _reused(row["mutation_id"])
            answered.add(row["mutation_id"])
    return answered


def _reused(mutation_id: str) -> ApiError:
    return ApiError(409, "mutation_id_reused", f"mutation {mutation_id} was already sent with"
                    " other content or by another device; nothing was applied")


def bounded(m: Mutation, clock: ServerClock) -> Mutation:
    """Clamp a device's HLC to the server's wall time plus MAX_SKEW_MS.

    A tablet whose clock runs hours ahead would otherwise win every last-writer-wins
    conflict; clamped, its changes order as if made at most MAX_SKEW_MS in the future.
    """
    stamp = Timestamp.parse(m.hlc)
    limit = clock.wall_ms() + MAX_SKEW_MS
    if stamp.wall_ms > limit:
        m = m.model_copy(update={"hlc": str(Timestamp(limit, stamp.counter, stamp.node))})
    clock.observe(m.hlc)
    return m

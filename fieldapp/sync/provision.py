"""An empty tablet's first sync in bulk: the server sends the device's whole scope as one
snapshot (``/sync/snapshot``), the tablet loads it with plain prepared inserts in one
transaction, builds the knowledge-base index once, and its pulls go on by cursor from the
snapshot's (taken in the same server transaction as the rows, so nothing is missed or
applied twice).

Only a replica with nothing in it takes this path: no cursor, no outbox row, no file, no
record. Anything else (unsent work, a replica set to pull again after a server restore) goes
through the merge of ``apply.py``, which keeps local work. A download cut off or a load that
fails leaves the replica as it was (the load is one transaction); the next sync asks again.

``FIELDAPP_FIRST_SYNC=pages`` provisions page by page through the merge instead (as before
the snapshot, and as the tests run both ways).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from fieldapp.changes import Changes
from fieldapp.errors import ServerRejected, ServerUnreachable
from fieldapp.records import TABLES
from fieldapp.replica.store import DatabaseError, OperationalError, kb_fts_triggers
from fieldapp.sync.progress import Progress, ProgressFn
from fieldapp.wire import SnapshotEnd, SnapshotHead, SnapshotTable

if TYPE_CHECKING:
    from fieldapp.replica import Replica
    from fieldapp.sync.client import SyncClient, SyncReport

FIRST_SYNC_ENV = "FIELDAPP_FIRST_SYNC"
SNAPSHOT_FORMAT = 2  # the snapshot layout this tablet reads: JSON lines, loaded as they come
# A server from before snapshots (404), an account whose scope is pulled by cursor (409),
# or a server from before the streamed layout (422).
NO_SNAPSHOT = (404, 409, 422)
# The page cache of a load (KiB, as SQLite takes a negative size): a tablet's 28,000
# records are about 16 MB of pages; given back at the end of the load.
LOAD_CACHE_KIB = -64 * 1024
log = logging.getLogger("fieldapp.sync")


def first_sync(client: SyncClient, report: SyncReport, notify: ProgressFn) -> bool:
    """Provision an empty replica from a snapshot, if it is one; then the cursor pull goes
    on from the snapshot's cursor (or from 0, as before, when no snapshot was taken).
    False when the snapshot came from another server history than the one this tablet
    knew: the sync starts over."""
    if os.environ.get(FIRST_SYNC_ENV) == "pages" or not client._db(lambda: is_empty(client.r)):
        return True
    notify(Progress("pull", 0, 0))  # busy: the snapshot is being prepared and sent
    try:
        with client._lines("GET", "/api/v1/sync/snapshot",
                           params={"format": SNAPSHOT_FORMAT}) as lines:
            try:
                snap = read(lines)
            except _Unfit as exc:  # not a snapshot this tablet reads: pull by pages
                log.warning("the server's snapshot could not be read (%s): pulling by pages",
                            exc)
                return True
            if client._see_epoch(snap.head.epoch, report):
                return False
            loaded = client._db(lambda: load(client.r, snap, lambda n: notify(
                Progress("pull", n, snap.head.rows))))
    except ServerRejected as exc:
        if exc.status in NO_SNAPSHOT:
            return True
        raise
    if loaded:
        report.pulled += loaded
        # The screens redraw what a sync changed: here, every table that came in.
        report.changes = report.changes | Changes(frozenset(snap.tables), frozenset())
    return True


@dataclass
class Streamed:
    """A streamed snapshot being read: its header, and its lines still to come."""
    head: SnapshotHead
    lines: Iterator[bytes]
    tables: set[str] = field(default_factory=set)  # those whose rows have been read

    def chunks(self) -> Iterator[SnapshotTable]:
        """The tables' lines as they come, up to the end line; lines that stop before it
        are a cut download (``ServerUnreachable``), one that is not a table's rows unfit."""
        for line in self.lines:
            try:
                chunk = SnapshotTable.model_validate_json(line)
            except ValidationError as exc:
                with suppress(ValidationError):  # not a table's: the end line, or unfit
                    SnapshotEnd.model_validate_json(line)
                    return
                raise _Unfit(f"a snapshot line is not a table's rows: {exc}") from exc
            self.tables.add(chunk.table)
            yield chunk
        raise ServerUnreachable("snapshot_cut", "the snapshot stopped before its end")


def read(lines: Iterable[bytes]) -> Streamed:
    """A streamed snapshot from its lines, its header read; ``_Unfit`` when the header is
    not one this tablet reads."""
    lines = iter(lines)
    try:
        head = SnapshotHead.model_validate_json(next(lines, b""))
    except ValidationError as exc:
        raise _Unfit(str(exc)) from exc
    if head.format != SNAPSHOT_FORMAT:
        raise _Unfit(f"the server sent snapshot layout {head.format}")
    return Streamed(head, lines)


def is_empty(replica: Replica) -> bool:
    """Nothing pulled, captured or queued on this replica yet."""
    if int(replica.state("cursor") or 0) != 0:
        return False
    db = replica.db
    if db.execute("SELECT EXISTS (SELECT 1 FROM outbox) OR EXISTS (SELECT 1 FROM blobs)"
                  ).fetchone()[0]:
        return False
    return not any(db.execute(f"SELECT EXISTS (SELECT 1 FROM [{table}])").fetchone()[0]
                   for table in TABLES)


def load(replica: Replica, snap: Streamed,
         on_rows: Callable[[int], None] | None = None) -> int:
    """Insert the snapshot's rows as they come and its cursor, in one transaction; the
    number of records loaded, 0 when the replica was no longer empty or the rows did not fit
    (nothing is written then, and the pull by pages brings them). A download cut off half
    way is raised, with nothing written."""
    done = 0
    conn = replica.db.conn
    cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    # The whole load in memory until the commit: spilled to disk early, the pages an
    # insert touches again are encrypted and written again (about 5% of the load).
    conn.execute(f"PRAGMA cache_size = {LOAD_CACHE_KIB}")
    journal = False
    try:
        journal = _leave_wal(conn)
        with replica.transaction():
            if not is_empty(replica):
                return 0  # something was captured since the question: merge instead
            # The text index and the tables' own indexes are built once from the loaded
            # rows (a sort each), not row by row through triggers and index inserts; both
            # are put back in the same transaction, and a failed load rolls back to them.
            triggers, indexes = kb_fts_triggers(), _indexes(conn)
            for name in triggers:
                conn.execute(f"DROP TRIGGER {name}")
            for name in indexes:
                conn.execute(f"DROP INDEX [{name}]")
            for chunk in snap.chunks():
                rows = _rows(chunk)
                if rows is None:
                    continue
                names = ["id", *TABLES[chunk.table].columns, "version", "hlc"]
                conn.executemany(
                    f"INSERT INTO [{chunk.table}] ({', '.join(f'[{c}]' for c in names)})"
                    f" VALUES ({', '.join('?' * len(names))})", rows)
                done += len(rows)
                if on_rows:
                    on_rows(done)
            if done != snap.head.rows:  # the server's own count: a line went missing
                raise _Unfit(f"{done} records came of the {snap.head.rows} announced")
            for sql in indexes.values():  # a unique one over duplicates fails: unfit
                conn.execute(sql)
            conn.execute("INSERT INTO kb_fts(kb_fts) VALUES ('rebuild')")
            for sql in triggers.values():
                conn.execute(sql)
            conn.execute("INSERT INTO sync_state(key, value) VALUES ('cursor', ?)"
                         " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                         [str(snap.head.cursor)])
    except (*DatabaseError, IndexError, _Unfit) as exc:  # rows that break a constraint, too
        # short, or a table without ids: the pages bring them
        log.warning("the snapshot could not be loaded (%s): pulling by pages", exc)
        return 0
    finally:
        conn.execute(f"PRAGMA cache_size = {int(cache)}")
        if journal:
            conn.execute("PRAGMA journal_mode = WAL")
    replica.observe(snap.head.server_hlc)
    return done


def _leave_wal(conn: Any) -> bool:
    """Load with a rollback journal instead of the write-ahead log, if nothing else has the
    file open: in the log, the load's 15 MB of pages are written twice (to the log at the
    commit, then to the file at its checkpoint, each synced), with a rollback journal once
    (about 15% of the load). The journal holds only the few pages the empty replica had, and
    a killed load is rolled back from it when the replica next opens, as from the log. True
    when the journal is in use (the caller puts the log back)."""
    busy = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute("PRAGMA busy_timeout = 0")  # another connection: at once, not in 10 s
    try:
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
    except OperationalError:  # another connection has the file open: load in the log
        return False
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(busy)}")
    return str(mode).lower() == "delete"


def _indexes(conn: Any) -> dict[str, str]:
    """The declared indexes of the synced tables, by name (those of their primary keys and
    UNIQUE columns have no SQL: they stay, and so do their checks on every insert)."""
    marks = ", ".join("?" * len(TABLES))
    return dict(conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({marks})", list(TABLES)).fetchall())


class _Unfit(Exception):
    """A table of the snapshot that cannot be loaded as it is."""


def _rows(table: SnapshotTable) -> list[Any] | None:
    """The table's rows in this tablet's column order (a column it lacks is empty, one it
    does not know is left out); None for a table this client version does not know (the
    pulls ignore those too)."""
    spec = TABLES.get(table.table)
    if spec is None:
        return None
    names = ["id", *spec.columns, "version", "hlc"]
    if table.columns == names:
        rows = table.rows
    else:
        where = {c: i for i, c in enumerate(table.columns)}
        if "id" not in where:  # records without ids would be records no pull could correct
            raise _Unfit(f"{table.table} has no id column")
        picks = [where.get(c) for c in names]
        rows = [[row[i] if i is not None else None for i in picks] for row in table.rows]
    _check_keys(table.table, rows, len(names) - 2)
    return rows


def _check_keys(table: str, rows: list[Any], version: int) -> None:
    """What the pull's model checks of each record (``RecordChange``): a text id and a
    whole-number version; its other values are taken as they come, as a pulled row's are.
    Checked here rather than by a model per record, which would cost more than the load
    (a short row is an IndexError: unfit too)."""
    if not all(type(row[0]) is str for row in rows):
        raise _Unfit(f"{table} has a record whose id is not text")
    if not all(type(row[version]) is int for row in rows):
        raise _Unfit(f"{table} has a record whose version is not a whole number")

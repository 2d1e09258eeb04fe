"""The tablet's replica: one entry object over the local database, with a manager per area.

    replica = Replica.open(data_dir)
    replica.jobs.today()            replica.customers.view360(customer_id)
    replica.submissions.answer(…)   replica.evidence.add_photo(…)
    replica.outbox.counts()         replica.kb.search("漏气")

Every write goes through :meth:`Replica.write`, which stores the row and its outbox
entry in the same transaction: nothing a technician captures exists only in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from fieldapp.domain.roles import TECHNICIAN
from fieldapp.errors import FieldAppError, InvalidInput, NotFound
from fieldapp.hlc import HybridClock
from fieldapp.ids import new_id
from fieldapp.local_time import now_iso
from fieldapp.records import TABLES
from fieldapp.replica.sealed import file_key
from fieldapp.replica.store import DB_FILE, open_db
from fieldapp.write_policy import may

FILES_SEALED = "files_sealed_at"


@dataclass(frozen=True)
class Session:
    username: str
    display_name: str
    role: str
    district: str | None = None


class Replica:
    def __init__(self, db: sqlite_utils.Database, data_dir: Path,
                 key: bytes | None = None) -> None:
        from fieldapp.replica.customers import Customers
        from fieldapp.replica.evidence import Evidence
        from fieldapp.replica.filling import Forms
        from fieldapp.replica.holds import Holds
        from fieldapp.replica.interactions import Interactions
        from fieldapp.replica.jobs import Jobs
        from fieldapp.replica.kb import KnowledgeBase
        from fieldapp.replica.parts import Parts
        from fieldapp.replica.submissions import Submissions
        from fieldapp.sync.outbox import Outbox

        self.db = db
        self.data_dir = data_dir
        self.blob_dir = data_dir / "blobs"
        # Photos and signatures are encrypted at rest when the database is (sealed.py).
        self.file_key = file_key(key) if key is not None else None
        self.device_id = self.state("device_id") or self._new_device_id()
        self.clock = HybridClock(self.device_id, last=self.state("hlc"))
        self.jobs = Jobs(self)
        self.customers = Customers(self)
        self.interactions = Interactions(self)
        self.holds = Holds(self)
        self.parts = Parts(self)
        self.submissions = Submissions(self)
        self.evidence = Evidence(self)
        self.forms = Forms(self)
        self.kb = KnowledgeBase(self)
        self.outbox = Outbox(self)

    @classmethod
    def open(cls, data_dir: Path | str) -> Replica:
        from fieldapp.replica.db_key import database_key

        data_dir = Path(data_dir)
        key = database_key(data_dir)
        replica = cls(open_db(data_dir / DB_FILE, key), data_dir, key)
        if replica.state(FILES_SEALED) is None:  # photos from before encryption
            replica.evidence.seal_plain_files()
            replica.set_state(FILES_SEALED, now_iso())
        return replica

    def close(self) -> None:
        self.db.conn.close()

    # -- local state ---------------------------------------------------------------
    def state(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM sync_state WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_state(self, key: str, value: str | None) -> None:
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO sync_state(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])

    def _new_device_id(self) -> str:
        # INSERT OR IGNORE: two connections opening a new folder at once agree on one id.
        with self.db.atomic():
            self.db.execute("INSERT OR IGNORE INTO sync_state(key, value) VALUES ('device_id', ?)",
                            ["dev-" + new_id()])
        device_id = self.state("device_id")
        assert device_id is not None  # just inserted, here or by the other connection
        return device_id

    def observe(self, remote_hlc: str) -> None:
        """Move the clock past a stamp from the server and keep that across restarts."""
        self.clock.observe(remote_hlc)
        self.set_state("hlc", self.clock.last())

    @property
    def session(self) -> Session | None:
        raw = self.state("session")
        if not raw:
            return None
        known = Session.__dataclass_fields__
        return Session(**{k: v for k, v in json.loads(raw).items() if k in known})

    def require_session(self) -> Session:
        session = self.session
        if session is None:
            raise FieldAppError("not_logged_in", "log in once online before working offline")
        return session

    # -- the one write path --------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        with self.db.atomic():
            yield self.db

    def get(self, table: str, record_id: str) -> dict[str, Any]:
        row = self.find(table, record_id)
        if row is None:
            raise NotFound("unknown_record", f"no {table} record {record_id}",
                           table=table, record_id=record_id)
        return row

    def find(self, table: str, record_id: str) -> dict[str, Any] | None:
        if table not in TABLES:
            raise ValueError(f"not a synced table: {table}")
        rows = list(self.db.query(f"SELECT * FROM [{table}] WHERE id = ?", [record_id]))
        return rows[0] if rows else None

    def insert(self, table: str, fields: dict[str, Any], record_id: str | None = None) -> str:
        """Insert a new record and its outbox entry; call inside :meth:`transaction`."""
        spec = TABLES[table]
        unknown = set(fields) - set(spec.columns)
        if unknown:
            raise ValueError(f"{table} has no columns {sorted(unknown)}")
        record_id = record_id or new_id()
        hlc = self.clock.now()
        row = {c: fields.get(c) for c in spec.columns}
        self.db.table(table).insert({"id": record_id, **row, "version": 0, "hlc": hlc})
        self._enqueue(table, record_id, "insert", row, {}, 0, hlc)
        return record_id

    def update(self, table: str, record_id: str, fields: dict[str, Any]) -> bool:
        """Change fields of a record and queue the change; returns False if nothing changed."""
        current = self.get(table, record_id)
        changed = {k: v for k, v in fields.items() if current[k] != v}
        if not changed:
            return False
        hlc = self.clock.now()
        self.db.table(table).update(record_id, {**changed, "hlc": hlc})
        old = {k: current[k] for k in changed}
        self._enqueue(table, record_id, "update", changed, old, current["version"], hlc)
        return True

    def delete(self, table: str, record_id: str) -> None:
        """Delete a record and queue the delete; call inside :meth:`transaction`.

        Only what a technician may take back (a mistaken photo or reading). The outbox
        entry keeps the whole row and the server keeps it as a tombstone, so a delete
        loses nothing; a later edit elsewhere wins over it and the record comes back.
        """
        if not may(TECHNICIAN, table, "delete"):
            raise InvalidInput("not_deletable", f"{table} records cannot be deleted on a tablet",
                               table=table)
        current = self.get(table, record_id)
        self.db.execute(f"DELETE FROM [{table}] WHERE id = ?", [record_id])
        row = {k: v for k, v in current.items() if k not in ("id", "version", "hlc")}
        self._enqueue(table, record_id, "delete", {}, row, current["version"], self.clock.now())

    def _enqueue(self, table: str, record_id: str, op: str, fields: dict[str, Any],
                 old: dict[str, Any], base_version: int, hlc: str) -> None:
        self.db.table("outbox").insert({
            "mutation_id": new_id(), "tbl": table, "record_id": record_id, "op": op,
            "fields": json.dumps(fields, ensure_ascii=False),
            "old": json.dumps(old, ensure_ascii=False), "base_version": base_version,
            "hlc": hlc, "at": now_iso(), "state": "pending",
        })
        self.db.execute(
            "INSERT INTO sync_state(key, value) VALUES ('hlc', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [hlc])

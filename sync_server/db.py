"""Server storage on SQLite: schema migrations and one connection per request.

Writers take ``BEGIN IMMEDIATE`` so concurrent pushes serialise instead of failing
half-way; every batch commits in one transaction with its stored answer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from fieldapp.records import ATTACHMENT_GPS_DDL, RECORD_DDL_V1

SERVER_DDL_V1 = """
CREATE TABLE users (
  username TEXT PRIMARY KEY, display_name TEXT NOT NULL, role TEXT NOT NULL, district TEXT,
  skills TEXT NOT NULL DEFAULT '[]', password_hash TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1);
CREATE TABLE devices (
  device_id TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES users(username), name TEXT,
  token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, expires_at TEXT NOT NULL,
  last_seen_at TEXT, revoked_at TEXT);
CREATE TABLE changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL, record_id TEXT NOT NULL,
  customer_id TEXT, op TEXT NOT NULL, fields TEXT NOT NULL, hlc TEXT, by_user TEXT,
  device_id TEXT, at TEXT NOT NULL, client_at TEXT, mutation_id TEXT UNIQUE, batch_id TEXT);
CREATE INDEX changes_scope ON changes(customer_id, seq);
CREATE INDEX changes_record ON changes(tbl, record_id);
CREATE TABLE batches (
  batch_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, response TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE mutation_results (mutation_id TEXT PRIMARY KEY, result TEXT NOT NULL);
CREATE TABLE conflicts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL, record_id TEXT NOT NULL,
  field TEXT, reason TEXT NOT NULL, kept TEXT, preserved TEXT, preserved_hlc TEXT,
  preserved_by TEXT, preserved_device TEXT, mutation_id TEXT, at TEXT NOT NULL,
  resolved_at TEXT, resolved_by TEXT);
CREATE TABLE blobs (
  sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, received INTEGER NOT NULL,
  complete INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, completed_at TEXT);
"""

SERVER_DDL_V2 = """
CREATE TABLE device_scope (
  device_id TEXT NOT NULL, customer_id TEXT NOT NULL, granted_cursor INTEGER NOT NULL,
  removed_cursor INTEGER, PRIMARY KEY (device_id, customer_id));
"""

MIGRATIONS: dict[int, str] = {1: RECORD_DDL_V1 + SERVER_DDL_V1, 2: SERVER_DDL_V2,
                               3: ATTACHMENT_GPS_DDL}


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            self._migrate(conn)

    def connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        conn = self.connect()
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One immediate transaction: all of it commits or none of it does."""
        conn = self.connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                     "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
        current = conn.execute(
            "SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]
        for number in sorted(n for n in MIGRATIONS if n > current):
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in (s.strip() for s in MIGRATIONS[number].split(";")):
                    if statement:
                        conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", [number, utc_now()])
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

"""The tablet's local SQLite replica: connection, schema versions and migrations.

Migrations are numbered functions; each runs in one transaction together with its
row in ``schema_migrations``, so a kill mid-migration leaves the previous version.
Never edit a released migration: add the next number.

The file is encrypted with SQLCipher when a key is given (the app always gives one, from
:mod:`fieldapp.replica.db_key`); a replica written before encryption is encrypted in place the
first time it is opened with a key.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import sqlite_utils
from sqlcipher3 import dbapi2 as sqlcipher

from fieldapp.errors import FieldAppError
from fieldapp.local_time import now_iso
from fieldapp.records import (
    ATTACHMENT_GPS_DDL,
    BILLS_DDL,
    INTERACTIONS_DDL,
    ORG_SETTINGS_DDL,
    RECORD_DDL_V1,
    RECTIFICATION_DDL,
    SIGNATURE_HASH_DDL,
)

Migration = Callable[[sqlite_utils.Database], None]
MIGRATIONS: dict[int, tuple[str, Migration]] = {}


def migration(number: int, name: str) -> Callable[[Migration], Migration]:
    def register(fn: Migration) -> Migration:
        if number in MIGRATIONS:
            raise ValueError(f"migration {number} registered twice")
        MIGRATIONS[number] = (name, fn)
        return fn

    return register


@migration(1, "records, outbox, sync state")
def _m1(db: sqlite_utils.Database) -> None:
    _run_ddl(db, RECORD_DDL_V1 + _CLIENT_DDL_V1)


_CLIENT_DDL_V1 = """
CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, mutation_id TEXT NOT NULL UNIQUE,
  tbl TEXT NOT NULL, record_id TEXT NOT NULL, op TEXT NOT NULL, fields TEXT NOT NULL,
  old TEXT NOT NULL, base_version INTEGER NOT NULL, hlc TEXT NOT NULL, at TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending', batch_id TEXT, reason TEXT, message TEXT,
  result TEXT, sent_at TEXT);
CREATE INDEX outbox_state ON outbox(state, seq);
CREATE INDEX outbox_record ON outbox(tbl, record_id);
CREATE TABLE blobs (
  sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, mime TEXT, uploaded INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL);
CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT);
"""


def _run_ddl(db: sqlite_utils.Database, ddl: str) -> None:
    """Each ``;``-separated statement of a DDL script (no triggers: see _m4)."""
    for statement in (s.strip() for s in ddl.split(";")):
        if statement:
            db.execute(statement)


@migration(2, "attachments: GPS position and fix age of a photo")
def _m2(db: sqlite_utils.Database) -> None:
    _run_ddl(db, ATTACHMENT_GPS_DDL)


@migration(3, "hazards and rectification notices")
def _m3(db: sqlite_utils.Database) -> None:
    _run_ddl(db, RECTIFICATION_DDL)


@migration(4, "knowledge base: full-text index (FTS5, trigram tokenizer)")
def _m4(db: sqlite_utils.Database) -> None:
    for statement in _complete_statements(KB_FTS_DDL + ";"):
        db.execute(statement)
    db.execute("INSERT INTO kb_fts(kb_fts) VALUES ('rebuild')")


@migration(5, "the utility's shared settings (its name on documents)")
def _m5(db: sqlite_utils.Database) -> None:
    _run_ddl(db, ORG_SETTINGS_DDL)


@migration(6, "bills with their per-tier lines")
def _m6(db: sqlite_utils.Database) -> None:
    _run_ddl(db, BILLS_DDL)


@migration(7, "notes on jobs, calls to customers, parts requested from the stores")
def _m7(db: sqlite_utils.Database) -> None:
    _run_ddl(db, INTERACTIONS_DDL)


@migration(8, "signatures: the hash of the content the customer signed")
def _m8(db: sqlite_utils.Database) -> None:
    _run_ddl(db, SIGNATURE_HASH_DDL)


def _complete_statements(script: str) -> list[str]:
    """Statements of a script whose triggers hold semicolons of their own."""
    out, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip().rstrip(";"))
            current = ""
    return [s for s in out if s]


# The trigram tokenizer indexes every three characters, so Chinese needs no word
# segmentation; the index follows kb_articles through triggers (pulls upsert articles).
KB_FTS_DDL = """
CREATE VIRTUAL TABLE kb_fts USING fts5(title, body, tags, content='kb_articles',
                                       tokenize='trigram');
CREATE TRIGGER kb_fts_insert AFTER INSERT ON kb_articles BEGIN
  INSERT INTO kb_fts(rowid, title, body, tags) VALUES (new.rowid, new.title, new.body, new.tags);
END;
CREATE TRIGGER kb_fts_delete AFTER DELETE ON kb_articles BEGIN
  INSERT INTO kb_fts(kb_fts, rowid, title, body, tags)
  VALUES ('delete', old.rowid, old.title, old.body, old.tags);
END;
CREATE TRIGGER kb_fts_update AFTER UPDATE ON kb_articles BEGIN
  INSERT INTO kb_fts(kb_fts, rowid, title, body, tags)
  VALUES ('delete', old.rowid, old.title, old.body, old.tags);
  INSERT INTO kb_fts(rowid, title, body, tags) VALUES (new.rowid, new.title, new.body, new.tags);
END
"""


def kb_fts_triggers() -> dict[str, str]:
    """The triggers that keep the knowledge-base index current, by name: a bulk load drops
    them, rebuilds the index once and creates them again."""
    found = {}
    for statement in _complete_statements(KB_FTS_DDL + ";"):
        if statement.startswith("CREATE TRIGGER"):
            found[statement.split()[2]] = statement
    return found


DB_FILE = "replica.sqlite3"  # in the data folder
PLAIN_HEADER = b"SQLite format 3\x00"
# Errors of either driver: the server and tools use the standard library's sqlite3.
DatabaseError = (sqlite3.DatabaseError, sqlcipher.DatabaseError)
OperationalError = (sqlite3.OperationalError, sqlcipher.OperationalError)


class WrongKey(FieldAppError):
    """The file is encrypted with another key, or is not a database at all."""


def is_plain(path: Path | str) -> bool:
    """A readable, unencrypted SQLite file (an encrypted one starts with random bytes)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(16) == PLAIN_HEADER
    except OSError:
        return False


def connect(path: Path | str, key: bytes | None, *, readonly: bool = False
            ) -> sqlcipher.Connection:
    """A connection to the file, keyed when it is encrypted; the key is checked here so a
    wrong one fails at once, with its own error, not at some later query."""
    path = Path(path)
    if readonly:
        conn = sqlcipher.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    else:
        conn = sqlcipher.connect(str(path), timeout=10, check_same_thread=False)
    conn.execute("PRAGMA cipher_log_level = NONE")  # errors are raised, not printed
    if key is not None and not (path.exists() and is_plain(path)):
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher.DatabaseError as exc:
        conn.close()
        if "not a database" in str(exc):
            raise WrongKey("database_key_wrong",
                           "the database cannot be read with this tablet's key") from exc
        raise
    return conn


def encrypt_in_place(path: Path | str, key: bytes) -> None:
    """Encrypt a plain replica: a whole encrypted copy is written and synced first, then
    renamed over the original, so a kill at any point leaves one complete database."""
    path = Path(path)
    temp = path.with_name(path.name + ".encrypting")
    temp.unlink(missing_ok=True)  # from an earlier attempt that was killed
    plain = sqlcipher.connect(str(path), timeout=10)
    try:
        plain.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        plain.execute(f"ATTACH DATABASE ? AS encrypted KEY \"x'{key.hex()}'\"", [str(temp)])
        plain.execute("SELECT sqlcipher_export('encrypted')")
        plain.execute("DETACH DATABASE encrypted")
    finally:
        plain.close()
    with open(temp, "rb") as fh:
        os.fsync(fh.fileno())
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    temp.replace(path)


def open_db(path: Path | str, key: bytes | None = None) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate the replica at ``path``, encrypted with ``key``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if key is not None and path.exists() and is_plain(path):
        encrypt_in_place(path, key)
    # sqlite_utils takes any sqlite3-compatible connection; its annotation names only sqlite3's
    db = sqlite_utils.Database(connect(path, key))  # type: ignore[arg-type]
    db.execute("PRAGMA journal_mode=WAL")
    # FULL: a committed step must survive a power cut, not only a killed process.
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA foreign_keys=ON")
    migrate(db)
    return db


def schema_version(db: sqlite_utils.Database) -> int:
    if "schema_migrations" not in db.table_names():
        return 0
    row = db.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return row[0] or 0


def migrate(db: sqlite_utils.Database) -> list[int]:
    """Apply pending migrations in order; returns the numbers applied."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    applied = []
    for number in sorted(MIGRATIONS):
        if number <= schema_version(db):
            continue
        name, fn = MIGRATIONS[number]
        with db.atomic():
            fn(db)
            db.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [number, name, now_iso()])
        applied.append(number)
    return applied


SCHEMA_VERSION = max(MIGRATIONS)

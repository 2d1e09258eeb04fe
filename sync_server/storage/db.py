"""Server storage: schema migrations and one connection per request, on two backends.

SQLite (this module) is the default and needs no set-up. PostgreSQL
(``sync_server.storage.postgres``) is used when ``FIELDAPP_DATABASE_URL`` names one, so that
several server processes can share it. Both give the same interface: ``read()`` and
``write()`` context managers yielding a connection whose ``execute(sql, params)`` takes
SQLite-style SQL with ``?`` placeholders and returns rows readable by index and by column name.

Writers serialise: SQLite takes ``BEGIN IMMEDIATE``, PostgreSQL an advisory lock. Concurrent
pushes wait instead of failing half-way, and every batch commits in one transaction with
its stored answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from fieldapp.records import (
    ATTACHMENT_GPS_DDL,
    BILLS_DDL,
    INTERACTIONS_DDL,
    ORG_SETTINGS_DDL,
    RECORD_DDL_V1,
    RECTIFICATION_DDL,
    SIGNATURE_HASH_DDL,
)
from sync_server.storage.campaign_tables import CAMPAIGNS_DDL
from sync_server.storage.kb_tables import KB_AUTHORING_DDL
from sync_server.storage.position_tables import POSITIONS_DDL
from sync_server.storage.rule_tables import RULE_VERSIONS_DDL
from sync_server.storage.time_limit_tables import TIME_LIMITS_DDL

DATABASE_URL_ENV = "FIELDAPP_DATABASE_URL"

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

# How a supervisor resolved a conflict: {"choice", "value", "mutation_id"} (review.py).
SERVER_DDL_V4 = "ALTER TABLE conflicts ADD COLUMN resolution TEXT;"

# A deleted record's last row, kept whole: a delete loses nothing and a later concurrent
# edit brings the record back (merge.py).
SERVER_DDL_V5 = """
CREATE TABLE tombstones (
  id INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL, record_id TEXT NOT NULL,
  customer_id TEXT, row TEXT NOT NULL, hlc TEXT NOT NULL, by_user TEXT, device_id TEXT,
  at TEXT NOT NULL, mutation_id TEXT, restored_at TEXT);
CREATE INDEX tombstones_record ON tombstones(tbl, record_id);
"""

# Wrong passwords, for login throttling (throttle.py).
SERVER_DDL_V7 = """
CREATE TABLE login_failures (
  id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL, client TEXT NOT NULL,
  at TEXT NOT NULL);
CREATE INDEX login_failures_user ON login_failures(username, at);
CREATE INDEX login_failures_client ON login_failures(client, at);
"""

# Who each job was given to, by whom, and why in words (dispatch.py).
SERVER_DDL_V9 = """
CREATE TABLE dispatch_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, assignee TEXT NOT NULL,
  previous TEXT, by_user TEXT NOT NULL, at TEXT NOT NULL, auto INTEGER NOT NULL DEFAULT 0,
  explanation TEXT NOT NULL);
CREATE INDEX dispatch_log_job ON dispatch_log(job_id, id);
"""

# Alerts for the supervisor, once per kind and subject (a job, or a rule's firing; alerts.py).
SERVER_DDL_V10 = """
CREATE TABLE alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, subject TEXT NOT NULL,
  job_id TEXT, customer_id TEXT, raised_at TEXT NOT NULL, message TEXT NOT NULL,
  acknowledged_at TEXT, acknowledged_by TEXT);
CREATE UNIQUE INDEX alerts_once ON alerts(kind, subject);
CREATE INDEX alerts_open ON alerts(acknowledged_at);
"""

# The rules engine (rules.py): rules as data, each firing once per subject, the messages it
# sends, the office tasks it creates, and the server's own cursors.
SERVER_DDL_V11 = """
CREATE TABLE rules (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, event TEXT NOT NULL,
  condition TEXT NOT NULL DEFAULT '', action TEXT NOT NULL, params TEXT NOT NULL DEFAULT '{}',
  enabled INTEGER NOT NULL DEFAULT 1, updated_by TEXT, updated_at TEXT);
CREATE TABLE rule_firings (
  id INTEGER PRIMARY KEY AUTOINCREMENT, rule_id TEXT NOT NULL, event TEXT NOT NULL,
  subject TEXT NOT NULL, change_seq INTEGER, at TEXT NOT NULL, fired INTEGER NOT NULL,
  outcome TEXT NOT NULL);
CREATE UNIQUE INDEX rule_firings_once ON rule_firings(rule_id, subject);
CREATE TABLE notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, recipient TEXT NOT NULL,
  text TEXT NOT NULL, customer_id TEXT, job_id TEXT, rule_id TEXT, created_at TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
  sent_at TEXT, provider_id TEXT, error TEXT);
CREATE INDEX notifications_pending ON notifications(status, id);
CREATE TABLE tasks (
  id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, job_id TEXT, customer_id TEXT,
  title TEXT NOT NULL, due_at TEXT, created_at TEXT NOT NULL, rule_id TEXT, done_at TEXT,
  done_by TEXT, outcome TEXT);
CREATE INDEX tasks_open ON tasks(done_at, due_at);
CREATE TABLE server_state (key TEXT PRIMARY KEY, value TEXT);
"""

# Price schedules (阶梯气价, billing.py), and the reminders and dunning each bill got once.
SERVER_DDL_V13 = """
CREATE TABLE price_schedules (
  id TEXT PRIMARY KEY, customer_kind TEXT NOT NULL DEFAULT 'residential',
  effective_from TEXT NOT NULL, tiers TEXT NOT NULL,
  base_household INTEGER NOT NULL DEFAULT 4, extra_per_person INTEGER NOT NULL DEFAULT 0);
CREATE TABLE bill_notices (
  id INTEGER PRIMARY KEY AUTOINCREMENT, bill_id TEXT NOT NULL, kind TEXT NOT NULL,
  at TEXT NOT NULL, outcome TEXT);
CREATE UNIQUE INDEX bill_notices_once ON bill_notices(bill_id, kind);
"""

# Tamper evidence: each change-log entry's hash covers the one before (audit.py).
SERVER_DDL_V14 = """
ALTER TABLE changes ADD COLUMN prev_hash TEXT;
ALTER TABLE changes ADD COLUMN hash TEXT;
"""

# Remote wipe: when a revoked tablet confirmed it erased its data (after sending its work);
# token rotation: the token a refresh replaced, valid until the new one is first used.
SERVER_DDL_V15 = """
ALTER TABLE devices ADD COLUMN wiped_at TEXT;
ALTER TABLE devices ADD COLUMN previous_token_hash TEXT;
CREATE INDEX devices_previous_token ON devices(previous_token_hash);
"""

# The customer portal (sync_server/portal/): one-time login codes and sessions (only hashes
# kept), customers' requests with the job each created and its rating, their uploaded
# documents, and payment orders with every provider callback as it arrived. Jobs by number:
# each new job's number follows the day's last (customers now make jobs, at any scale).
SERVER_DDL_V17 = """
CREATE TABLE portal_codes (
  id INTEGER PRIMARY KEY AUTOINCREMENT, customer_id TEXT NOT NULL, code_hash TEXT NOT NULL,
  client TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, used_at TEXT);
CREATE INDEX portal_codes_customer ON portal_codes(customer_id, created_at);
CREATE INDEX portal_codes_client ON portal_codes(client, created_at);
CREATE TABLE portal_sessions (
  token_hash TEXT PRIMARY KEY, customer_id TEXT NOT NULL, created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL);
CREATE TABLE portal_requests (
  id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, kind TEXT NOT NULL, job_id TEXT,
  details TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL, rating INTEGER,
  rating_comment TEXT, rated_at TEXT);
CREATE INDEX portal_requests_customer ON portal_requests(customer_id, created_at);
CREATE INDEX portal_requests_job ON portal_requests(job_id);
CREATE TABLE portal_uploads (
  id INTEGER PRIMARY KEY AUTOINCREMENT, request_id TEXT NOT NULL, customer_id TEXT NOT NULL,
  role TEXT NOT NULL, sha256 TEXT NOT NULL, mime TEXT NOT NULL, size INTEGER NOT NULL,
  width INTEGER, height INTEGER, created_at TEXT NOT NULL);
CREATE INDEX portal_uploads_request ON portal_uploads(request_id);
CREATE INDEX portal_uploads_sha ON portal_uploads(sha256);
CREATE TABLE payment_orders (
  id TEXT PRIMARY KEY, bill_id TEXT NOT NULL, customer_id TEXT NOT NULL,
  amount_cents INTEGER NOT NULL, provider TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'created',
  created_at TEXT NOT NULL, paid_at TEXT, provider_ref TEXT UNIQUE);
CREATE INDEX payment_orders_bill ON payment_orders(bill_id);
CREATE TABLE payment_callbacks (
  id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT, provider TEXT NOT NULL,
  body TEXT NOT NULL, outcome TEXT NOT NULL, at TEXT NOT NULL);
CREATE INDEX jobs_number ON jobs(number);
"""

# The sync door (merge.py): each conflict names its customer (district-scoped review); a
# mutation id and a batch id belong to the device that first sent them, with a digest of
# what they carried (a reuse with other content is refused); mutations whose parent record
# has not arrived yet wait in ``parked`` and are applied when it lands; an uploaded file's
# kind is sniffed from its bytes (sniff.py).
SERVER_DDL_V18 = """
ALTER TABLE conflicts ADD COLUMN customer_id TEXT;
CREATE INDEX conflicts_open ON conflicts(resolved_at, id);
CREATE INDEX conflicts_customer ON conflicts(customer_id, id);
ALTER TABLE mutation_results ADD COLUMN device_id TEXT;
ALTER TABLE mutation_results ADD COLUMN digest TEXT;
ALTER TABLE batches ADD COLUMN digest TEXT;
ALTER TABLE blobs ADD COLUMN kind TEXT;
CREATE TABLE parked (
  id INTEGER PRIMARY KEY AUTOINCREMENT, mutation_id TEXT NOT NULL UNIQUE,
  device_id TEXT NOT NULL, principal TEXT NOT NULL, parent_table TEXT NOT NULL,
  parent_id TEXT NOT NULL, mutation TEXT NOT NULL, batch_id TEXT NOT NULL, at TEXT NOT NULL,
  applied_at TEXT, conflict_id INTEGER);
CREATE INDEX parked_parent ON parked(parent_table, parent_id, applied_at);
"""

# Tokens and sessions (auth.py): a back-office session is marked apart from a device token;
# when each token was issued (refresh only past half-life); why a device's login was ended
# (a replayed old token, a password reset, a disabled account); and the tokens a rotation
# retired, so that one presented again is recognised as a stolen copy.
SERVER_DDL_V19 = """
ALTER TABLE devices ADD COLUMN kind TEXT NOT NULL DEFAULT 'device';
UPDATE devices SET kind = 'session' WHERE device_id LIKE 'web-%' AND name LIKE '后台浏览器%';
ALTER TABLE devices ADD COLUMN issued_at TEXT;
ALTER TABLE devices ADD COLUMN ended_at TEXT;
ALTER TABLE devices ADD COLUMN ended_reason TEXT;
CREATE INDEX devices_user ON devices(username);
CREATE TABLE retired_tokens (
  token_hash TEXT PRIMARY KEY, device_id TEXT NOT NULL, retired_at TEXT NOT NULL);
CREATE INDEX retired_tokens_at ON retired_tokens(retired_at);
"""
# The audit chain (audit.py): a log written before the chain existed is sealed once, at the
# first start after this migration; from then on a missing hash is a broken link, never sealed.
SERVER_DDL_V20 = "INSERT INTO server_state(key, value) VALUES ('audit.legacy_seal', 'pending')"

# A pull reads the global tables' changes after its cursor by this index (pull.in_scope),
# not every change since the cursor.
SERVER_DDL_V26 = "CREATE INDEX changes_table_seq ON changes(tbl, seq)"

# A device's records are read by their customer where the change log is not used: a tablet's
# snapshot (sync/snapshot.py) and the customer desk. Without these, each read scanned the
# whole table (a utility's 24 million readings for one tablet's 12,000). The other scoped
# tables have an index that starts with customer_id; customers are read by id.
SERVER_DDL_V27 = "".join(
    f"CREATE INDEX {table}_customer_scope ON {table}(customer_id);\n"
    for table in ("readings", "job_status_history", "submissions", "answers", "attachments",
                  "signatures", "scans", "part_requests"))

# A push asks whether anyone else changed a record after the version the device saw
# (sync/moved.py): by (tbl, record_id, seq) it reads only those changes, not the record's
# whole history (SQLite's old index held seq as its rowid; PostgreSQL's did not).
SERVER_DDL_V28 = """
CREATE INDEX changes_record_seq ON changes(tbl, record_id, seq);
DROP INDEX changes_record;
"""

# SQLite DDL. PostgreSQL runs the same numbered list, its DDL derived by postgres.pg_ddl.
MIGRATIONS: dict[int, str] = {1: RECORD_DDL_V1 + SERVER_DDL_V1, 2: SERVER_DDL_V2,
                               3: ATTACHMENT_GPS_DDL, 4: SERVER_DDL_V4, 5: SERVER_DDL_V5,
                               6: RECTIFICATION_DDL, 7: SERVER_DDL_V7, 8: ORG_SETTINGS_DDL,
                               9: SERVER_DDL_V9, 10: SERVER_DDL_V10, 11: SERVER_DDL_V11,
                               12: BILLS_DDL, 13: SERVER_DDL_V13, 14: SERVER_DDL_V14,
                               15: SERVER_DDL_V15, 16: INTERACTIONS_DDL,
                               17: SERVER_DDL_V17, 18: SERVER_DDL_V18,
                               19: SERVER_DDL_V19, 20: SERVER_DDL_V20,
                               21: SIGNATURE_HASH_DDL, 22: KB_AUTHORING_DDL,
                               23: TIME_LIMITS_DDL, 24: CAMPAIGNS_DDL,
                               25: RULE_VERSIONS_DDL, 26: SERVER_DDL_V26,
                               27: SERVER_DDL_V27, 28: SERVER_DDL_V28,
                               29: POSITIONS_DDL}


class Cursor(Protocol):
    """No ``rowcount``: PostgreSQL writes run pipelined, where it is not known yet.
    Use ``… RETURNING`` and fetch instead."""

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What server code may use of a connection: SQLite's ``execute`` and ``executemany``
    (one statement for many rows: what bulk writes use), and nothing else."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...
    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Any: ...


class Storage(Protocol):
    def read(self) -> AbstractContextManager[Connection]: ...
    def write(self) -> AbstractContextManager[Connection]: ...
    def close(self) -> None: ...


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def open_database(data_dir: Path, url: str | None = None) -> Storage:
    """PostgreSQL at ``url`` if given, else SQLite in ``data_dir``."""
    if url:
        from sync_server.storage.postgres import PgDatabase  # psycopg only when it is used

        return PgDatabase(url)
    from sync_server.storage.sqlite_database import Database

    return Database(data_dir / "server.sqlite3")


def sqlite_statements(number: int) -> list[str]:
    return [s.strip() for s in MIGRATIONS[number].split(";") if s.strip()]


def migrate(db: Storage, statements: Callable[[int], list[str]]) -> None:
    """Apply the numbered migrations not yet applied, each in its own write transaction.

    The version is read inside the write, so two server processes starting together
    apply each migration once: the second waits for the first, then finds it done.
    """
    for number in sorted(MIGRATIONS):
        with db.write() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                         "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
            current = conn.execute(
                "SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]
            if number <= current:
                continue
            for statement in statements(number):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", [number, utc_now()])

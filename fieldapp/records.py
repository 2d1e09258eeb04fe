"""The synced record tables, defined once for the client replica and the server.

Every synced row carries ``id`` (a client-generated UUIDv7 or a seeded demo id),
``version`` (the server sequence of its last applied change; 0 = never synced) and
``hlc`` (the hybrid logical clock of its last change). Every table except the
global ones carries ``customer_id``: that is the scope key pulls filter by, and
the district partition key on the server's scale path.

``RECORD_DDL_V1`` is the DDL released with schema version 1. Never edit it: add
a migration instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Policy(StrEnum):
    """How the server settles the same field changed on both sides."""

    LWW = "lww"  # last writer by HLC wins; the loser is kept in conflicts
    STATUS = "status"  # follows the job state machine
    EVIDENCE = "evidence"  # captured by a technician: never overwritten, both kept
    SET = "set"  # a list of tags: both sides' additions and removals are kept (a union)


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[str, ...]
    scoped: bool = True  # has customer_id; False for global tables (forms, kb)
    # Who may write which fields is declared in fieldapp/write_policy.py.
    unique: tuple[str, ...] = ()  # fields no two records share (a UNIQUE constraint)
    policies: dict[str, Policy] = field(default_factory=dict)

    def policy(self, column: str) -> Policy:
        return self.policies.get(column, Policy.LWW)


# Captured by a technician: accepted even after the job (or the customer's jobs) was
# reassigned away, never dropped (sync_server/sync/write_checks.py).
EVIDENCE_TABLES = frozenset({"submissions", "answers", "attachments", "signatures", "scans",
                             "job_status_history", "readings", "interactions",
                             "part_requests", "hazards", "rectification_notices"})

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in [
        TableSpec(
            "customers",
            ("account_no", "name", "phone", "address", "district", "lat", "lon", "kind",
             "tags", "household_size"),
            unique=("account_no",),
            policies={"tags": Policy.SET},
        ),
        TableSpec(
            "meters",
            ("customer_id", "serial", "barcode", "model", "installed_on", "location",
             "last_reading", "last_read_at"),
        ),
        TableSpec("readings", ("customer_id", "meter_id", "read_at", "value", "source")),
        TableSpec("contracts", ("customer_id", "number", "tariff", "signed_on", "status")),
        TableSpec("payments", ("customer_id", "paid_at", "amount", "period", "method")),
        TableSpec(
            "jobs",
            ("number", "kind", "priority", "customer_id", "district", "due_at", "assignee",
             "required_skill", "status", "route_order", "summary", "created_at"),
            policies={"status": Policy.STATUS},
        ),
        TableSpec(
            "job_status_history",
            ("job_id", "customer_id", "from_status", "to_status", "at", "by_user", "device_id"),
        ),
        TableSpec("form_definitions", ("code", "form_version", "title", "definition"),
                  scoped=False, unique=("code", "form_version")),
        TableSpec(
            "submissions",
            ("job_id", "customer_id", "form_code", "form_version", "state", "started_at",
             "submitted_at", "by_user", "device_id"),
            policies={"state": Policy.EVIDENCE},
        ),
        TableSpec(
            "answers",
            ("submission_id", "job_id", "customer_id", "question", "value", "note",
             "answered_at", "by_user", "device_id"),
            unique=("submission_id", "question"),
            policies={"value": Policy.EVIDENCE, "note": Policy.EVIDENCE},
        ),
        TableSpec(
            "attachments",
            ("sha256", "job_id", "customer_id", "submission_id", "question", "kind", "mime",
             "size", "filename", "captured_at", "by_user", "device_id",
             # added in client migration 2 / server migration 3: where a photo was taken
             "lat", "lon", "accuracy_m", "fix_age_s"),
        ),
        TableSpec(
            "signatures",
            ("job_id", "customer_id", "attachment_id", "signer_name", "strokes", "signed_at",
             "by_user", "device_id",
             # added in client migration 8 / server migration 21: the sha256 of what the
             # customer signed (fieldapp/forms/signed_content.py)
             "content_hash"),
        ),
        TableSpec(
            "scans",
            ("job_id", "customer_id", "code", "symbology", "meter_id", "matched_customer_id",
             "source", "scanned_at", "by_user", "device_id"),
        ),
        TableSpec("kb_articles", ("title", "category", "body", "tags"), scoped=False),
        # A gas bill from two readings, priced per tier (fieldapp/billing): made and changed
        # by the office only; tablets show it with the customer's arrears.
        TableSpec("bills", ("customer_id", "meter_id", "reading_id", "period_start",
                            "period_end", "previous_value", "current_value", "volume",
                            "amount_cents", "lines", "issued_at", "due_on", "status",
                            "paid_at")),
        # The utility's own settings every device shares (its name on every document),
        # one record per setting, its id the setting's name.
        TableSpec("org_settings", ("value",), scoped=False),
        # Added in client migration 3 / server migration 6: what a submitted inspection
        # found, the notice the customer signs, and (in jobs) the check it schedules.
        TableSpec(
            "rectification_notices",
            ("job_id", "customer_id", "submission_id", "number", "issued_at", "deadline",
             "hazard_count", "by_user", "device_id"),
        ),
        TableSpec(
            "hazards",
            ("job_id", "customer_id", "submission_id", "notice_id", "question", "label",
             "level", "deadline_days", "due_at", "note", "status", "check_job_id", "found_at",
             "by_user", "device_id"),
        ),
        # Added in client migration 7 / server migration 16: notes on a job and calls to
        # the customer, the customer's interaction log.
        TableSpec(
            "interactions",
            ("job_id", "customer_id", "kind", "text", "at", "by_user", "device_id"),
        ),
        # Parts a technician asks the stores for on a job (same migration); the office
        # issues or refuses them, and the answer syncs back.
        TableSpec(
            "part_requests",
            ("job_id", "customer_id", "part", "quantity", "note", "state", "requested_at",
             "by_user", "device_id", "decided_at", "decided_by", "reply"),
        ),
    ]
}

# Jobs a technician's tablet may create: the checks its own inspections schedule.
TECH_JOB_KINDS = frozenset({"rectification_check"})


RECORD_DDL_V1 = """
CREATE TABLE customers (
  id TEXT PRIMARY KEY, account_no TEXT NOT NULL UNIQUE, name TEXT NOT NULL, phone TEXT,
  address TEXT, district TEXT, lat REAL, lon REAL, kind TEXT, tags TEXT, household_size INTEGER,
  customer_id TEXT GENERATED ALWAYS AS (id) VIRTUAL,
  version INTEGER NOT NULL DEFAULT 0, hlc TEXT);
CREATE TABLE meters (
  id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, serial TEXT, barcode TEXT, model TEXT,
  installed_on TEXT, location TEXT, last_reading REAL, last_read_at TEXT,
  version INTEGER NOT NULL DEFAULT 0, hlc TEXT);
CREATE INDEX meters_barcode ON meters(barcode);
CREATE INDEX meters_customer ON meters(customer_id);
CREATE TABLE readings (
  id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, meter_id TEXT NOT NULL, read_at TEXT,
  value REAL, source TEXT, version INTEGER NOT NULL DEFAULT 0, hlc TEXT);
CREATE INDEX readings_meter ON readings(meter_id, read_at);
CREATE TABLE contracts (
  id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, number TEXT, tariff TEXT, signed_on TEXT,
  status TEXT, version INTEGER NOT NULL DEFAULT 0, hlc TEXT);
CREATE INDEX contracts_customer ON contracts(customer_id);
CREATE TABLE payments (
  id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, paid_at TEXT, amount REAL, period TEXT,
  method TEXT, version INTEGER NOT NULL DEFAULT 0, hlc TEXT);
CREATE INDEX payments_customer ON payments(customer_id, paid_at);
CREATE TABLE jobs (
  id TEXT PRIMARY KEY, number TEXT NOT NULL, kind TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 3,
  customer_id TEXT NOT NULL, district TEXT, due_at TEXT, assignee TEXT, required_skill TEXT,
  status TEXT NOT NULL, route_order INTEGER, summary TEXT, created_at TEXT,
  version INTEGER NOT NULL DEFAULT 0, hlc TEXT);
CREATE INDEX jobs_assignee ON jobs(assignee, due_at);
CREATE INDEX jobs_customer ON jobs(customer_id);
CREATE TABLE job_status_history (
  id TEXT PRIMARY KEY, job_id TEXT NOT NULL, customer_id TEXT NOT NULL, from_status TEXT,
  to_status TEXT NOT NULL, at TEXT NOT NULL, by_user TEXT, device_id TEXT,
  version INTEGER NOT NULL DEFAULT 0, hlc TEXT);
CREATE INDEX job_status_history_job ON job_status_history(job_id, at);
CREATE TABLE form_definitions (
  id TEXT PRIMARY KEY, code TEXT NOT NULL, form_version INTEGER NOT NULL, title TEXT,
  definition TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 0, hlc TEXT,
  UNIQUE(code, form_version));
CREATE TABLE submissions (
  id TEXT PRIMARY KEY, job_id TEXT NOT NULL, customer_id TEXT NOT NULL, form_code TEXT NOT NULL,
  form_version INTEGER NOT NULL, state TEXT NOT NULL, started_at TEXT, submitted_at TEXT,
  by_user TEXT, device_id TEXT, version INTEGER NOT NULL DEFAULT 0, hlc TEXT);
CREATE INDEX submissions_job ON submissions(job_id);
CREATE TABLE answers (
  id TEXT PRIMARY KEY, submission_id TEXT NOT NULL, job_id TEXT NOT NULL, customer_id TEXT NOT NULL,
  question TEXT NOT NULL, value TEXT, note TEXT, answered_at TEXT, by_user TEXT, device_id TEXT,
  version INTEGER NOT NULL DEFAULT 0, hlc TEXT, UNIQUE(submission_id, question));
CREATE TABLE attachments (
  id TEXT PRIMARY KEY, sha256 TEXT NOT NULL, job_id TEXT, customer_id TEXT NOT NULL,
  submission_id TEXT, question TEXT, kind TEXT NOT NULL, mime TEXT, size INTEGER, filename TEXT,
  captured_at TEXT, by_user TEXT, device_id TEXT, version INTEGER NOT NULL DEFAULT 0, hlc TEXT);
CREATE INDEX attachments_job ON attachments(job_id);
CREATE TABLE signatures (
  id TEXT PRIMARY KEY, job_id TEXT NOT NULL, customer_id TEXT NOT NULL, attachment_id TEXT NOT NULL,
  signer_name TEXT, strokes TEXT, signed_at TEXT, by_user TEXT, device_id TEXT,
  version INTEGER NOT NULL DEFAULT 0, hlc TEXT);
CREATE INDEX signatures_job ON signatures(job_id);
CREATE TABLE scans (
  id TEXT PRIMARY KEY, job_id TEXT, customer_id TEXT, code TEXT NOT NULL, symbology TEXT,
  meter_id TEXT, matched_customer_id TEXT, source TEXT, scanned_at TEXT, by_user TEXT,
  device_id TEXT, version INTEGER NOT NULL DEFAULT 0, hlc TEXT);
CREATE TABLE kb_articles (
  id TEXT PRIMARY KEY, title TEXT NOT NULL, category TEXT, body TEXT, tags TEXT,
  version INTEGER NOT NULL DEFAULT 0, hlc TEXT);
"""

# Client migration 5 and server migration 8: the utility's shared settings (TABLES).
ORG_SETTINGS_DDL = """
CREATE TABLE org_settings (
  id TEXT PRIMARY KEY, value TEXT, version INTEGER NOT NULL DEFAULT 0, hlc TEXT);
"""

# Client migration 6 and server migration 12: bills (volume as decimal text, money in fen).
BILLS_DDL = """
CREATE TABLE bills (
  id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, meter_id TEXT, reading_id TEXT,
  period_start TEXT, period_end TEXT, previous_value REAL, current_value REAL, volume TEXT,
  amount_cents INTEGER NOT NULL, lines TEXT, issued_at TEXT, due_on TEXT,
  status TEXT NOT NULL DEFAULT 'unpaid', paid_at TEXT,
  version INTEGER NOT NULL DEFAULT 0, hlc TEXT);
CREATE INDEX bills_customer ON bills(customer_id, period_end);
"""

# Client migration 7 and server migration 16: notes and calls (kind "note" or "call"), and
# parts requested from the stores (state requested → issued or refused, by the office).
INTERACTIONS_DDL = """
CREATE TABLE interactions (
  id TEXT PRIMARY KEY, job_id TEXT, customer_id TEXT NOT NULL, kind TEXT NOT NULL, text TEXT,
  at TEXT NOT NULL, by_user TEXT, device_id TEXT,
  version INTEGER NOT NULL DEFAULT 0, hlc TEXT);
CREATE INDEX interactions_customer ON interactions(customer_id, at);
CREATE TABLE part_requests (
  id TEXT PRIMARY KEY, job_id TEXT NOT NULL, customer_id TEXT NOT NULL, part TEXT NOT NULL,
  quantity INTEGER NOT NULL, note TEXT, state TEXT NOT NULL DEFAULT 'requested',
  requested_at TEXT NOT NULL, by_user TEXT, device_id TEXT, decided_at TEXT, decided_by TEXT,
  reply TEXT, version INTEGER NOT NULL DEFAULT 0, hlc TEXT);
CREATE INDEX part_requests_job ON part_requests(job_id);
CREATE INDEX part_requests_state ON part_requests(state, requested_at);
"""

# Client migration 2 and server migration 3: where and how precisely a photo was located.
ATTACHMENT_GPS_DDL = """
ALTER TABLE attachments ADD COLUMN lat REAL;
ALTER TABLE attachments ADD COLUMN lon REAL;
ALTER TABLE attachments ADD COLUMN accuracy_m REAL;
ALTER TABLE attachments ADD COLUMN fix_age_s REAL;
"""

# Client migration 3 and server migration 6: hazards and rectification notices.
RECTIFICATION_DDL = """
CREATE TABLE rectification_notices (
  id TEXT PRIMARY KEY, job_id TEXT NOT NULL, customer_id TEXT NOT NULL, submission_id TEXT,
  number TEXT NOT NULL, issued_at TEXT NOT NULL, deadline TEXT NOT NULL, hazard_count INTEGER,
  by_user TEXT, device_id TEXT, version INTEGER NOT NULL DEFAULT 0, hlc TEXT);
CREATE INDEX rectification_notices_customer ON rectification_notices(customer_id);
CREATE TABLE hazards (
  id TEXT PRIMARY KEY, job_id TEXT NOT NULL, customer_id TEXT NOT NULL, submission_id TEXT,
  notice_id TEXT, question TEXT NOT NULL, label TEXT, level TEXT NOT NULL,
  deadline_days INTEGER, due_at TEXT, note TEXT, status TEXT NOT NULL DEFAULT 'open',
  check_job_id TEXT, found_at TEXT, by_user TEXT, device_id TEXT,
  version INTEGER NOT NULL DEFAULT 0, hlc TEXT);
CREATE INDEX hazards_customer ON hazards(customer_id, status);
"""

# Client migration 8 and server migration 21: a signature binds the hash of what was signed.
SIGNATURE_HASH_DDL = """
ALTER TABLE signatures ADD COLUMN content_hash TEXT;
"""


# Every change to the synced tables, in the order released: the tablet's migrations
# (replica/store.py) and the server's (sync_server/storage/db.py) each run all of them, in
# this order, among their own (tests/core/test_record_schema.py checks both lists and that
# the tables come out with exactly TABLES' columns). Never edit one: add one at the end.
RECORD_SCHEMA = (RECORD_DDL_V1, ATTACHMENT_GPS_DDL, RECTIFICATION_DDL, ORG_SETTINGS_DDL,
                 BILLS_DDL, INTERACTIONS_DDL, SIGNATURE_HASH_DDL)


def escape_like(word: str) -> str:
    """``word`` matched literally inside a LIKE pattern written with ``ESCAPE '\\'``
    (the tablet's and the server's searches alike)."""
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

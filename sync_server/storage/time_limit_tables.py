"""Server migration 23: time limits per job kind × priority for each step, the escalation
chain an alert climbs until someone acknowledges it, and the staff's phones it texts.

Server-only tables (services/time_limits.py, services/escalation.py). ``time_limits`` holds
only what the utility set: a step without a row has no limit, except accepting, which falls
back to the server's ``--accept-within``. ``alert_escalations`` records each level reached
once per alert (the primary key keeps two servers from texting the same level twice).
Plain DDL only, so postgres.pg_ddl derives the PostgreSQL version as for every migration.
"""

from __future__ import annotations

TIME_LIMITS_DDL = """
ALTER TABLE users ADD COLUMN phone TEXT;
CREATE TABLE time_limits (
  kind TEXT NOT NULL, priority INTEGER NOT NULL, step TEXT NOT NULL,
  minutes INTEGER NOT NULL, updated_by TEXT, updated_at TEXT,
  PRIMARY KEY (kind, priority, step));
CREATE TABLE escalation_chain (
  level INTEGER PRIMARY KEY, role TEXT NOT NULL, after_minutes INTEGER NOT NULL,
  updated_by TEXT, updated_at TEXT);
CREATE TABLE alert_escalations (
  alert_id INTEGER NOT NULL, level INTEGER NOT NULL, role TEXT NOT NULL, at TEXT NOT NULL,
  recipients INTEGER NOT NULL, PRIMARY KEY (alert_id, level));
"""

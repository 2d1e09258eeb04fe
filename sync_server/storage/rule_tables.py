"""Server migration 25: every version of every rule (services/rule_book.py), written when a
rule is created, edited, or replaced by a newer shipped default, so the rules page can say
what a rule said before and who changed it. Plain DDL only, so postgres.pg_ddl derives the
PostgreSQL version as for every migration.
"""

from __future__ import annotations

RULE_VERSIONS_DDL = """
CREATE TABLE rule_versions (
  rule_id TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, event TEXT NOT NULL,
  condition TEXT NOT NULL, action TEXT NOT NULL, params TEXT NOT NULL,
  enabled INTEGER NOT NULL, by_user TEXT NOT NULL, at TEXT NOT NULL,
  PRIMARY KEY (rule_id, version));
"""

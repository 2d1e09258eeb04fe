"""Server migration 22: the knowledge base as the office writes it (services/kb_authoring.py).

Server-only tables, never pulled (pull reads synced tables only): ``kb_drafts`` holds each
article's working copy, ``kb_versions`` every version ever published. What tablets and the
portal read stays the synced ``kb_articles`` row, written only when a version is published.

``revision`` counts the saves of a draft; an editing page sends the revision it was opened
at, so a save over someone else's newer save is refused instead of silently replacing it.
Lists (tags, fault codes, figures) are JSON text, as ``kb_articles.tags`` already is.
Plain DDL only, so postgres.pg_ddl derives the PostgreSQL version as for every migration.
"""

from __future__ import annotations

KB_AUTHORING_DDL = """
CREATE TABLE kb_drafts (
  article_id TEXT PRIMARY KEY, title TEXT NOT NULL, category TEXT NOT NULL,
  tags TEXT NOT NULL DEFAULT '[]', fault_codes TEXT NOT NULL DEFAULT '[]',
  body TEXT NOT NULL DEFAULT '', figures TEXT NOT NULL DEFAULT '[]',
  revision INTEGER NOT NULL, published_revision INTEGER,
  published_version INTEGER NOT NULL DEFAULT 0, withdrawn_at TEXT, withdrawn_by TEXT,
  created_by TEXT NOT NULL, created_at TEXT NOT NULL, saved_by TEXT NOT NULL,
  saved_at TEXT NOT NULL);
CREATE INDEX kb_drafts_saved ON kb_drafts(saved_at);
CREATE TABLE kb_versions (
  article_id TEXT NOT NULL, version INTEGER NOT NULL, title TEXT NOT NULL,
  category TEXT NOT NULL, tags TEXT NOT NULL, fault_codes TEXT NOT NULL, body TEXT NOT NULL,
  figures TEXT NOT NULL, published_by TEXT NOT NULL, published_at TEXT NOT NULL,
  change_seq INTEGER, PRIMARY KEY (article_id, version));
"""

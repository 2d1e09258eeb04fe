"""The server's own state (``server_state``: a key and a text value), read and written here
only, with every key it holds named once.

    read(conn, RULES_CURSOR) -> "1234" or None
    write(conn, PORTAL_URL, "https://…")      # set, replacing what was there
    write_once(conn, BILLING_FROM, "2026-01-01")   # set unless already set
"""

from __future__ import annotations

from sync_server.storage.db import Connection

RULES_CURSOR = "rules.cursor"  # the change-log position the rules engine has read up to
BILLING_FROM = "billing.from"  # readings before this day were billed by the old system
PORTAL_URL = "portal.url"  # where customers reach the portal
# "pending" (set by migration 20) until the legacy audit log is sealed, then "done".
LEGACY_SEAL = "audit.legacy_seal"
SECRET = "secret."  # + a secret's name (services/keys.py)
# Which history the change log is (storage/epoch.py): a random id, renewed by a restore,
# and what that restore came from (JSON: the backup's highest seq and when it was made).
EPOCH = "sync.epoch"
EPOCH_RESTORED = "sync.epoch.restored"
# An XLSForm uploaded in the office and checked, waiting to be published (+ its token).
FORM_PENDING = "forms.pending."


def read(conn: Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM server_state WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def write(conn: Connection, key: str, value: str) -> None:
    conn.execute("INSERT INTO server_state(key, value) VALUES (?, ?) ON CONFLICT (key)"
                 " DO UPDATE SET value = excluded.value", [key, value])


def write_once(conn: Connection, key: str, value: str) -> None:
    conn.execute("INSERT INTO server_state(key, value) VALUES (?, ?)"
                 " ON CONFLICT (key) DO NOTHING", [key, value])

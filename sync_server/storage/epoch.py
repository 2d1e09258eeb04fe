"""The identity of the server's history (its epoch), so a tablet can tell a restored server
from the one it last synced with.

A restore puts the change log back at the backup's moment: the sequence numbers after it
will be written again, with other changes. A tablet whose pull cursor is past that moment
would skip them, and the work it pushed after the backup is gone from the server while its
outbox says "done". The epoch is a random id written once when the database is first
opened and a new one written into every restored copy; every pull and push answer carries
it, and a tablet that sees it change pulls again from 0 and resends its acknowledged work
(``fieldapp/sync/resend.py``).

    install(conn)                       # at every start: written once, never replaced
    current(conn) -> "01J…" or None
    renew(conn, {"last_seq": 812, …})   # in a restored copy (backup.restore, new-epoch)
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sync_server.storage import server_state
from sync_server.storage.db import DATABASE_URL_ENV, Connection, open_database, utc_now
from sync_server.storage.server_state import EPOCH, EPOCH_RESTORED


def new_epoch() -> str:
    return secrets.token_hex(16)


def install(conn: Connection) -> None:
    server_state.write_once(conn, EPOCH, new_epoch())


def current(conn: Connection) -> str | None:
    return server_state.read(conn, EPOCH)


def restored_from(conn: Connection) -> dict[str, Any] | None:
    """What the last restore came from (``renew``'s ``source``), or None if never restored."""
    text = server_state.read(conn, EPOCH_RESTORED)
    try:
        found = json.loads(text) if text else None
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def renew(conn: Connection, source: dict[str, Any]) -> str:
    """A new epoch for a restored copy; ``source`` says what it was restored from."""
    epoch = new_epoch()
    server_state.write(conn, EPOCH, epoch)
    server_state.write(conn, EPOCH_RESTORED, json.dumps(
        {**source, "restored_at": utc_now()}, ensure_ascii=False))
    return epoch


def main(argv: Sequence[str]) -> int:
    """``python -m sync_server new-epoch``: after restoring PostgreSQL with pg_restore (the
    SQLite restore does this itself), so tablets know the server's history went back."""
    parser = argparse.ArgumentParser(prog="sync_server new-epoch", description=main.__doc__)
    parser.add_argument("--data", type=Path, default=Path("var/server"))
    parser.add_argument("--database-url", default=os.environ.get(DATABASE_URL_ENV) or None)
    args = parser.parse_args(argv)
    if not args.database_url and not (args.data / "server.sqlite3").is_file():
        print(f"{args.data} 里没有服务器数据库", file=sys.stderr)
        return 1
    db = open_database(args.data, args.database_url)
    try:
        with db.write() as conn:
            last = conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
            epoch = renew(conn, {"last_seq": last, "via": "new-epoch"})
    finally:
        db.close()
    print(f"新的服务器纪元 {epoch}（变更日志到 {last}）：平板下次同步会重新拉取并重发已确认的工作")
    return 0

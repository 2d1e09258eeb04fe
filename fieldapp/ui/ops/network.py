"""Sync and login: they run on the sync thread and reach the replica only through ``db``,
the database worker, so the app keeps one connection and one clock."""

from __future__ import annotations

from collections.abc import Callable

from fieldapp.position import Position
from fieldapp.replica import Replica, Session
from fieldapp.sync.client import DbRunner, Progress, SyncClient, SyncReport


def sync(replica: Replica, *, server_url: str, db: DbRunner,
         progress: Callable[[Progress], None] | None = None,
         position: Position | None = None) -> SyncReport:
    """One sync; each replica step runs through ``db`` (the database worker), so the app's
    one connection and clock see everything the server sent. ``position``: the fix when
    the sync started, reported if the technician agreed to it."""
    return SyncClient(replica, server_url, db=db).sync(progress=progress, position=position)


def login(replica: Replica, *, server_url: str, db: DbRunner, username: str,
          password: str) -> Session:
    return SyncClient(replica, server_url, db=db).login(username, password)

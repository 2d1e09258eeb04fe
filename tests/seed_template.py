"""A seeded server database made once per test process and copied for every server after.

Migrating and seeding a server's storage costs about half a second per test (the test world,
more for the black-box suite's fleet); a copy costs a few milliseconds. On SQLite the copy is
of the files the seed left in the data directory; on PostgreSQL it is ``CREATE DATABASE …
TEMPLATE …``. Each server gets its own copy, so a test that changes its storage changes only
its own. Only a storage nothing has written yet is filled from the template: one that a
test already set up (``init``, a restored backup) is seeded for real, as before.

The world's jobs are for today, so a template is made again when the local date changes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

from fieldapp.local_time import LOCAL_ZONE
from tests import pg

if TYPE_CHECKING:
    from tests.conftest import ServerProcess

DB_FILE = "server.sqlite3"
# The templates made, by label: kept here, not on the instances, because pytest imports
# tests/conftest.py as ``conftest`` while the test modules import it as ``tests.conftest``,
# so its module-level objects exist twice in a test process.
_SQLITE: dict[str, tuple[str, Path]] = {}  # label → (date, directory of the seeded files)
_PG: dict[str, tuple[str, str]] = {}  # label → (date, template database)


class SeedTemplate:
    """``seed`` run once per process and local date, copied into each fresh storage."""

    def __init__(self, label: str, seed: Callable[[ServerProcess], None]) -> None:
        self.label = label
        self.seed = seed

    def apply(self, server: ServerProcess) -> None:
        """Fill ``server``'s storage with the seed: from the template if the storage is
        empty, else by running the seed on it."""
        day = datetime.now(LOCAL_ZONE).date().isoformat()
        if server.database_url:
            self._apply_pg(server, day)
        else:
            self._apply_sqlite(server, day)

    def _apply_sqlite(self, server: ServerProcess, day: str) -> None:
        server.data_dir.mkdir(parents=True, exist_ok=True)
        if (server.data_dir / DB_FILE).exists():
            self.seed(server)
            return
        made = _SQLITE.get(self.label)
        if made and made[0] == day:
            shutil.copytree(made[1], server.data_dir, dirs_exist_ok=True)
            return
        before = set(os.listdir(server.data_dir))
        self.seed(server)
        self._drop_sqlite()
        keep = Path(tempfile.mkdtemp(prefix=f"fieldapp-{self.label}-"))
        for name in sorted(set(os.listdir(server.data_dir)) - before):
            source = server.data_dir / name
            if source.is_dir():
                shutil.copytree(source, keep / name)
            else:
                shutil.copyfile(source, keep / name)
        _SQLITE[self.label] = (day, keep)

    def _apply_pg(self, server: ServerProcess, day: str) -> None:
        assert server.database_url
        if pg.current is None or not _empty(server.database_url):
            self.seed(server)
            return
        name = server.database_url.rsplit("/", 1)[1]
        with psycopg.connect(pg.current.admin_url, autocommit=True) as conn:
            made = _PG.get(self.label)
            if made and made[0] == day:
                conn.execute(f'DROP DATABASE "{name}"')
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{made[1]}"')
                return
            self.seed(server)
            self._drop_pg(conn)
            template = f"tpl_{self.label}_{os.getpid()}_{day.replace('-', '')}"
            conn.execute(f'CREATE DATABASE "{template}" TEMPLATE "{name}"')
            _PG[self.label] = (day, template)

    def drop(self) -> None:
        """At the end of the run (before the cluster stops): the templates go."""
        self._drop_sqlite()
        if self.label in _PG and pg.current:
            with psycopg.connect(pg.current.admin_url, autocommit=True) as conn:
                self._drop_pg(conn)
        _PG.pop(self.label, None)

    def _drop_sqlite(self) -> None:
        made = _SQLITE.pop(self.label, None)
        if made:
            shutil.rmtree(made[1], ignore_errors=True)

    def _drop_pg(self, conn: psycopg.Connection) -> None:
        made = _PG.pop(self.label, None)
        if made:
            conn.execute(f'DROP DATABASE IF EXISTS "{made[1]}"')


def _empty(url: str) -> bool:
    """No migration has run on the database at ``url`` (nothing has used it)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT to_regclass('schema_migrations') IS NULL").fetchone()
    return bool(row and row[0])

"""PostgreSQL storage: the one place that knows how PostgreSQL differs from SQLite.

Server code writes SQLite-flavoured SQL that is portable but for a few spellings, and
``translate`` rewrites those: ``?`` placeholders, and ``json_extract`` on JSON kept as text.
Statements that only SQLite understands (``INSERT OR …``, ``[name]`` quoting, ``PRAGMA``)
are refused here rather than half-translated: write them portably instead (``ON CONFLICT``,
``"name"``, ``INSERT … RETURNING``). Migrations are the same numbered list as on SQLite,
their DDL derived by ``pg_ddl``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from sync_server.storage import bulk_insert, bulk_update
from sync_server.storage.db import MIGRATIONS, migrate

# Key of the advisory lock every write transaction takes (any constant shared by all
# server processes; nothing else in the database may use it).
WRITE_LOCK = 0x4649454C44  # "FIELD"

POOL_SIZE = 10  # per process; writes serialise anyway, reads and waits need a few more


class Row:
    """A result row like ``sqlite3.Row``: ``row[0]``, ``row["name"]``, ``keys()``, ``dict(row)``.

    Not a tuple subclass, so templates reading ``row.count`` or ``row.index`` get the column.
    """

    __slots__ = ("_values", "_index")

    def __init__(self, values: Sequence[Any], index: dict[str, int]) -> None:
        self._values, self._index = tuple(values), index

    def __getitem__(self, key: int | str | slice) -> Any:
        return self._values[self._index[key] if isinstance(key, str) else key]

    def keys(self) -> list[str]:
        return list(self._index)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._index, self._values, strict=False))})"


def _rows(cursor: psycopg.Cursor[Any]) -> Any:
    index: dict[str, int] = {}
    for i, column in enumerate(cursor.description or ()):
        index.setdefault(column.name, i)  # like sqlite3.Row: a repeated name is the first one
    return lambda values: Row(values, index)


_SQLITE_ONLY = re.compile(r"\bINSERT\s+OR\b|\[\w+\]|\bPRAGMA\b|\bAUTOINCREMENT\b|"
                          r"\bBEGIN\s+IMMEDIATE\b", re.IGNORECASE)
_JSON_KEY = re.compile(r"json_extract\(([\w.]+), '\$\.(\w+)'\)")
_JSON_ROOT = re.compile(r"json_extract\(([\w.]+), '\$'\)")
# ``rows.AMONG``: text values given as one JSON array; any other ``json_each`` of one
# parameter is of a JSON object, its keys and values as text (``moved._LATEST``).
_AMONG = re.compile(r"IN \(SELECT value FROM json_each\(\?\)\)")
_EACH = re.compile(r"\bjson_each\(\?\)")


@lru_cache(maxsize=2048)
def translate(sql: str) -> str:
    """SQLite-flavoured SQL as PostgreSQL (and psycopg's ``%s`` placeholders) want it.

    Server SQL has no ``?`` or ``%`` inside string literals, so both are placeholders
    and pattern characters respectively, wherever they appear.
    """
    if _SQLITE_ONLY.search(sql):
        raise ValueError(f"SQLite-only SQL, write it portably: {sql}")
    sql = _JSON_KEY.sub(r"(\1::jsonb ->> '\2')", sql)
    sql = _JSON_ROOT.sub(r"(\1::jsonb #>> '{}')", sql)
    sql = _AMONG.sub("IN (SELECT json_array_elements_text(?::json))", sql)
    sql = _EACH.sub("json_each_text(?::json)", sql)
    if "json_extract" in sql:
        raise ValueError(f"json_extract form not translated: {sql}")
    return sql.replace("%", "%%").replace("?", "%s")


_AUTOINCREMENT = re.compile(r"(\w+) INTEGER PRIMARY KEY AUTOINCREMENT")
_NEXT_ID = """CREATE FUNCTION {table}_next_{col}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.{col} IS NULL THEN
    NEW.{col} := (SELECT coalesce(max({col}), 0) + 1 FROM {table});
  END IF;
  RETURN NEW;
END $$"""
_NEXT_ID_TRIGGER = ("CREATE TRIGGER {table}_next_{col} BEFORE INSERT ON {table}"
                    " FOR EACH ROW EXECUTE FUNCTION {table}_next_{col}()")


def pg_ddl(statement: str) -> list[str]:
    """One SQLite DDL statement as PostgreSQL statements, by these rules only:

    - ``INTEGER PRIMARY KEY AUTOINCREMENT`` → a ``BIGINT`` key set by a trigger to max + 1.
      Like SQLite's AUTOINCREMENT (and unlike a sequence, which is not rolled back) this
      leaves no gaps: the change log is the audit trail. It relies on writers holding
      WRITE_LOCK; a writer that did not would fail on the primary key, not skip a number.
    - ``GENERATED … VIRTUAL`` → ``STORED`` (PostgreSQL 15 has stored generated columns only).
    - ``INTEGER`` → ``BIGINT`` and ``REAL`` → ``DOUBLE PRECISION``: SQLite's are 8 bytes.
    - ``TEXT`` → ``TEXT COLLATE "C"``: SQLite compares text bytewise, and HLCs and ISO
      times are compared and ordered as text, whatever the database's locale.
    """
    extra = []
    table = re.match(r"CREATE TABLE (\w+)", statement)
    for col in _AUTOINCREMENT.findall(statement):
        assert table, statement
        extra += [_NEXT_ID.format(table=table[1], col=col),
                  _NEXT_ID_TRIGGER.format(table=table[1], col=col)]
    statement = _AUTOINCREMENT.sub(r"\1 BIGINT PRIMARY KEY", statement)
    statement = re.sub(r"(GENERATED ALWAYS AS \([^)]*\)) VIRTUAL", r"\1 STORED", statement)
    statement = re.sub(r"\bINTEGER\b", "BIGINT", statement)
    statement = re.sub(r"\bREAL\b", "DOUBLE PRECISION", statement)
    statement = re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', statement)
    return [statement, *extra]


def pg_statements(number: int) -> list[str]:
    return [pg for s in MIGRATIONS[number].split(";") if s.strip() for pg in pg_ddl(s.strip())]


class PgConnection:
    """A pooled psycopg connection that takes the server's SQLite-flavoured SQL."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> psycopg.Cursor[Any]:
        return self._conn.execute(translate(sql), list(parameters))

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> None:
        """One statement for many rows. A plain ``INSERT … VALUES (?, …)`` (with or without
        ``ON CONFLICT``) goes as arrays, one per column, unnested by the server
        (``bulk_insert.py``): one statement per block instead of one per row; so does an
        ``UPDATE … SET c = ?, … WHERE id = ?`` (``bulk_update.py``). Anything else, in the
        write's pipeline, goes out as one stream of statements."""
        rows = [list(p) for p in parameters]
        if not rows:
            return
        if bulk_insert.insert(self._conn, sql, rows, translate) or bulk_update.update(
                self._conn, sql, rows):
            return
        with self._conn.cursor() as cursor:
            cursor.executemany(translate(sql), rows)


class PgDatabase:
    """PostgreSQL storage shared by any number of server processes."""

    def __init__(self, url: str) -> None:
        self.pool = ConnectionPool(url, min_size=1, max_size=POOL_SIZE, open=True,
                                   kwargs={"row_factory": _rows},
                                   check=ConnectionPool.check_connection,
                                   name="fieldapp")
        try:
            self.pool.wait(timeout=30)  # a wrong URL fails at start-up, not on first request
            migrate(self, pg_statements)
        except BaseException:
            self.pool.close()
            raise

    @contextmanager
    def read(self) -> Iterator[PgConnection]:
        with self.pool.connection() as conn:
            try:
                yield PgConnection(conn)
            finally:
                conn.rollback()  # a read changes nothing; end its snapshot

    @contextmanager
    def write(self) -> Iterator[PgConnection]:
        """One transaction holding WRITE_LOCK: all of it commits or none of it does.

        Writers must serialise exactly as on SQLite, not merely avoid conflicts: pull hands
        out changes by sequence number and the device keeps the highest one as its cursor.
        If two writers overlapped, seq 11 could commit (and be pulled) before seq 10, and
        a device at cursor 11 would never see 10. Holding the lock from before the first
        insert to commit makes change-log numbers visible strictly in order.
        """
        with self.pool.connection() as conn:
            try:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [WRITE_LOCK])
                # Pipeline mode: statements whose results nobody reads (inserts, savepoints)
                # go out without waiting for the server; a fetch waits for what it needs.
                # The lock is held for a whole push, so its round trips are everyone's wait.
                with conn.pipeline():
                    yield PgConnection(conn)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()  # releases the lock with the transaction

    def close(self) -> None:
        self.pool.close()

"""Many rows inserted on PostgreSQL as one statement of arrays:

    INSERT INTO t (a, b) SELECT * FROM unnest(?::text[], ?::bigint[]) [ON CONFLICT …]

Sent through psycopg's ``executemany`` every row is its own Bind and Execute, and the
client's work per row is most of an import's time; as arrays, a block of a thousand rows
is one statement: 1.6x faster with a third of the client's CPU, which the import needs for
its own checks (``bench/bench_bulk_insert.py``). The result is that of inserting the rows
one after the other:

- the rows go in the given order (``unnest`` keeps it), so row triggers fire in that order;
- ``ON CONFLICT … DO UPDATE`` may not touch one row twice in a statement, so a row whose
  conflict key repeats an earlier one of the block starts a new statement (the later wins,
  as it would one at a time);
- a table whose key the statement does not give (a trigger numbers it from the rows before)
  and any other statement shape go row by row, as before (``insert`` returns False).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import psycopg

_INSERT = re.compile(r'\s*INSERT INTO "?(\w+)"?\s*\(([^)]*)\)\s*VALUES\s*\(\s*\?(?:\s*,\s*\?)*\s*\)'
                     r"(\s+ON CONFLICT\s*(?:\(([^)]*)\))?\s+DO\s+(?:NOTHING|UPDATE SET [^;]*))?\s*",
                     re.IGNORECASE | re.DOTALL)
_SCALAR = (str, int, float)


class Table:
    def __init__(self, types: dict[str, str], key: set[str]) -> None:
        self.types, self.key = types, key


_tables: dict[str, Table] = {}  # per process; a column not in it is looked up again


def table_of(conn: psycopg.Connection[Any], name: str, columns: list[str]) -> Table | None:
    known = _tables.get(name)
    if known is not None and all(c in known.types for c in columns):
        return known
    types = {r[0]: r[1] for r in conn.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a"
        " WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped",
        [name]).fetchall()}
    key = {r[0] for r in conn.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
        " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass(%s) AND i.indisprimary",
        [name]).fetchall()}
    if not types:
        return None
    _tables[name] = Table(types, key)
    return _tables[name]


def column_array(values: list[Any], pg_type: str) -> list[Any] | None:
    """One column's values as one array can take them: all of one Python type (an int in
    a float column as a float, a bool as the integer SQLite keeps), else None."""
    kinds = {type(v) for v in values if v is not None}
    if bool in kinds:
        values = [int(v) if isinstance(v, bool) else v for v in values]
        kinds = (kinds - {bool}) | {int}
    if kinds == {int, float} or (kinds == {int} and pg_type == "double precision"):
        return [float(v) if v is not None else None for v in values]
    if len(kinds) > 1 or not kinds <= set(_SCALAR):
        return None
    return values


def insert(conn: psycopg.Connection[Any], sql: str, rows: list[list[Any]],
           translate: Callable[[str], str]) -> bool:
    """Insert ``rows`` as ``sql`` says, as arrays; False (nothing done) when ``sql`` is not
    a plain insert of given keys or a column's values do not fit one array."""
    found = _INSERT.fullmatch(sql)
    if found is None or len(rows) < 2:
        return False
    name, suffix, target = found[1], found[3] or "", found[4]
    columns = [c.strip().strip('"') for c in found[2].split(",")]
    table = table_of(conn, name, columns)
    if table is None or not table.key <= set(columns):
        return False
    if suffix and "UPDATE" in suffix.upper() and not target:
        return False
    arrays = []
    for i, column in enumerate(columns):
        values = column_array([row[i] for row in rows], table.types[column])
        if values is None:
            return False
        arrays.append(values)
    # %b: arrays in binary, each element sent as its bytes; as text, every element of
    # every array would be quoted and escaped by the client.
    unnest = ", ".join(f"%b::{table.types[c]}[]" for c in columns)
    statement = (f'INSERT INTO "{name}" ({", ".join(columns)})'
                 f" SELECT * FROM unnest({unnest}){translate(suffix)}")
    for start, end in _runs(rows, columns, target if "UPDATE" in suffix.upper() else None):
        conn.execute(statement, [a[start:end] for a in arrays])
    return True


def _runs(rows: list[list[Any]], columns: list[str],
          target: str | None) -> list[tuple[int, int]]:
    """Row ranges whose conflict keys do not repeat (one range when nothing can conflict)."""
    if target is None:
        return [(0, len(rows))]
    at = [columns.index(c.strip().strip('"')) for c in target.split(",")]
    runs: list[tuple[int, int]] = []
    start, seen = 0, set[tuple[Any, ...]]()
    for i, row in enumerate(rows):
        key = tuple(row[j] for j in at)
        if key in seen:
            runs.append((start, i))
            start, seen = i, set()
        seen.add(key)
    runs.append((start, len(rows)))
    return runs

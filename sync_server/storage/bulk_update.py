"""Many rows updated by id on PostgreSQL as one statement of arrays:

    UPDATE t SET a = v.a, b = v.b FROM unnest(?::text[], ?::bigint[], ?::text[]) AS v(a, b, id)
    WHERE t.id = v.id

A push's updates of one table with the same columns (a batch of tag edits: 250 customers'
``UPDATE … SET tags = ?, version = ?, hlc = ? WHERE id = ?``) went row by row through
psycopg's ``executemany``, the largest of a push's writes on PostgreSQL. As one statement
the result is that of the updates one after the other, because each sets its columns to
given values (no ``col = col + 1``) and the tables have no update triggers: of several
updates of one id the last one's values are what stays, so only it is sent (``UPDATE …
FROM`` would apply just one of them, unpredictably). Any other statement shape, or
values that do not fit one array a column, goes row by row as before (``update``
returns False).
"""

from __future__ import annotations

import re
from typing import Any

import psycopg

from sync_server.storage.bulk_insert import column_array, table_of

_UPDATE = re.compile(r'\s*UPDATE "?(\w+)"?\s+SET\s+(.+?)\s+WHERE\s+"?id"?\s*=\s*\?\s*',
                     re.IGNORECASE | re.DOTALL)
_SET = re.compile(r'\s*"?(\w+)"?\s*=\s*\?\s*')


def update(conn: psycopg.Connection[Any], sql: str, rows: list[list[Any]]) -> bool:
    """Apply ``rows`` (each the SET values, then the id) as ``sql`` says, as arrays;
    False (nothing done) when ``sql`` is not ``UPDATE t SET c = ?, … WHERE id = ?``."""
    found = _UPDATE.fullmatch(sql)
    if found is None or len(rows) < 2:
        return False
    sets = [_SET.fullmatch(part) for part in found[2].split(",")]
    if not all(sets):
        return False
    name = found[1]
    columns = [m[1] for m in sets if m is not None]
    if "id" in columns or not all(type(row[-1]) is str for row in rows):
        return False
    last = {row[-1]: row for row in rows}  # a later update of an id replaces an earlier
    kept = list(last.values())
    table = table_of(conn, name, [*columns, "id"])
    if table is None or not all(c in table.types for c in [*columns, "id"]):
        return False  # row by row, which says what is wrong as it always did
    types = table.types
    arrays = []
    for i, column in enumerate([*columns, "id"]):
        values = column_array([row[i] for row in kept], types[column])
        if values is None:
            return False
        arrays.append(values)
    unnest = ", ".join(f"%b::{types[c]}[]" for c in [*columns, "id"])
    aliases = ", ".join(f'"{c}"' for c in [*columns, "id"])
    assign = ", ".join(f'"{c}" = v."{c}"' for c in columns)
    conn.execute(f'UPDATE "{name}" SET {assign} FROM unnest({unnest}) AS v({aliases})'
                 f' WHERE "{name}".id = v.id', arrays)
    return True

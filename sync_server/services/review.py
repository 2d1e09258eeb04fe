"""The supervisor's review of conflicts: every value that lost a merge or was refused is
listed with who, when and which device, and resolved by keeping the current value, taking
the preserved one, or entering another.

A resolution that changes data is an ordinary office mutation through ``merge`` (so the
change log audits it and tablets pull it); the conflict row keeps both values and records
who resolved it, when, and how. A resolution the rules refuse leaves the conflict open.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from fieldapp.domain.roles import SUPERVISORS
from fieldapp.ids import new_id
from fieldapp.local_time import now_iso
from fieldapp.wire import Mutation
from fieldapp.write_policy import Door
from sync_server.clock import ServerClock
from sync_server.errors import ApiError
from sync_server.services.auth import Principal
from sync_server.services.districts import customers_in, district_of
from sync_server.storage import rows
from sync_server.storage.db import Connection, utc_now
from sync_server.sync import merge

REVIEWERS = SUPERVISORS
Choice = Literal["current", "preserved", "edit"]

# Columns holding JSON text (an answer's value): shown decoded, entered values encoded.
JSON_COLUMNS = {("answers", "value")}


@dataclass
class Conflict:
    id: int
    tbl: str
    record_id: str
    field: str | None
    reason: str
    kept: Any
    preserved: Any
    current: Any
    exists: bool
    preserved_by: str | None
    preserved_device: str | None
    preserved_hlc: str | None
    at: str
    resolved_at: str | None
    resolved_by: str | None
    resolution: dict[str, Any] | None
    job_id: str | None

    @property
    def resolvable(self) -> bool:
        return self.field is not None and self.exists and self.resolved_at is None


PAGE = 100  # conflicts a page, newest first
SHOW = ("open", "resolved", "all")

# The customer a conflict concerns: named on the row since migration 18; for an older row,
# the customer its record was last logged under (the change log keeps it for deleted
# records too), else a tombstone's. A conflict with none (a global table, a refused insert
# of a record that never existed) belongs to no district: only unscoped accounts see it.
CUSTOMER = ("coalesce(k.customer_id,"
            " (SELECT ch.customer_id FROM changes ch WHERE ch.tbl = k.tbl"
            "  AND ch.record_id = k.record_id AND ch.customer_id IS NOT NULL"
            "  ORDER BY ch.seq DESC LIMIT 1),"
            " (SELECT t.customer_id FROM tombstones t WHERE t.tbl = k.tbl"
            "  AND t.record_id = k.record_id AND t.customer_id IS NOT NULL"
            "  ORDER BY t.id DESC LIMIT 1))")


@dataclass(frozen=True)
class Filter:
    """What the review lists: open, resolved or all; one reason; one table; one district
    (a district-scoped reviewer's, None for all)."""
    show: str = "open"
    reason: str = ""
    table: str = ""
    district: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if self.show == "open":
            clauses.append("k.resolved_at IS NULL")
        elif self.show == "resolved":
            clauses.append("k.resolved_at IS NOT NULL")
        if self.reason:
            clauses.append("k.reason = ?")
            params.append(self.reason)
        if self.table:
            clauses.append("k.tbl = ?")
            params.append(self.table)
        if self.district:
            clauses.append(customers_in(CUSTOMER))
            params.append(self.district)
        return " AND ".join(clauses) or "1 = 1", params


@dataclass
class Page:
    items: list[Conflict]
    older: int | None  # the cursor of the next older page (?before=), None at the oldest
    newer: int | None  # the cursor of the next newer page (?after=), None at the newest


def page(conn: Connection, which: Filter, before: int | None = None,
         after: int | None = None, size: int = PAGE) -> Page:
    """One page of conflicts, newest first: the newest, those older than ``before``, or
    those just newer than ``after`` (an id cursor: rows added meanwhile shift no page)."""
    where, params = which.where()
    if after is not None:
        rows = conn.execute(f"SELECT k.* FROM conflicts k WHERE {where} AND k.id > ?"
                            " ORDER BY k.id LIMIT ?", [*params, after, size + 1]).fetchall()
        more_newer, rows = len(rows) > size, list(reversed(rows[:size]))
        more_older = bool(rows) and _exists(conn, where, params, "k.id < ?", rows[-1]["id"])
    else:
        cursor = ([" AND k.id < ?"], [before]) if before is not None else ([], [])
        rows = conn.execute(f"SELECT k.* FROM conflicts k WHERE {where}{''.join(cursor[0])}"
                            " ORDER BY k.id DESC LIMIT ?",
                            [*params, *cursor[1], size + 1]).fetchall()
        more_older, rows = len(rows) > size, rows[:size]
        more_newer = bool(rows) and _exists(conn, where, params, "k.id > ?", rows[0]["id"])
    return Page(items=[_conflict(conn, row) for row in rows],
                older=rows[-1]["id"] if rows and more_older else None,
                newer=rows[0]["id"] if rows and more_newer else None)


def _exists(conn: Connection, where: str, params: list[Any], cond: str, cursor: int) -> bool:
    return conn.execute(f"SELECT EXISTS (SELECT 1 FROM conflicts k WHERE {where} AND {cond})",
                        [*params, cursor]).fetchone()[0] in (1, True)


def open_count(conn: Connection, district: str | None = None) -> int:
    """The open conflicts a reviewer of ``district`` (None: every one) has to look at."""
    where, params = Filter("open", district=district).where()
    row = conn.execute(f"SELECT count(*) FROM conflicts k WHERE {where}", params).fetchone()
    return int(row[0])


def reasons(conn: Connection) -> list[str]:
    """The reasons on record, for the filter (codes only, no customer data)."""
    return [r[0] for r in conn.execute("SELECT DISTINCT reason FROM conflicts ORDER BY reason")]


def get(conn: Connection, conflict_id: int, district: str | None = None) -> Conflict | None:
    """The conflict, or None when there is none with that id in ``district`` (None: any)."""
    where, params = Filter("all", district=district).where()
    row = conn.execute(f"SELECT k.* FROM conflicts k WHERE k.id = ? AND {where}",
                       [conflict_id, *params]).fetchone()
    return _conflict(conn, row) if row else None


def _conflict(conn: Connection, row: Any) -> Conflict:
    table, field = row["tbl"], row["field"]
    record = rows.current_row(conn, table, row["record_id"])
    current = record.get(field) if record and field else None
    job_id = (row["record_id"] if table == "jobs" else record.get("job_id")) if record else None
    return Conflict(
        id=row["id"], tbl=table, record_id=row["record_id"], field=field, reason=row["reason"],
        kept=_shown(table, field, _loads(row["kept"])),
        preserved=_shown(table, field, _loads(row["preserved"])),
        current=_shown(table, field, current), exists=record is not None,
        preserved_by=row["preserved_by"], preserved_device=row["preserved_device"],
        preserved_hlc=row["preserved_hlc"], at=row["at"], resolved_at=row["resolved_at"],
        resolved_by=row["resolved_by"], resolution=_loads(row["resolution"]), job_id=job_id)


def resolve(conn: Connection, conflict_id: int, choice: Choice, edited: str | None,
            who: Principal, clock: ServerClock) -> str | None:
    """Resolve one conflict; returns why it could not be, or None when it was. A conflict
    that does not exist, or is of a district not the reviewer's, is a 404 (ApiError): the
    same answer for both, so another district's ids reveal nothing."""
    if who.role not in REVIEWERS:
        return "只有主管或管理员可以处理冲突"
    conflict = get(conn, conflict_id, district_of(who))
    if conflict is None:
        raise ApiError(404, "unknown_conflict", f"没有编号为 {conflict_id} 的冲突")
    if conflict.resolved_at:
        return f"该冲突已由 {conflict.resolved_by} 于 {conflict.resolved_at} 处理"
    if not conflict.resolvable:
        return "该冲突没有可选的字段值（记录已不存在或整条被拒绝），只能查看"
    if choice == "current":
        value, mutation_id = conflict.current, None
    else:
        if choice == "preserved":
            value = conflict.preserved
        elif choice == "edit" and edited is not None and edited.strip():
            value = _typed(edited.strip(), conflict.current, conflict.kept)
        else:
            return "请选择一个值，或填写新的值"
        mutation_id = None
        if value != conflict.current:
            mutation_id, problem = _apply(conn, conflict, value, who, clock)
            if problem:
                return problem
    resolution = {"choice": choice, "value": value, "mutation_id": mutation_id}
    conn.execute("UPDATE conflicts SET resolved_at = ?, resolved_by = ?, resolution = ?"
                 " WHERE id = ?", [utc_now(), who.username,
                                  json.dumps(resolution, ensure_ascii=False), conflict_id])
    return None


def _apply(conn: Connection, conflict: Conflict, value: Any, who: Principal,
           clock: ServerClock) -> tuple[str, str | None]:
    field = conflict.field
    assert field is not None
    record = rows.current_row(conn, conflict.tbl, conflict.record_id)
    assert record is not None
    m = Mutation(mutation_id=new_id(), table=conflict.tbl, record_id=conflict.record_id,
                 op="update", fields={field: _stored(conflict.tbl, field, value)},
                 old={field: record[field]}, base_version=record["version"],
                 hlc=clock.now(), at=now_iso())
    result = merge.apply_mutation(conn, m, who, f"review-{conflict.id}", review=True,
                                  door=Door.OFFICE)
    if result.status not in ("applied", "merged"):
        return m.mutation_id, f"未能采用该值：{result.message or result.reason}"
    return m.mutation_id, None


def _typed(text: str, *examples: Any) -> Any:
    """An entered value in the type of the field's values (numbers stay numbers)."""
    for example in examples:
        if isinstance(example, bool) or example is None:
            continue
        try:
            if isinstance(example, int):
                return int(text)
            if isinstance(example, float):
                return float(text)
        except ValueError:
            return text
        break
    return text


def _loads(raw: str | None) -> Any:
    return json.loads(raw) if raw else None


def _shown(table: str, field: str | None, value: Any) -> Any:
    if (table, field) in JSON_COLUMNS and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _stored(table: str, field: str, value: Any) -> Any:
    if (table, field) in JSON_COLUMNS:
        return json.dumps(value, ensure_ascii=False)
    return value

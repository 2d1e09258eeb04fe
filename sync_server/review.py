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

from fieldapp.ids import new_id, now_iso
from fieldapp.wire import Mutation
from fieldapp.write_policy import Door
from sync_server import merge
from sync_server.auth import Principal
from sync_server.clock import ServerClock
from sync_server.db import Connection, utc_now

REVIEWERS = frozenset({"supervisor", "admin"})
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


def conflicts(conn: Connection, open_only: bool = True, limit: int = 200) -> list[Conflict]:
    where = "WHERE resolved_at IS NULL" if open_only else ""
    rows = conn.execute(f"SELECT * FROM conflicts {where} ORDER BY id DESC LIMIT ?",
                        [limit]).fetchall()
    return [_conflict(conn, row) for row in rows]


def get(conn: Connection, conflict_id: int) -> Conflict | None:
    row = conn.execute("SELECT * FROM conflicts WHERE id = ?", [conflict_id]).fetchone()
    return _conflict(conn, row) if row else None


def _conflict(conn: Connection, row: Any) -> Conflict:
    table, field = row["tbl"], row["field"]
    record = merge.current_row(conn, table, row["record_id"])
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
    """Resolve one conflict; returns why it could not be, or None when it was."""
    if who.role not in REVIEWERS:
        return "只有主管或管理员可以处理冲突"
    conflict = get(conn, conflict_id)
    if conflict is None:
        return f"没有编号为 {conflict_id} 的冲突"
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
    record = merge.current_row(conn, conflict.tbl, conflict.record_id)
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

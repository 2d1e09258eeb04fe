"""Why a job is on hold (挂起) or was handed back (退单), for the office: the latest such
interaction of each job, said in one line (``fieldapp.domain.holds.describe``)."""

from __future__ import annotations

from typing import Any

from fieldapp.domain import holds
from fieldapp.network.model import VALVE_CLOSED
from sync_server.storage.db import Connection

HELD = ("returned", "suspended")
LABEL = {"note": "备注", "call": "电话", holds.SUSPEND: "挂起", holds.RETURN: "退单",
         holds.RESUME: "恢复", VALVE_CLOSED: "已关阀门"}


def shown(note: dict[str, Any]) -> dict[str, Any]:
    """An interaction as the job page lists it: its kind in Chinese, its text readable."""
    kind = note["kind"]
    text = holds.describe(kind, note["text"]) if kind in holds.HOLD_KINDS else note["text"]
    return {**note, "label": LABEL.get(kind, kind), "shown": text}


def reasons_of(conn: Connection, job_ids: list[str]) -> dict[str, str]:
    """Job id → "退单：技能或工具不符（需要带压开孔设备）" for each job that has one."""
    out: dict[str, str] = {}
    for start in range(0, len(job_ids), 500):
        chunk = job_ids[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        for row in conn.execute(
                f"SELECT job_id, kind, text FROM interactions WHERE job_id IN ({marks})"
                " AND kind IN (?, ?) ORDER BY at, hlc", [*chunk, holds.SUSPEND, holds.RETURN]):
            out[row["job_id"]] = holds.describe(row["kind"], row["text"])  # the latest wins
    return out

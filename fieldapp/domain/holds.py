"""Why a job stopped: 挂起 (on hold: the customer is not home, parts are awaited, …) and
退单 (handed back to the office: not the technician's skill, wrong address, …).

The reason travels as an interaction of kind ``suspend``, ``return`` or ``resume`` written
in the same transaction as the status change, its text a small JSON object
``{"reason": code, "note": free text, "part_request_id": id}``, so it syncs, merges and is
kept like every other piece of evidence, and the office reads why before it reassigns.
"""

from __future__ import annotations

import json
from typing import Any

SUSPEND, RETURN, RESUME = "suspend", "return", "resume"
HOLD_KINDS = (SUSPEND, RETURN, RESUME)

WAITING_PARTS = "waiting_parts"  # 待料: tied to a part request of the job
SUSPEND_REASONS: dict[str, tuple[str, str]] = {
    "customer_not_home": ("客户不在家", "Customer not home"),
    WAITING_PARTS: ("待料", "Waiting for parts"),
    "customer_reschedule": ("客户要求改期", "Customer asked for another time"),
    "no_access": ("无法进入（门禁、钥匙）", "No access (gate, keys)"),
    "other": ("其他", "Other"),
}
RETURN_REASONS: dict[str, tuple[str, str]] = {
    "wrong_skill": ("技能或工具不符", "Needs another skill or tools"),
    "wrong_address": ("地址或客户信息错误", "Wrong address or customer"),
    "not_ours": ("非燃气设施故障", "Not a gas fault"),
    "customer_refused": ("客户拒绝服务", "Customer refused service"),
    "overloaded": ("当日无法完成", "Cannot be done today"),
    "other": ("其他", "Other"),
}
MAX_NOTE = 500


def reasons(kind: str) -> dict[str, tuple[str, str]]:
    return SUSPEND_REASONS if kind == SUSPEND else RETURN_REASONS if kind == RETURN else {}


def encode(reason: str, note: str = "", part_request_id: str | None = None) -> str:
    body: dict[str, Any] = {"reason": reason, "note": note}
    if part_request_id:
        body["part_request_id"] = part_request_id
    return json.dumps(body, ensure_ascii=False)


def decode(text: str | None) -> dict[str, Any]:
    """The reason of a hold interaction; an unreadable text is kept as the note."""
    try:
        body = json.loads(text or "")
    except ValueError:
        return {"reason": "other", "note": text or ""}
    if not isinstance(body, dict):
        return {"reason": "other", "note": text or ""}
    return {"reason": str(body.get("reason") or "other"), "note": str(body.get("note") or ""),
            "part_request_id": body.get("part_request_id")}


def describe(kind: str, text: str | None, lang: str = "zh") -> str:
    """One line for a job's log: 挂起：待料（等减压阀）."""
    body = decode(text)
    label = reasons(kind).get(body["reason"], ("其他", "Other"))[0 if lang == "zh" else 1]
    head = {SUSPEND: ("挂起", "On hold"), RETURN: ("退单", "Handed back"),
            RESUME: ("恢复处理", "Resumed")}[kind][0 if lang == "zh" else 1]
    if kind == RESUME:
        return head + (f"：{body['note']}" if lang == "zh" and body["note"] else
                       f": {body['note']}" if body["note"] else "")
    sep, open_, close = ("：", "（", "）") if lang == "zh" else (": ", " (", ")")
    return head + sep + label + (open_ + body["note"] + close if body["note"] else "")

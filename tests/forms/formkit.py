"""Small builders for definitions in tests: ``form(q("age", "integer"), …)``."""

from __future__ import annotations

from typing import Any

HAZARD_LEVELS = {
    "general": {"zh": "一般隐患", "en": "General", "deadline_days": 30},
    "serious": {"zh": "较大隐患", "en": "Serious", "deadline_days": 7},
    "critical": {"zh": "重大隐患", "en": "Critical", "deadline_days": 1},
}


def q(key: str, qtype: str = "text", **props: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"key": key, "type": qtype}
    if qtype not in ("calculate", "hidden"):
        item["label"] = {"zh": f"问题 {key}", "en": f"Question {key}"}
    if qtype in ("select_one", "select_multiple") and "choices" not in props:
        props["choices"] = [{"value": c, "label": {"zh": c, "en": c}} for c in ("a", "b", "c")]
    return {**item, **props}


def form(*items: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"code": "test_form", "version": 1, "title": {"zh": "测试", "en": "Test"},
            "hazard_levels": HAZARD_LEVELS, "items": list(items), **top}

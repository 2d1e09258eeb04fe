"""Checklist form definitions (data under ``resources/forms/``) and their validation.

The same :func:`problems` runs on the tablet while filling and on the server on push,
so a submission is judged by one rule set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

FORMS_DIR = Path(__file__).resolve().parents[2] / "resources" / "forms"
ANSWER_CHOICES = frozenset({"pass", "fail", "na"})


@dataclass(frozen=True)
class Problem:
    question: str
    code: str  # "required", "invalid_choice", "note_required", "unknown_question"


@cache
def bundled_definitions() -> dict[tuple[str, int], dict[str, Any]]:
    """Form definitions shipped with the app, keyed by (code, version)."""
    found = {}
    for path in sorted(FORMS_DIR.glob("*.json")):
        definition = json.loads(path.read_text(encoding="utf-8"))
        found[(definition["code"], definition["version"])] = definition
    return found


def items(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["key"]: item for item in definition["items"]}


def check_answer(definition: dict[str, Any], question: str, value: Any) -> str | None:
    """The problem code for one answer, or None when it is acceptable."""
    item = items(definition).get(question)
    if item is None:
        return "unknown_question"
    if value is not None and value not in ANSWER_CHOICES:
        return "invalid_choice"
    return None


def problems(definition: dict[str, Any], answers: dict[str, Any],
             notes: dict[str, str | None] | None = None) -> list[Problem]:
    """Everything wrong with a submission that is about to be finalised."""
    notes = notes or {}
    found = [Problem(q, code) for q, v in answers.items()
             if (code := check_answer(definition, q, v))]
    for key, item in items(definition).items():
        value = answers.get(key)
        if value is None and item.get("required"):
            found.append(Problem(key, "required"))
        elif (value == "fail" and item.get("note_required_on_fail")
              and not (notes.get(key) or "").strip()):
            found.append(Problem(key, "note_required"))
    return found


def hazards(definition: dict[str, Any], answers: dict[str, Any]) -> list[dict[str, str]]:
    """Failed items that carry a hazard level."""
    return [{"question": key, "level": item["hazard_level_on_fail"]}
            for key, item in items(definition).items()
            if answers.get(key) == "fail" and item.get("hazard_level_on_fail")]

"""The checklist API the app already uses, kept as a thin layer over the forms engine.

The same :func:`problems` runs on the tablet while filling and on the server on push, so a
submission is judged by one rule set: :mod:`fieldapp.forms.engine`. Definitions stay plain
dicts here because that is how the replica and the server store them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fieldapp.forms import engine, form_files
from fieldapp.forms.hazards import hazards_for

FORMS_DIR = form_files.FORMS_DIR
ANSWER_CHOICES = frozenset({"pass", "fail", "na"})
Problem = engine.Problem


def bundled_definitions() -> dict[tuple[str, int], dict[str, Any]]:
    """Form definitions shipped with the app, keyed by (code, version); each one validated."""
    return {key: d.raw for key, d in form_files.bundled().items()}


def items(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["key"]: item for item in definition["items"]}


def is_flat_checklist(definition: Mapping[str, Any]) -> bool:
    """Can the checklist view show it: a plain list of pass/fail/NA items (v1 style)?"""
    return all(item.get("type") == "pass_fail_na" for item in definition["items"])


def check_answer(definition: Mapping[str, Any], question: str, value: Any,
                 answers: Mapping[str, Any] | None = None) -> str | None:
    """The problem code for one answer, or None when it is acceptable."""
    problem = engine.check_answer(definition, question, value, answers)
    return problem.code if problem else None


def problems(definition: Mapping[str, Any], answers: Mapping[str, Any],
             notes: Mapping[str, str | None] | None = None,
             attachments: Mapping[str, Sequence[str]] | None = None) -> list[Problem]:
    """Everything wrong with a submission that is about to be finalised."""
    return engine.problems(definition, answers, attachments, notes=notes)


def hazards(definition: Mapping[str, Any], answers: Mapping[str, Any]) -> list[dict[str, str]]:
    """Failed items that carry a hazard level."""
    return [{"question": h.question_path, "level": h.level}
            for h in hazards_for(definition, answers)]

"""Hazard rules: failed items with a hazard level, and the rectification they call for.

    hazards = hazards_for(definition, answers, notes)      # what the notice lists
    plan = rectification_plan(hazards, inspected_at)       # deadlines and check jobs

A failed pass/fail/NA item whose definition names ``hazard_level_on_fail`` is a hazard
(隐患). The level comes from the definition's ``hazard_levels``, and so does its
rectification deadline (``deadline_days``: general 30, serious 7, critical 1 in the
standard forms), counted from the moment of the inspection. A level can also be an
expression (``"${hazard_level}"``) when a form carries it over from an earlier notice, as
the rectification check does; a value that is not one of the form's levels is treated as
the most severe one, because a hazard must never be dropped for a typo.

Pure computation: writing the notice, its items and the check job is the replica's work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from fieldapp.forms import values as v
from fieldapp.forms.definition import FormDefinition, HazardLevel, Question
from fieldapp.forms.expr import Expression
from fieldapp.forms.loader import as_definition
from fieldapp.forms.state import FormState

# The hidden question a re-check's repeat instance carries the hazard's first name in.
FIRST_NAME = "hazard_label"


@dataclass(frozen=True)
class Hazard:
    question_path: str  # the failed item (``appliances[1].flue`` inside a repeat)
    level: str
    level_label: dict[str, str]
    deadline_days: int
    label: dict[str, str]  # the item's label, for the notice
    note: str | None = None  # what the technician wrote about it


@dataclass(frozen=True)
class NoticeItem:
    hazard: Hazard
    due_at: datetime


@dataclass(frozen=True)
class PlannedCheck:
    """One rectification-check job: every hazard due at the same time is checked at once."""

    due_at: datetime
    level: str  # the most severe level among its hazards (sets the job's priority)
    hazards: tuple[Hazard, ...]


@dataclass(frozen=True)
class RectificationPlan:
    inspected_at: datetime
    items: tuple[NoticeItem, ...]  # the notice's lines, most urgent first
    checks: tuple[PlannedCheck, ...]  # earliest first

    @property
    def needed(self) -> bool:
        return bool(self.items)

    @property
    def deadline(self) -> datetime | None:
        """The notice's deadline: the earliest of its items."""
        return self.items[0].due_at if self.items else None


def _most_severe(levels: Mapping[str, HazardLevel]) -> HazardLevel:
    return min(levels.values(), key=lambda level: level.deadline_days)


def _first_name(state: FormState, q: Question, idx: tuple[int, ...]) -> str | None:
    if not q.repeats or FIRST_NAME not in state.definition.by_key:
        return None
    sibling = state.definition.by_key[FIRST_NAME]
    if sibling.repeats != q.repeats:
        return None
    name = state.value(sibling, idx)
    return name if isinstance(name, str) and name else None


def hazards_for(definition: FormDefinition | Mapping[str, Any], answers: Mapping[str, Any],
                notes: Mapping[str, str | None] | None = None,
                today: date | None = None) -> list[Hazard]:
    """The hazards a submission records, in the form's order (irrelevant items ignored). An
    item in a repeat instance that carries a ``hazard_label`` (a re-check of a hazard found
    before) is named by it: the hazard keeps the name it was first found under."""
    d = as_definition(definition)
    state = FormState(d, answers, today)
    notes = notes or {}
    found = []
    for q, idx in state.walk():
        if q.type != "pass_fail_na" or q.hazard_level_on_fail is None:
            continue
        if state.value(q, idx) != "fail":
            continue
        name = q.hazard_level_on_fail
        if isinstance(name, Expression):
            name = v.to_string(state.evaluate(name, q, idx))
        level = d.hazard_levels.get(name) or _most_severe(d.hazard_levels)
        path = state.path(q, idx)
        first = _first_name(state, q, idx)
        label = {lang: first for lang in q.label} if first else q.label
        found.append(Hazard(path, level.name, level.label, level.deadline_days, label,
                            (notes.get(path) or "").strip() or None))
    return found


def rectification_plan(hazards: list[Hazard], inspected_at: datetime | str) -> RectificationPlan:
    """Deadlines for a notice and the check jobs to create, from the inspection time.

    ``inspected_at`` must carry its time zone: deadlines are shown to customers on paper.
    """
    if isinstance(inspected_at, str):
        inspected_at = datetime.fromisoformat(inspected_at)
    if inspected_at.tzinfo is None:
        raise ValueError("inspected_at needs a time zone")
    items = sorted((NoticeItem(h, inspected_at + timedelta(days=h.deadline_days))
                    for h in hazards), key=lambda item: item.due_at)
    by_due: dict[datetime, list[Hazard]] = {}
    for item in items:
        by_due.setdefault(item.due_at, []).append(item.hazard)
    checks = tuple(PlannedCheck(due, min(group, key=lambda h: h.deadline_days).level,
                                tuple(group))
                   for due, group in by_due.items())
    return RectificationPlan(inspected_at, tuple(items), checks)

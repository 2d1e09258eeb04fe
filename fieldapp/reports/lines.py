"""How a submission's answers and hazards read on paper: one line each, in the form's order.

    lines = answer_lines(state, answer_rows_by_path, photo_rows)   # relevant questions only
    hazards = hazard_lines(definition, answers, notes, inspected_at)

Shared by every document. The text of each line is what is printed, so it is also what the
content hash covers: a change of wording is a change of content.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fieldapp.forms import values
from fieldapp.forms.definition import FormDefinition, Question
from fieldapp.forms.hazards import FIRST_NAME, hazards_for, rectification_plan
from fieldapp.forms.state import FormState

_YES_NO = {"yes": "是", "no": "否"}
_PASS_FAIL_NA = {"pass": "合格", "fail": "不合格", "na": "不适用"}
UNANSWERED = "未填"
# Containers and values nobody filled in by hand are not lines of the report.
_NOT_LISTED = frozenset({"group", "repeat", "note", "hidden"})


@dataclass(frozen=True)
class AnswerLine:
    path: str  # ``appliances[0].appliance_kind`` inside a repeat
    section: str  # the enclosing group's label ("" at the top level)
    label: str
    type: str
    value: Any  # as answered (JSON)
    text: str  # as printed
    note: str | None
    by_user: str | None
    answered_at: str | None

    @property
    def outcome(self) -> str | None:
        """pass / fail / na for checklist items, else None."""
        return self.value if self.type == "pass_fail_na" else None


@dataclass(frozen=True)
class HazardLine:
    path: str
    label: str
    level: str
    level_label: str
    deadline_days: int
    due_at: str  # ISO 8601 with zone: inspection time + the level's deadline
    note: str | None


def _section(state: FormState, q: Question, idx: tuple[int, ...]) -> str:
    """The enclosing group's label; a repeat instance's number, and the name of the hazard a
    re-check instance is about."""
    d = state.definition
    if q.parent is None:
        return ""
    parent = d.by_key[q.parent]
    label = parent.label.get("zh") or parent.label.get("en", parent.key)
    if parent.type != "repeat":
        return label
    section = f"{label} 第{idx[len(parent.repeats)] + 1}项"
    named = d.by_key.get(FIRST_NAME)
    if named is not None and named.parent == parent.key:
        name = state.value(named, idx[:len(named.repeats)])
        if isinstance(name, str) and name:
            section += f"：{name}"
    return section


def answer_lines(state: FormState, rows: Mapping[str, Mapping[str, Any]],
                 photos: Sequence[Mapping[str, Any]], signed: bool) -> list[AnswerLine]:
    """A line per relevant question (answered or not), with its stored row's note, who and
    when. Photos and the signature are captured at the job, not typed in: ``photos`` are its
    attachment rows (counted per question), ``signed`` whether the customer signed."""
    lines = []
    for q, idx in state.walk():
        if q.type in _NOT_LISTED or (q.type == "calculate" and "label" not in q.raw):
            continue
        path = state.path(q, idx)
        row = rows.get(path) or {}
        value = state.value(q, idx)
        attached = sum(1 for p in photos if p["question"] == path)
        lines.append(AnswerLine(
            path=path, section=_section(state, q, idx), label=q.label.get("zh") or q.key,
            type=q.type, value=value, text=answer_text(q, value, attached, signed),
            note=(row.get("note") or "").strip() or None, by_user=row.get("by_user"),
            answered_at=row.get("answered_at")))
    return lines


def answer_text(q: Question, value: Any, attached_photos: int = 0, signed: bool = False) -> str:
    """An answer as the printed report shows it."""
    if q.type in ("photo", "audio", "video"):
        count = len(set(value) if isinstance(value, list) else ()) or attached_photos
        return f"{count} {'张' if q.type == 'photo' else '段'}" if count else UNANSWERED
    if q.type == "signature":
        return "已签名" if value or signed else "未签名"
    if value is None or value == "" or value == []:
        return UNANSWERED
    labels = {c.value: c.label.get("zh") or c.value for c in q.choices}
    if q.type == "pass_fail_na":
        return _PASS_FAIL_NA.get(value, str(value))
    if q.type == "yes_no":
        return _YES_NO.get(value, str(value))
    if q.type == "select_one":
        return labels.get(value, str(value))
    if q.type == "select_multiple":
        return "、".join(labels.get(v, str(v)) for v in value)
    if q.type in ("geotrace", "geoshape") and isinstance(value, list):
        measure = values.distance(value) if q.type == "geotrace" else values.area(value)
        said = "" if measure is None else (f"，全长约 {measure:,.0f} 米" if q.type == "geotrace"
                                           else f"，面积约 {measure:,.0f} 平方米")
        return f"{len(value)} 个点{said}"
    if q.type == "gps" and isinstance(value, Mapping):
        accuracy = f" ±{value['accuracy']:g}m" if value.get("accuracy") is not None else ""
        return f"{value['lat']:.5f}, {value['lon']:.5f}{accuracy}"
    unit = q.raw.get("unit")
    if isinstance(value, float):
        value = f"{value:g}"
    return f"{value} {unit}" if unit else str(value)


def hazard_lines(d: FormDefinition, answers: Mapping[str, Any],
                 notes: Mapping[str, str | None], moment: datetime) -> list[HazardLine]:
    """The hazards with their deadlines from ``moment`` (the inspection), most urgent first."""
    found = hazards_for(d, answers, notes, today=moment.date())
    plan = rectification_plan(found, moment)
    return [HazardLine(path=i.hazard.question_path, label=i.hazard.label.get("zh", ""),
                       level=i.hazard.level, level_label=i.hazard.level_label.get("zh", ""),
                       deadline_days=i.hazard.deadline_days,
                       due_at=i.due_at.isoformat(timespec="seconds"), note=i.hazard.note)
            for i in plan.items]

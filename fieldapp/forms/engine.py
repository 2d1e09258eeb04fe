"""The forms engine: validation of answers and submissions, and what the form view needs.

One engine for both ends: the tablet asks :func:`check_answer` on every tap and
:func:`problems` before it closes a form; the server asks the same functions on push, with
the same definition version, so a submission is judged by one rule set everywhere.

Answers are nested (see :mod:`fieldapp.forms.paths`): ``{"key": value, "repeat": [{…}, …]}``;
relevance, defaults and calculations follow :mod:`fieldapp.forms.state`. An irrelevant
question is not required and its value, whatever it is, is not checked.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from fieldapp.forms import values as v
from fieldapp.forms.answers import type_problem
from fieldapp.forms.definition import ATTACHED_TYPES, FormDefinition, Question
from fieldapp.forms.loader import as_definition
from fieldapp.forms.state import FormState

__all__ = ["FormState", "Problem", "calculations", "check_answer", "previous_value", "problems",
           "relevance", "with_defaults"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a submission: ``code`` for programs, ``message_key`` for the UI."""

    question_path: str
    code: str
    message_key: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.message_key:
            object.__setattr__(self, "message_key", f"form.problem.{self.code}")


# -- checking ---------------------------------------------------------------------------------


def _photo_ids(value: Any, attached: Sequence[str]) -> set[str]:
    return set(value if isinstance(value, list) else []) | set(attached)


class _Checker:
    def __init__(self, state: FormState, attachments: Mapping[str, Sequence[str]],
                 notes: Mapping[str, str | None]) -> None:
        self.state, self.attachments, self.notes = state, attachments, notes

    def check(self, q: Question, idx: tuple[int, ...], value: Any,
              present: bool) -> Iterator[Problem]:
        path = self.state.path(q, idx)
        if q.type in ("group", "note", "calculate"):
            if present and value is not None:
                yield Problem(path, "read_only" if q.type != "group" else "not_answerable")
            return
        if not present:
            value = q.default
        problem = type_problem(q.type, value, q.choice_values)
        if problem:
            yield Problem(path, problem[0], params=problem[1])
            return
        if q.type == "repeat":
            yield from self._repeat(q, idx, path)
            return
        attached = self.attachments.get(path, ())
        empty = v.is_empty(value)
        if q.type in ATTACHED_TYPES:
            yield from self._photos(q, idx, path, len(_photo_ids(value, attached)))
            return
        if q.type == "signature":
            empty = empty and not attached
        if empty:
            if self.state.required(q, idx):
                yield Problem(path, "required")
            return
        if q.type in ("select_one", "select_multiple") and q.choice_filter is not None:
            offered = {c.value for c in self.state.choices(q, idx)}
            for chosen in value if isinstance(value, list) else [value]:
                if chosen not in offered:
                    yield Problem(path, "choice_not_offered", params={"value": chosen})
        if q.constraint is not None and not self.state.constraint_holds(q, idx, value):
            yield Problem(path, "constraint", params={
                "message": q.raw.get("constraint_message"), "expression": q.constraint.text})
        if value == "fail" and q.type == "pass_fail_na":
            if q.flag("note_required_on_fail") and not (self.notes.get(path) or "").strip():
                yield Problem(path, "note_required")
            if q.flag("photo_required_on_fail") and not attached:
                yield Problem(path, "photo_required")

    def _photos(self, q: Question, idx: tuple[int, ...], path: str,
                n: int) -> Iterator[Problem]:
        low = max(q.min_count, 1 if self.state.required(q, idx) else 0)
        what = "photos" if q.type == "photo" else "recordings"
        if n == 0 and low:
            yield Problem(path, "required", params={"min": low})
        elif n < low:
            yield Problem(path, f"too_few_{what}", params={"min": low, "count": n})
        elif n > q.max_count:
            yield Problem(path, f"too_many_{what}", params={"max": q.max_count, "count": n})

    def _repeat(self, q: Question, idx: tuple[int, ...], path: str) -> Iterator[Problem]:
        n = self.state.instance_count(q, idx)
        low = max(q.min_repeat, 1 if self.state.required(q, idx) else 0)
        count = self.state.repeat_count(q, idx) if self.state.relevant(q, idx) else None
        if count is not None:  # exactly as many as the form asks for (ODK's repeat_count)
            if n < count:
                yield Problem(path, "too_few_repeats", params={"min": count, "count": n})
            elif n > count:
                yield Problem(path, "too_many_repeats", params={"max": count, "count": n})
        elif n < low:
            yield Problem(path, "required" if n == 0 else "too_few_repeats",
                          params={"min": low, "count": n})
        elif q.max_repeat is not None and n > q.max_repeat:
            yield Problem(path, "too_many_repeats", params={"max": q.max_repeat, "count": n})


def _unknown(definition: FormDefinition, answers: Any, repeats: tuple[str, ...] = (),
             prefix: str = "") -> Iterator[Problem]:
    """Answers to questions the form does not have (or that sit in the wrong repeat)."""
    if not isinstance(answers, Mapping):
        return
    for key, value in answers.items():
        q = definition.by_key.get(key)
        if q is None or q.repeats != repeats:
            yield Problem(prefix + str(key), "unknown_question")
        elif q.type == "repeat" and isinstance(value, list):
            for i, instance in enumerate(value):
                yield from _unknown(definition, instance, (*repeats, key), f"{prefix}{key}[{i}].")


def problems(definition: FormDefinition | Mapping[str, Any], answers: Mapping[str, Any],
             attachments_by_question: Mapping[str, Sequence[str]] | None = None, *,
             notes: Mapping[str, str | None] | None = None,
             today: date | None = None) -> list[Problem]:
    """Everything wrong with a submission about to be closed, in the form's order.

    ``attachments_by_question`` maps a question path to the ids of photos/signatures
    captured for it; ``notes`` maps a path to the technician's note (failed items).
    """
    state = FormState(definition, answers, today)
    checker = _Checker(state, attachments_by_question or {}, notes or {})
    found = list(_unknown(state.definition, answers))
    for q, idx in state.walk():
        present, value = state.raw(q, idx)
        found.extend(checker.check(q, idx, value, present))
    return found


def check_answer(definition: FormDefinition | Mapping[str, Any], path: str, value: Any,
                 answers: Mapping[str, Any] | None = None, *,
                 attachments: Sequence[str] = (), note: str | None = None,
                 today: date | None = None) -> Problem | None:
    """The first problem with one answer as it is given, or None.

    With ``answers`` (the rest of the submission) constraints that read other questions are
    checked too; without them only the value's type and self-contained constraints are, as
    the other answers may not have arrived yet. Being empty is not a problem here: a draft
    may be incomplete; :func:`problems` judges completeness.
    """
    d = as_definition(definition)
    at = FormState(d, {}, today).locate(path)
    if at is None:
        return Problem(path, "unknown_question")
    q = d.by_key[at[0]]
    if answers is None and q.constraint is not None and q.constraint.refs:
        q = replace(q, constraint=None)  # it reads answers we were not given
    merged = copy.deepcopy(dict(answers or {}))
    _place(merged, q, at[1], value)
    state = FormState(d, merged, today)
    checker = _Checker(state, {path: attachments} if attachments else {},
                       {path: note} if note is not None else {})
    for problem in checker.check(q, at[1], value, present=True):
        if problem.code not in ("required", "too_few_photos", "too_few_recordings",
                                "too_few_repeats", "photo_required",
                                "note_required"):
            return problem
    return None


def _place(answers: dict[str, Any], q: Question, idx: tuple[int, ...], value: Any) -> None:
    container = answers
    for repeat, i in zip(q.repeats, idx, strict=True):
        instances = container.setdefault(repeat, [])
        while len(instances) <= i:
            instances.append({})
        container = instances[i]
    container[q.key] = value


# -- helpers for the form view ---------------------------------------------------------------


def relevance(definition: FormDefinition | Mapping[str, Any], answers: Mapping[str, Any],
              today: date | None = None) -> dict[str, bool]:
    """Every question path (per repeat instance) and whether it is shown now."""
    state = FormState(definition, answers, today)
    shown = {state.path(q, idx) for q, idx in state.walk()}

    def every(questions: Sequence[Question], idx: tuple[int, ...]) -> Iterator[str]:
        for q in questions:
            yield state.path(q, idx)
            if q.type == "group":
                yield from every(q.children, idx)
            elif q.type == "repeat":
                _, instances = state.raw(q, idx)
                for i in range(len(instances) if isinstance(instances, list) else 0):
                    yield from every(q.children, (*idx, i))

    return {path: path in shown for path in every(state.definition.questions, ())}


def calculations(definition: FormDefinition | Mapping[str, Any], answers: Mapping[str, Any],
                 today: date | None = None) -> dict[str, Any]:
    """The value of every relevant calculated question, by path."""
    state = FormState(definition, answers, today)
    return {state.path(q, idx): state.value(q, idx) for q, idx in state.walk()
            if q.calculation is not None}


def with_defaults(definition: FormDefinition | Mapping[str, Any],
                  answers: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``answers`` with defaults filled in where a question was never answered."""
    d = as_definition(definition)
    filled = copy.deepcopy(dict(answers))

    def fill(questions: Sequence[Question], container: dict[str, Any]) -> None:
        for q in questions:
            if q.type == "group":
                fill(q.children, container)
            elif q.type == "repeat":
                for instance in container.get(q.key) or []:
                    if isinstance(instance, dict):
                        fill(q.children, instance)
            elif q.default is not None and q.key not in container:
                container[q.key] = q.default

    fill(d.questions, filled)
    return filled


def previous_value(definition: FormDefinition | Mapping[str, Any], path: str,
                   answers: Mapping[str, Any], today: date | None = None) -> Any:
    """What a meter reading question shows as the previous reading (None if unknown)."""
    state = FormState(definition, answers, today)
    at = state.locate(path)
    if at is None:
        return None
    q = state.definition.by_key[at[0]]
    if q.previous is None:
        return None
    result = state.evaluate(q.previous, q, at[1])
    return None if v.is_empty(result) else result

"""A definition applied to one set of answers: relevance and values, computed lazily.

Rules, as in ODK: a question is relevant when its own ``relevant`` holds and its group is
relevant; an irrelevant question reads as empty in every expression. An absent answer takes
the question's default; an explicit None is a cleared answer. Calculated questions always
hold their calculation. ``${name}`` seen from inside a repeat instance reads the same
instance; seen from outside, it reads every instance (for count(), sum(), "any equals").
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from fieldapp.forms import values as v
from fieldapp.forms.definition import Choice, FormDefinition, Question
from fieldapp.forms.expr import Expression, parse
from fieldapp.forms.loader import as_definition
from fieldapp.forms.paths import Location, format_path, split
from fieldapp.local_time import LOCAL_ZONE

_IN_PROGRESS = object()
PIPED = re.compile(r"\$\{([A-Za-z_][\w.-]*)\}")  # ${name} inside a label or hint


class _Env:
    """What an expression sees at one place in the form (a question in one repeat instance)."""

    def __init__(self, state: FormState, at: Location, current: Any = None,
                 choice: Choice | None = None) -> None:
        self.state, self.at, self._current, self.choice = state, at, current, choice

    def ref(self, name: str) -> Any:
        return self.state.ref(name, self.at)

    def current(self) -> Any:
        return self._current

    def attr(self, name: str) -> Any:
        if self.choice is None:
            return None
        return self.choice.value if name in ("value", "name") else self.choice.attrs.get(name)

    def today(self) -> str:
        return self.state.today

    def now(self) -> str:
        return self.state.now

    def lookup(self, table: str, column: str, key_column: str, key: str) -> Any:
        return self.state.lookup(table, column, key_column, key)


class FormState:
    """A definition applied to one set of answers; values and relevance computed lazily."""

    def __init__(self, definition: FormDefinition | Mapping[str, Any],
                 answers: Mapping[str, Any], today: date | None = None,
                 now: datetime | None = None) -> None:
        self.definition = as_definition(definition)
        self.answers = answers
        # The form's day is the utility's day (as a signature's, ``signed_content``), not the
        # machine's: a server or test runner on UTC is a day behind after local midnight.
        moment = now or datetime.now(LOCAL_ZONE)
        self.now = moment.isoformat(timespec="seconds")
        self.today = (today or moment.date()).isoformat()
        self._relevant: dict[Location, object] = {}  # a bool, or _IN_PROGRESS
        self._values: dict[Location, Any] = {}
        self._indexes: dict[tuple[str, str], dict[str, Mapping[str, str]]] = {}

    def lookup(self, table: str, column: str, key_column: str, key: str) -> Any:
        """pulldata(): ``column`` of the first row of the attached ``table`` whose
        ``key_column`` is ``key``; empty text when there is none, as ODK gives."""
        index = self._indexes.get((table, key_column))
        if index is None:
            index = {}
            for row in self.definition.raw.get("data", {}).get(table, ()):
                index.setdefault(row.get(key_column, ""), row)
            self._indexes[(table, key_column)] = index
        return index.get(key, {}).get(column, "")

    # -- raw answers ----------------------------------------------------------------------
    def raw(self, q: Question, idx: tuple[int, ...]) -> tuple[bool, Any]:
        """(present, value) as submitted; present is False when the key is absent."""
        container: Any = self.answers
        for depth, repeat in enumerate(q.repeats):
            instances = container.get(repeat) if isinstance(container, Mapping) else None
            if not isinstance(instances, list) or idx[depth] >= len(instances):
                return False, None
            container = instances[idx[depth]]
        if not isinstance(container, Mapping) or q.key not in container:
            return False, None
        return True, container[q.key]

    def instance_count(self, repeat: Question, idx: tuple[int, ...]) -> int:
        if not self.relevant(repeat, idx):
            return 0
        _, instances = self.raw(repeat, idx)
        return len(instances) if isinstance(instances, list) else 0

    def repeat_count(self, repeat: Question, idx: tuple[int, ...]) -> int | None:
        """How many instances the repeat's ``repeat_count`` asks for here; None when it
        has none, or when what it reads is not answered yet (a whole number ≥ 0 otherwise)."""
        if repeat.repeat_count is None:
            return None
        found = self.evaluate(repeat.repeat_count, repeat, idx)
        try:
            return max(0, int(float(found))) if found not in (None, "") else None
        except (TypeError, ValueError):
            return None

    # -- relevance and values -------------------------------------------------------------
    def relevant(self, q: Question, idx: tuple[int, ...]) -> bool:
        at = (q.key, idx)
        known = self._relevant.get(at)
        if known is _IN_PROGRESS:  # the loader refuses cycles; this guards hand-built ones
            raise RuntimeError(f"relevance of {q.key} depends on itself")
        if isinstance(known, bool):
            return known
        self._relevant[at] = _IN_PROGRESS
        parent = self.definition.by_key[q.parent] if q.parent else None
        result = ((parent is None or self.relevant(parent, idx[:len(parent.repeats)]))
                  and (q.relevant is None or v.truthy(q.relevant.evaluate(_Env(self, at)))))
        self._relevant[at] = result
        return result

    def value(self, q: Question, idx: tuple[int, ...]) -> Any:
        """The value expressions see: None when irrelevant, the calculation when calculated."""
        at = (q.key, idx)
        if at in self._values:
            if self._values[at] is _IN_PROGRESS:
                raise RuntimeError(f"value of {q.key} depends on itself")
            return self._values[at]
        self._values[at] = _IN_PROGRESS
        if not self.relevant(q, idx):
            result = None
        elif q.calculation is not None:
            result = q.calculation.evaluate(_Env(self, at))
        else:
            present, result = self.raw(q, idx)
            if not present:
                result = q.default
        self._values[at] = result
        return result

    def ref(self, name: str, at: Location) -> Any:
        """``${name}`` seen from ``at``: the same repeat instance when they share one, else
        every instance's value (for count(), sum(), or "any instance equals")."""
        target = self.definition.by_key[name]
        here = self.definition.by_key[at[0]]
        shared = 0
        while (shared < min(len(target.repeats), len(here.repeats))
               and target.repeats[shared] == here.repeats[shared]):
            shared += 1
        return self._gather(target, at[1][:shared])

    def _gather(self, target: Question, idx: tuple[int, ...]) -> Any:
        if len(idx) == len(target.repeats):
            return self.value(target, idx)
        repeat = self.definition.by_key[target.repeats[len(idx)]]
        found: list[Any] = []
        for i in range(self.instance_count(repeat, idx)):
            got = self._gather(target, (*idx, i))
            found.extend(got if isinstance(got, list) else [got])
        return found

    # -- walking --------------------------------------------------------------------------
    def walk(self, questions: Sequence[Question] | None = None,
             idx: tuple[int, ...] = ()) -> Iterator[tuple[Question, tuple[int, ...]]]:
        """Every relevant question instance in document order."""
        for q in self.definition.questions if questions is None else questions:
            if not self.relevant(q, idx):
                continue
            yield q, idx
            if q.type == "group":
                yield from self.walk(q.children, idx)
            elif q.type == "repeat":
                for i in range(self.instance_count(q, idx)):
                    yield from self.walk(q.children, (*idx, i))

    def path(self, q: Question, idx: tuple[int, ...]) -> str:
        return format_path(q.key, q.repeats, idx)

    def locate(self, path: str) -> Location | None:
        parts = split(path)
        if parts is None:
            return None
        steps, leaf = parts
        q = self.definition.by_key.get(leaf)
        if q is None or tuple(k for k, _ in steps) != q.repeats:
            return None
        return leaf, tuple(i for _, i in steps)

    def required(self, q: Question, idx: tuple[int, ...]) -> bool:
        if isinstance(q.required, bool):
            return q.required
        return v.truthy(q.required.evaluate(_Env(self, (q.key, idx))))

    def choices(self, q: Question, idx: tuple[int, ...]) -> tuple[Choice, ...]:
        if q.choice_filter is None:
            return q.choices
        return tuple(c for c in q.choices
                     if v.truthy(q.choice_filter.evaluate(_Env(self, (q.key, idx), choice=c))))

    def evaluate(self, expression: Expression, q: Question, idx: tuple[int, ...]) -> Any:
        """Evaluate any of the definition's expressions as seen from question ``q``."""
        return expression.evaluate(_Env(self, (q.key, idx)))

    def piped(self, text: str, q: Question, idx: tuple[int, ...]) -> str:
        """A label or hint with each ``${name}`` shown as that question's answer, as seen
        from ``q`` (inside a repeat: the same instance's), as ODK shows it; blank while
        unanswered. A name the form does not have stays as written (the import names it)."""
        if "${" not in text:
            return text

        def answer(found: re.Match[str]) -> str:
            if found[1] not in self.definition.by_key:
                return found[0]
            value = self.evaluate(parse(found[0]), q, idx)
            if value is None:
                return ""
            if isinstance(value, list):
                return " ".join(str(v) for v in value)
            if isinstance(value, float) and value.is_integer():
                return str(int(value))
            return str(value)

        return PIPED.sub(answer, text)

    def constraint_holds(self, q: Question, idx: tuple[int, ...], value: Any) -> bool:
        if q.constraint is None or v.is_empty(value):
            return True
        return v.truthy(q.constraint.evaluate(_Env(self, (q.key, idx), current=value)))

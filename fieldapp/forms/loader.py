"""Loading a form definition from its JSON, with the checks that make a bad one fail early.

Loading checks every property, compiles every expression once, and refuses anything it does
not understand with a :class:`FormDefinitionError` naming the question and the problem.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from fieldapp.errors import InvalidInput
from fieldapp.forms.answers import type_problem
from fieldapp.forms.definition import (
    ATTACHED_TYPES,
    DEFAULT_MAX_PHOTOS,
    PROPERTIES,
    QUESTION_TYPES,
    UNLABELLED,
    Choice,
    FormDefinition,
    HazardLevel,
    Question,
)
from fieldapp.forms.expr import NAME_RE, Expression, ExpressionError, parse


class FormDefinitionError(InvalidInput):
    """A definition that cannot be used: names the form, the question and the problem."""

    def __init__(self, form: str, question: str | None, problem: str) -> None:
        where = f"{form} {question}" if question else form
        super().__init__("bad_form_definition", f"{where}: {problem}",
                         form=form, question=question, problem=problem)
        self.form, self.question, self.problem = form, question, problem


LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")  # a language code: zh, en, fr, pt-br


def _label(form: str, key: str | None, value: Any, what: str = "label") -> dict[str, str]:
    """Text per language: zh and en, which the tablet shows, and any other the form's
    author wrote (kept, and shown where a tablet's language is one of them)."""
    if not (isinstance(value, dict) and value
            and all(isinstance(k, str) and LANGUAGE.fullmatch(k) for k in value)
            and all(isinstance(t, str) for t in value.values())
            and any(t.strip() for t in value.values())):
        raise FormDefinitionError(form, key, f"{what} must be {{'zh': …, 'en': …}} with text")
    return dict(value)


class _Loader:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.form = f"{data.get('code', '?')}.v{data.get('version', '?')}"
        self.by_key: dict[str, Question] = {}
        self.levels: dict[str, HazardLevel] = {}
        self.lists: dict[str, tuple[Choice, ...]] = {}
        self.tables: dict[str, set[str]] = {}  # attached table → its columns
        self.pending: list[tuple[Question, str, Expression]] = []

    def fail(self, key: str | None, problem: str) -> FormDefinitionError:
        return FormDefinitionError(self.form, key, problem)

    def load(self) -> FormDefinition:
        d = self.data
        if not isinstance(d, Mapping):
            raise self.fail(None, "a definition must be a JSON object")
        unknown = set(d) - {"code", "version", "title", "answers", "hazard_levels",
                            "choice_lists", "items", "description", "default_language",
                            "data"}
        if unknown:
            raise self.fail(None, f"unknown top-level properties {sorted(unknown)}")
        if not (isinstance(d.get("code"), str) and re.fullmatch(r"[a-z][a-z0-9_]*", d["code"])):
            raise self.fail(None, "code must be lower_snake_case text")
        version = d.get("version")
        if not (isinstance(version, int) and not isinstance(version, bool) and version >= 1):
            raise self.fail(None, "version must be a whole number from 1")
        title = _label(self.form, None, d.get("title"), "title")
        default = d.get("default_language")
        if default is not None and not (isinstance(default, str) and LANGUAGE.fullmatch(default)):
            raise self.fail(None, "default_language must be a language code (zh, en, fr…)")
        self._hazard_levels(d.get("hazard_levels", {}))
        self._choice_lists(d.get("choice_lists", {}))
        self._data(d.get("data", {}))
        items = d.get("items")
        if not (isinstance(items, list) and items):
            raise self.fail(None, "items must be a non-empty list")
        top = tuple(self._question(item, None, ()) for item in items)
        for question, prop, expression in self.pending:
            self._check_refs(question, prop, expression)
        self._check_cycles()
        return FormDefinition(d["code"], version, title, dict(d), top, self.by_key, self.levels)

    def _hazard_levels(self, levels: Any) -> None:
        if not isinstance(levels, dict):
            raise self.fail(None, "hazard_levels must be an object")
        for name, spec in levels.items():
            days = spec.get("deadline_days") if isinstance(spec, dict) else None
            if not (isinstance(days, int) and not isinstance(days, bool) and days >= 1):
                raise self.fail(None, f"hazard level {name!r} needs deadline_days ≥ 1")
            label = {k: v for k, v in spec.items() if k in ("zh", "en")}
            self.levels[name] = HazardLevel(name, _label(self.form, None, label,
                                                         f"hazard level {name!r}"), days)

    def _data(self, tables: Any) -> None:
        """Tables attached to the form (CSV files, for pulldata): rows of text by column."""
        if not isinstance(tables, dict):
            raise self.fail(None, "data must be an object of tables")
        for name, rows in tables.items():
            if not (isinstance(rows, list) and rows and all(
                    isinstance(r, dict) and all(isinstance(k, str) and isinstance(x, str)
                                                for k, x in r.items()) for r in rows)):
                raise self.fail(None, f"data table {name!r} must be a non-empty list of rows"
                                      " of text")
            self.tables[name] = {k for r in rows for k in r}

    def _choice_lists(self, lists: Any) -> None:
        if not isinstance(lists, dict):
            raise self.fail(None, "choice_lists must be an object")
        for name, choices in lists.items():
            self.lists[name] = self._choices(f"choice list {name}", choices)

    def _choices(self, where: str, choices: Any) -> tuple[Choice, ...]:
        if not (isinstance(choices, list) and choices):
            raise self.fail(where, "choices missing (a non-empty list is needed)")
        found: list[Choice] = []
        for c in choices:
            if not (isinstance(c, dict) and isinstance(c.get("value"), str) and c["value"]):
                raise self.fail(where, f"choice {c!r} needs a text value")
            if c["value"] in {f.value for f in found}:
                raise self.fail(where, f"duplicate choice value {c['value']!r}")
            label = _label(self.form, where, c.get("label"), f"label of choice {c['value']!r}")
            attrs = {k: v for k, v in c.items() if k not in ("value", "label")}
            found.append(Choice(c["value"], label, attrs))
        return tuple(found)

    def _expr(self, key: str, prop: str, text: Any, allow_names: bool = False) -> Expression:
        if not isinstance(text, str):
            raise self.fail(key, f"{prop} must be an expression written as text, not {text!r}")
        try:
            expression = parse(text, allow_names)
        except ExpressionError as exc:
            raise self.fail(key, f"{prop}: {exc.problem} at position {exc.position} "
                                 f"in {exc.expression}") from exc
        if expression.uses_current and prop != "constraint":
            raise self.fail(key, f"{prop}: '.' (this answer) is only meaningful in a constraint")
        return expression

    def _question(self, item: Any, parent: Question | None,
                  repeats: tuple[str, ...]) -> Question:
        if not isinstance(item, dict):
            raise self.fail(None, f"an item must be an object, not {item!r}")
        key = item.get("key")
        if not (isinstance(key, str) and re.fullmatch(NAME_RE, key)):
            raise self.fail(None, f"bad question key {key!r}")
        if key in self.by_key:
            raise self.fail(key, "duplicate key")
        qtype = item.get("type")
        if qtype not in QUESTION_TYPES:
            raise self.fail(key, f"unknown type {qtype!r}")
        unknown = set(item) - PROPERTIES[qtype]
        if unknown:
            raise self.fail(key, f"unknown properties for a {qtype}: {sorted(unknown)}")
        if qtype in UNLABELLED and "label" not in item:
            label = {"zh": key}
        else:
            label = _label(self.form, key, item.get("label"))
        if "hint" in item:
            _label(self.form, key, item["hint"], "hint")
        if "constraint_message" in item:
            _label(self.form, key, item["constraint_message"], "constraint_message")
        props: dict[str, Any] = {}
        for prop in ("relevant", "constraint", "calculation", "previous", "repeat_count",
                     "dynamic_default"):
            if prop in item:
                props[prop] = self._expr(key, prop, item[prop])
        if qtype == "calculate" and "calculation" not in props:
            raise self.fail(key, "a calculate question needs a calculation")
        required = item.get("required", False)
        if isinstance(required, str):
            required = self._expr(key, "required", required)
        elif not isinstance(required, bool):
            raise self.fail(key, "required must be true, false or an expression")
        props["required"] = required
        if qtype in ("select_one", "select_multiple"):
            props["choices"] = self._select_choices(key, item)
            if "choice_filter" in item:
                props["choice_filter"] = self._expr(key, "choice_filter", item["choice_filter"],
                                                    allow_names=True)
                self._check_filter_names(key, props["choice_filter"], props["choices"])
        if qtype == "pass_fail_na":
            props["hazard_level_on_fail"] = self._hazard_level(key, item)
        for flag in ("photo_required_on_fail", "note_required_on_fail"):
            if not isinstance(item.get(flag, False), bool):
                raise self.fail(key, f"{flag} must be true or false")
        props.update(self._counts(key, item, qtype))
        if "default" in item:
            props["default"] = self._default(key, qtype, item["default"], props.get("choices"))
        if "dynamic_default" in item and (repeats or "default" in item):
            raise self.fail(key, "a dynamic default is evaluated once, when the form starts:"
                                 " not inside a repeat, nor beside a default")
        question = Question(key, qtype, dict(item), label,
                            parent.key if parent else None, repeats, **props)
        self.by_key[key] = question
        if qtype in ("group", "repeat"):
            children = item.get("items")
            if not (isinstance(children, list) and children):
                raise self.fail(key, f"a {qtype} needs a non-empty items list")
            inner = (*repeats, key) if qtype == "repeat" else repeats
            kids = tuple(self._question(child, question, inner) for child in children)
            object.__setattr__(question, "children", kids)  # built after the parent exists
        for prop in ("relevant", "constraint", "calculation", "previous", "required",
                     "choice_filter", "hazard_level_on_fail", "repeat_count", "dynamic_default"):
            expression = getattr(question, prop)
            if isinstance(expression, Expression):
                self.pending.append((question, prop, expression))
        return question

    def _select_choices(self, key: str, item: dict[str, Any]) -> tuple[Choice, ...]:
        choices = item.get("choices")
        if isinstance(choices, str):
            if choices not in self.lists:
                raise self.fail(key, f"choices refer to unknown choice list {choices!r}")
            found = self.lists[choices]
        else:
            found = self._choices(key, choices)
        if item["type"] == "select_multiple" and any(re.search(r"\s", c.value) for c in found):
            raise self.fail(key, "choice values of a multiple select cannot contain spaces")
        return found

    def _check_filter_names(self, key: str, expression: Expression,
                            choices: tuple[Choice, ...]) -> None:
        known = {"value", "name"} | {a for c in choices for a in c.attrs}
        unknown = expression.names - known
        if unknown:
            raise self.fail(key, f"choice_filter uses {sorted(unknown)}, which no choice has")

    def _hazard_level(self, key: str, item: dict[str, Any]) -> str | Expression | None:
        level = item.get("hazard_level_on_fail")
        if level is None:
            return None
        if isinstance(level, str) and "${" in level:
            if not self.levels:
                raise self.fail(key, "hazard_level_on_fail needs the form's hazard_levels")
            return self._expr(key, "hazard_level_on_fail", level)  # e.g. carried from a notice
        if not isinstance(level, str) or level not in self.levels:
            raise self.fail(key, f"hazard_level_on_fail {level!r} is not one of the form's "
                                 f"hazard_levels {sorted(self.levels)}")
        return level

    def _counts(self, key: str, item: dict[str, Any], qtype: str) -> dict[str, Any]:
        names = {**dict.fromkeys(ATTACHED_TYPES, ("min_count", "max_count")),
                 "repeat": ("min_repeat", "max_repeat")}
        if qtype not in names:
            return {}
        low_name, high_name = names[qtype]
        low = item.get(low_name, 0)
        high = item.get(high_name, DEFAULT_MAX_PHOTOS if qtype in ATTACHED_TYPES else None)
        for name, n in ((low_name, low), (high_name, high)):
            if n is not None and not (isinstance(n, int) and not isinstance(n, bool) and n >= 0):
                raise self.fail(key, f"{name} must be a whole number ≥ 0")
        if high is not None and (high < max(low, 1)):
            raise self.fail(key, f"{high_name} ({high}) must be ≥ 1 and ≥ {low_name} ({low})")
        return {low_name: low, high_name: high}

    def _default(self, key: str, qtype: str, default: Any,
                 choices: tuple[Choice, ...] | None) -> Any:
        if qtype in ("group", "repeat", "note", "calculate", "signature", *ATTACHED_TYPES):
            raise self.fail(key, f"a {qtype} cannot have a default")
        problem = type_problem(qtype, default, tuple(c.value for c in choices or ()))
        if problem:
            raise self.fail(key, f"default {default!r} does not fit a {qtype} ({problem[0]})")
        return default

    def _check_refs(self, question: Question, prop: str, expression: Expression) -> None:
        for name in sorted(expression.refs):
            target = self.by_key.get(name)
            if target is None:
                raise self.fail(question.key, f"{prop} refers to unknown question ${{{name}}} "
                                              f"in {expression.text}")
            if target.type == "group":
                raise self.fail(question.key, f"{prop} refers to the group ${{{name}}}, "
                                              "which has no value")
        for table, *columns in sorted(expression.pulls, key=str):
            if table not in self.tables:
                raise self.fail(question.key, f"{prop}: pulldata() reads {table!r}, which is"
                                              f" not attached to the form ({table}.csv)")
            for column in columns:
                if column is not None and column not in self.tables[table]:
                    raise self.fail(question.key, f"{prop}: pulldata() reads the column"
                                                  f" {column!r}, which {table}.csv does not have")

    def _value_deps(self, question: Question) -> set[str]:
        """Questions whose values decide this one's relevance or value."""
        deps: set[str] = set()
        for expression in (question.relevant, question.calculation):
            if expression is not None:
                deps |= expression.refs
        if question.parent:
            deps.add(question.parent)
        return deps

    def _check_cycles(self) -> None:
        state: dict[str, int] = {}  # 1 = on the path, 2 = done

        def visit(key: str, path: list[str]) -> None:
            if state.get(key) == 2:
                return
            if state.get(key) == 1:
                cycle = " → ".join([*path[path.index(key):], key])
                raise self.fail(key, f"relevance/calculation depends on itself: {cycle}")
            state[key] = 1
            for dep in sorted(self._value_deps(self.by_key[key])):
                visit(dep, [*path, key])
            state[key] = 2

        for key in self.by_key:
            visit(key, [])


def load_definition(data: Mapping[str, Any]) -> FormDefinition:
    """Validate and compile a definition; raises :class:`FormDefinitionError`."""
    return _Loader(data).load()


@lru_cache(maxsize=64)
def _from_json(text: str) -> FormDefinition:
    return load_definition(json.loads(text))


def as_definition(definition: FormDefinition | Mapping[str, Any]) -> FormDefinition:
    """Accept a loaded definition or the stored JSON dict (loaded once per distinct content)."""
    if isinstance(definition, FormDefinition):
        return definition
    return _from_json(json.dumps(definition, sort_keys=True, ensure_ascii=False))

"""Question paths: how one answer inside a submission is named.

A question outside repeats is named by its key (``meter_reading``); inside repeats the path
walks the instances: ``appliances[0].flue`` or ``parts[2].quantity`` (indices from 0).
Groups never appear in a path: keys are unique in a form, groups only arrange the screen.

The ``answers`` table keeps one row per path; the engine works on nested answers
(a repeat is a list of dicts), so :func:`nest` and :func:`flatten` convert between them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fieldapp.forms.expr import NAME_RE

_STEP = re.compile(rf"({NAME_RE})\[(\d+)\]")
_LEAF = re.compile(NAME_RE)

Location = tuple[str, tuple[int, ...]]  # (question key, index in each enclosing repeat)


def split(path: str) -> tuple[list[tuple[str, int]], str] | None:
    """``"a[0].b[1].c"`` → ([("a", 0), ("b", 1)], "c"); None if it is not a path."""
    if not isinstance(path, str):
        return None
    *steps, leaf = path.split(".")
    parsed = []
    for step in steps:
        m = _STEP.fullmatch(step)
        if m is None:
            return None
        parsed.append((m.group(1), int(m.group(2))))
    return (parsed, leaf) if _LEAF.fullmatch(leaf) else None


def format_path(key: str, repeats: tuple[str, ...], idx: tuple[int, ...]) -> str:
    return "".join(f"{r}[{i}]." for r, i in zip(repeats, idx, strict=True)) + key


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Rows keyed by path → nested answers; instances are padded so indices stay put. A null
    answer is no answer: a repeat instance exists once one of its questions has a value."""
    nested: dict[str, Any] = {}
    for path, value in flat.items():
        if value is None:
            continue
        parts = split(path)
        if parts is None:
            nested[path] = value  # kept as is: the engine reports it as an unknown question
            continue
        steps, leaf = parts
        container = nested
        for key, index in steps:
            instances = container.setdefault(key, [])
            if not isinstance(instances, list):
                break
            while len(instances) <= index:
                instances.append({})
            container = instances[index]
        else:
            container[leaf] = value
    return nested


def flatten(answers: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested answers → one value per path (repeat lists become ``key[i].child`` paths)."""
    flat: dict[str, Any] = {}
    for key, value in answers.items():
        if isinstance(value, list) and value and all(isinstance(i, dict) for i in value):
            for i, instance in enumerate(value):
                flat.update(flatten(instance, f"{prefix}{key}[{i}]."))
        else:
            flat[prefix + key] = value
    return flat

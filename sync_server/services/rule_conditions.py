"""A rule's condition as the office writes it: rows of 字段 · 比较 · 值 picked from lists,
joined by 全部满足 or 任一满足, compiled to the forms' expression language the engine runs
(``${expected_ratio} > 3``). Nobody types ``${x}``: the expression is what is stored and
run, the rows are what is shown and edited.

    expression, problems = compile_rows(fields, "all", [Row("daily_use", "eq", "0")])
    match, rows = rows_of(expression)      # None when written by hand beyond the rows

A value is checked against its field: numbers for numeric fields, no quote inside a text
(the expression language has no escape for it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Facts holding numbers (the rest are text): compared as numbers, and a value must be one.
NUMERIC = frozenset({
    "priority", "hazards", "value", "previous", "days", "daily_use", "usual_daily_use",
    "ratio", "same_period_daily_use", "expected_daily_use", "expected_ratio",
    "excess_daily_use", "household_size", "per_person_daily_use", "days_left", "amount",
    "days_overdue", "month", "day", "weekday"})
LIST_FACTS = frozenset({"tags"})  # space-separated words: "含有" asks for one of them

OPS: dict[str, str] = {"eq": "等于", "ne": "不等于", "gt": "大于", "ge": "大于或等于",
                       "lt": "小于", "le": "小于或等于", "has": "包含文字",
                       "has_tag": "含有标签", "empty": "为空", "filled": "不为空"}
_SYMBOL = {"eq": "=", "ne": "!=", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_NUMERIC_ONLY = {"gt", "ge", "lt", "le"}
_NO_VALUE = {"empty", "filled"}
MATCH = {"all": ("全部满足", " and "), "any": ("任一满足", " or ")}
MAX_ROWS = 8


@dataclass(frozen=True)
class Row:
    field: str
    op: str
    value: str = ""


def compile_rows(fields: Mapping[str, str], match: str, rows: Sequence[Row]
                 ) -> tuple[str, list[str]]:
    """The expression for ``rows`` over the event's ``fields`` (name → label), and every
    problem in words (row numbers from 1); blank rows are skipped; no rows: always."""
    problems: list[str] = []
    if match not in MATCH:
        problems.append("请选择“全部满足”或“任一满足”")
        match = "all"
    used = [r for r in rows if r.field or r.op or r.value.strip()]
    if len(used) > MAX_ROWS:
        problems.append(f"条件最多 {MAX_ROWS} 行")
    parts = []
    for n, row in enumerate(used, 1):
        part, problem = _compile(fields, row)
        if problem:
            problems.append(f"第 {n} 行条件：{problem}")
        else:
            parts.append(part)
    if problems:
        return "", problems
    return MATCH[match][1].join(parts), []


def _compile(fields: Mapping[str, str], row: Row) -> tuple[str, str | None]:
    if row.field not in fields:
        return "", f"请从列表中选择字段（{row.field or '未选'}不可用）"
    if row.op not in OPS:
        return "", "请选择比较方式"
    label, ref, value = fields[row.field], f"${{{row.field}}}", row.value.strip()
    if row.op in _NO_VALUE:
        return f"{ref} {'=' if row.op == 'empty' else '!='} ''", None
    if not value:
        return "", f"请填写“{label}”要比较的值"
    if row.op == "has_tag" and row.field not in LIST_FACTS:
        return "", f"“{label}”不是标签，请用“包含文字”"
    numeric = row.field in NUMERIC
    if row.op in _NUMERIC_ONLY and not numeric:
        return "", f"“{label}”是文字，只能比较等于、不等于或包含"
    if numeric and row.op not in ("has", "has_tag"):
        try:
            number = float(value)
        except ValueError:
            return "", f"“{label}”是数字，“{value}”不是数字"
        return f"{ref} {_SYMBOL[row.op]} {_number(number)}", None
    if "'" in value or len(value) > 100:
        return "", "值不能包含单引号 '，最多 100 个字"
    if row.op == "has":
        return f"contains({ref}, '{value}')", None
    if row.op == "has_tag":
        return f"selected({ref}, '{value}')", None
    return f"{ref} {_SYMBOL[row.op]} '{value}'", None


def _number(x: float) -> str:
    return str(int(x)) if x.is_integer() else repr(x)


_PART = re.compile(r"\$\{(\w+)\} (=|!=|>=|<=|>|<) ('[^']*'|-?\d+(?:\.\d+)?)"
                   r"|(contains|selected)\(\$\{(\w+)\}, '([^']*)'\)")
_OP_OF = {v: k for k, v in _SYMBOL.items()}


def rows_of(expression: str) -> tuple[str, list[Row]] | None:
    """The rows an expression was compiled from (any simple ``a and b`` or ``a or b`` of
    comparisons), or None when it says more than rows can (written by hand before)."""
    text = expression.strip()
    if not text:
        return "all", []
    match = "any" if " or " in text else "all"
    rows = [_row(p) for p in text.split(MATCH[match][1])]
    if any(r is None for r in rows):
        return None
    found = [r for r in rows if r is not None]
    again, problems = compile_rows({r.field: r.field for r in found}, match, found)
    return (match, found) if not problems and again == text else None


def _row(piece: str) -> Row | None:
    m = _PART.fullmatch(piece.strip())
    if m is None:
        return None
    if m[4]:
        return Row(m[5], "has" if m[4] == "contains" else "has_tag", m[6])
    value = m[3][1:-1] if m[3].startswith("'") else m[3]
    if value == "" and m[2] in ("=", "!="):
        return Row(m[1], "empty" if m[2] == "=" else "filled")
    return Row(m[1], _OP_OF[m[2]], value)


def describe(fields: Mapping[str, str], expression: str) -> str:
    """The condition in words, as the office reads it ("日均用量 等于 0，或 …")."""
    found = rows_of(expression)
    if found is None:
        return f"满足表达式 {expression}"
    match, rows = found
    if not rows:
        return "总是执行"
    said = [f"{fields.get(r.field, r.field)} {OPS[r.op]}"
            + ("" if r.op in _NO_VALUE else f" {r.value}") for r in rows]
    return ("，并且" if match == "all" else "，或").join(said)

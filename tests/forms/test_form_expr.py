"""The expression language: what it computes, and how it refuses what it cannot parse."""

from __future__ import annotations

from typing import Any

import pytest

from fieldapp.errors import InvalidInput
from fieldapp.forms.expr import ExpressionError, parse


class Env:
    def __init__(self, refs: dict[str, Any], current: Any = None,
                 attrs: dict[str, Any] | None = None) -> None:
        self.refs, self._current, self.attrs = refs, current, attrs or {}

    def ref(self, name: str) -> Any:
        return self.refs.get(name)

    def current(self) -> Any:
        return self._current

    def attr(self, name: str) -> Any:
        return self.attrs.get(name)

    def today(self) -> str:
        return "2025-03-01"

    def now(self) -> str:
        return "2025-03-01T09:30:00+08:00"

    def lookup(self, table: str, column: str, key_column: str, key: str) -> Any:
        row = next((r for r in TABLES.get(table, []) if r.get(key_column) == key), {})
        return row.get(column, "")


REFS = {"reading": 1250.5, "previous": 1200, "actions": ["tighten", "replace_hose"],
        "level": "serious", "empty": None, "blank": "", "qty": [2, 3, None],
        "flue": ["pass", "fail"],
        "name": "王建国", "n": "12", "day": "2025-02-20", "district": "gulou",
        # a 1.1 km pipe route north, and a 100 m square plot (by degrees at 32°N)
        "route": [{"lat": 32.0, "lon": 118.78}, {"lat": 32.01, "lon": 118.78}],
        "plot": [{"lat": 32.0, "lon": 118.78}, {"lat": 32.0 + 100 / 111_319.5, "lon": 118.78},
                 {"lat": 32.0 + 100 / 111_319.5, "lon": 118.78 + 100 / 94_403.5},
                 {"lat": 32.0, "lon": 118.78 + 100 / 94_403.5}]}
TABLES = {"prices": [{"id": "gulou", "price": "3.05"}, {"id": "jianye", "price": "2.9"}]}


@pytest.mark.parametrize(("text", "expected"), [
    ("1 + 2 * 3", 7),
    ("(1 + 2) * 3", 9),
    ("7 div 2", 3.5),
    ("7 / 2", 3.5),
    ("7 mod 3", 1),
    ("-7 mod 3", -1),
    ("-(2 + 3)", -5),
    ("2 - 3 - 4", -5),  # left-associative
    ("1 div 0", None),
    ("${reading} - ${previous}", 50.5),
    ("${reading} >= ${previous}", True),
    ("${reading} > 3 * ${previous}", False),
    ("${n} = 12", True),  # text that is a number compares as a number
    ("${n} > 9", True),
    ("${level} = 'serious'", True),
    ('${level} != "serious"', False),
    ("${empty} = ''", True),  # an unanswered question equals the empty string
    ("${empty} = ${blank}", True),
    ("${empty} != 'x'", True),
    ("${empty} > 3", False),
    ("${empty} + 1", None),
    ("${flue} = 'fail'", True),  # over repeat instances: any of them
    ("${flue} != 'pass'", True),
    ("1 < 2 and 2 < 3", True),
    ("1 > 2 or 2 > 3", False),
    ("1 = 1 or 1 div 0", True),
    ("not(${level} = 'general')", True),
    ("true() and not(false())", True),
    ("if(${reading} > 1000, 'high', 'low')", "high"),
    ("if(${empty}, 1, 2)", 2),
    ("selected(${actions}, 'tighten')", True),
    ("selected(${actions}, 'shut_off')", False),
    ("selected('a b c', 'b')", True),  # ODK's space-separated form
    ("count-selected(${actions})", 2),
    ("count-selected(${empty})", 0),
    ("selected-at(${actions}, 1)", "replace_hose"),
    ("string-length(${name})", 3),
    ("string-length(${empty})", 0),
    ("today()", "2025-03-01"),
    ("now()", "2025-03-01T09:30:00+08:00"),
    ("${day} < today()", True),
    ("days-between(${day}, today())", 9),
    ("days-between('bad', today())", None),
    ("coalesce(${empty}, ${blank}, 5)", 5),
    ("coalesce(${previous}, 0)", 1200),
    ("count(${qty})", 3),
    ("sum(${qty})", 5),
    ("max(${qty})", 3),
    ("min(4, 2, 9)", 2),
    ("round(2.675, 2)", 2.68),
    ("round(2.5)", 3),
    ("int(7.9)", 7),
    ("number('3.5') + 1", 4.5),
    ("abs(-4)", 4),
    ("concat('户号', '-', ${n})", "户号-12"),
    ("string(12.0)", "12"),
    ("contains(${name}, '建')", True),
    ("starts-with(${name}, '王')", True),
    ("substr('abcdef', 1, 3)", "bc"),
    ("regex('13812345678', '^1[3-9][0-9]{9}$')", True),
    ("regex('0812', '^1[3-9][0-9]{9}$')", False),
    ("date('2025-02-30')", None),
    (".5 + .5", 1.0),
    ("pulldata('prices', 'price', 'id', ${district})", "3.05"),  # from the attached CSV
    ("pulldata('prices', 'price', 'id', ${district}) * 10", 30.5),
    ("pulldata('prices', 'price', 'id', 'nowhere')", ""),  # no such row: empty, as ODK
    ("pulldata('prices', 'price', 'id', ${empty})", ""),
    ("sqrt(16)", 4.0),  # ODK's math: a plot's radius on a slope, a tank's volume
    ("round(5 div sqrt(cos(atan(0.5))), 2)", 5.29),
    ("pow(2, 10)", 1024.0),
    ("round(log10(1000) + log(exp(2)), 6)", 5.0),
    ("round(sin(pi() div 2) + acos(1), 6)", 1.0),
    ("floor(-2.5) + ceiling(2.1)", 0),
    ("round(atan2(1, 1) * 4, 6)", round(3.141593, 6)),
    ("sqrt(-1)", None),  # no answer where ODK would give NaN
    ("log(0)", None),
    ("pow(10, 400)", None),  # an overflow, not an infinity
    ("sqrt(${empty})", None),
    ("sqrt('four')", None),
    ("round(distance('0 0 0 0; 1 0 0 0'))", 111319),  # ODK's: metres along the points
    ("round(distance(${route}))", 1113),
    ("round(area(${plot}) div 100)", 100),  # a 100 m square: 10,000 m²
    ("distance('0 0')", None),  # one point: no length
    ("area('not points')", None),
])
def test_evaluates(text: str, expected: Any) -> None:
    assert parse(text).evaluate(Env(REFS)) == expected


@pytest.mark.parametrize(("text", "current", "expected"), [
    (". >= 1 and . <= 5", 3, True),
    (". >= 1 and . <= 5", 6, False),
    (". >= coalesce(${previous}, 0)", 1199, False),
    ("string-length(.) = 11", "13812345678", True),
])
def test_dot_is_the_answer_being_checked(text: str, current: Any, expected: bool) -> None:
    assert parse(text).evaluate(Env(REFS, current)) is expected


def test_choice_filter_names_read_the_choice() -> None:
    expression = parse("district = ${district}", allow_names=True)
    assert expression.names == {"district"} and expression.refs == {"district"}
    assert expression.evaluate(Env({"district": "gulou"}, attrs={"district": "gulou"}))
    assert not expression.evaluate(Env({"district": "gulou"}, attrs={"district": "jianye"}))


def test_parse_once_and_report_what_is_read() -> None:
    first = parse("${a} + ${b} > . and today() = ${c}")
    assert parse("${a} + ${b} > . and today() = ${c}") is first  # cached: parsed once
    assert first.refs == {"a", "b", "c"}
    assert first.uses_current
    assert not parse("1 + 1").uses_current
    pulled = parse("pulldata('prices', 'price', 'id', ${d}) + pulldata('t', ${c}, 'k', 1)")
    assert pulled.pulls == {("prices", "price", "id"), ("t", None, "k")}


@pytest.mark.parametrize(("text", "position", "problem"), [
    ("1 +", 3, "expected a value but found the end"),
    ("${a} = ", 7, "expected a value"),
    ("(1 + 2", 6, "expected ')'"),
    ("${a", 0, "malformed reference"),
    ("${1a} = 1", 0, "malformed reference"),
    ("'open", 0, "string is not closed"),
    ("1 = 1 ; 2", 6, "unexpected character ';'"),
    ("reading > 3", 0, "a question is written ${reading}"),
    ("foo(1)", 0, "unknown function foo()"),
    ("eval('1')", 0, "unknown function eval()"),
    ("__import__('os')", 0, "unknown function __import__()"),
    ("${a} = 1 and if(1, 2)", 13, "if() takes 3 arguments, not 2"),
    ("today(1)", 0, "today() takes 0 arguments"),
    ("coalesce(1)", 0, "coalesce() takes 2 or more arguments"),
    ("1 2", 2, "unexpected '2'"),
    ("", 0, "empty expression"),
    ("regex(., '[a-')", 9, "bad regular expression"),
    ("${a} == 1", 6, "expected a value but found '='"),
    ("pulldata(${a}, 'p', 'id', 1)", 9, "pulldata() names its table as text"),
    ("pulldata('prices', 'price')", 0, "pulldata() takes 4 arguments, not 2"),
])
def test_errors_name_the_expression_and_position(text: str, position: int, problem: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    error = caught.value
    assert isinstance(error, InvalidInput) and error.code == "bad_expression"
    assert (error.expression, error.position) == (text, position)
    assert problem in error.problem
    assert f"at position {position}" in str(error)


def test_evaluation_never_raises_on_odd_data() -> None:
    odd = {"x": {"lat": 1}, "y": [None, "a", 3], "z": float("nan")}
    for text in ("${x} + 1", "${y} * 2", "${z} > 1", "sum(${x})", "round(${z})",
                 "selected(${x}, 'a')", "string-length(${y})", "days-between(${x}, ${y})"):
        result = parse(text).evaluate(Env(odd))
        assert result is None or isinstance(result, int | float | str | bool | list), text

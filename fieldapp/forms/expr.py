"""The form expression language: a small, safe, ODK-style language parsed once, evaluated often.

    ${meter_reading} >= coalesce(${previous_reading}, 0)
    selected(${actions}, 'replace_hose') and count-selected(${actions}) <= 3
    if(${satisfaction} <= 2, 'follow_up', 'ok')
    . >= 1 and . <= 5                      (``.`` is the answer being checked)

Definitions come from the office and from imported XLSForms, so their text is data: it is
tokenised and parsed here by a Pratt parser into a small tree, never handed to ``eval``.
Parsing checks every function name and arity, so a bad definition fails when it is loaded,
with the position, instead of when a technician is standing in a kitchen.

Precedence, lowest first (as in XPath): ``or``; ``and``; ``=`` ``!=``; ``<`` ``<=`` ``>``
``>=``; ``+`` ``-``; ``*`` ``/`` ``div`` ``mod``; unary ``-``. Values follow
:mod:`fieldapp.forms.values` (empty answers compare like ODK's empty string).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from fieldapp.errors import InvalidInput
from fieldapp.forms import values as v


class ExpressionError(InvalidInput):
    """A definition's expression that does not parse; names the text and the position."""

    def __init__(self, expression: str, position: int, problem: str) -> None:
        super().__init__("bad_expression", f"{problem} at position {position} in {expression!r}",
                         expression=expression, position=position, problem=problem)
        self.expression, self.position, self.problem = expression, position, problem


class Env(Protocol):
    """What an expression can see while it is evaluated (the engine provides it)."""

    def ref(self, name: str) -> Any: ...
    def current(self) -> Any: ...
    def attr(self, name: str) -> Any: ...
    def today(self) -> str: ...
    def now(self) -> str: ...
    def lookup(self, table: str, column: str, key_column: str, key: str) -> Any: ...


# -- tokens ---------------------------------------------------------------------------------

NAME_RE = r"[^\W\d][\w-]*"
_TOKEN = re.compile(rf"""
    (?P<ws>\s+)
  | (?P<ref>\$\{{\s*(?P<refname>{NAME_RE})\s*\}})
  | (?P<number>\d+(?:\.\d+)?|\.\d+)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<name>{NAME_RE})
  | (?P<op>!=|<=|>=|[=<>+\-*/(),.])
""", re.VERBOSE)
_KEYWORDS = {"and", "or", "div", "mod"}


@dataclass(frozen=True)
class Token:
    kind: str  # ref, number, string, name, op, keyword, end
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            if text.startswith("${", pos):
                raise ExpressionError(text, pos, "malformed reference, expected ${name}")
            if text[pos] in "'\"":
                raise ExpressionError(text, pos, "string is not closed")
            raise ExpressionError(text, pos, f"unexpected character {text[pos]!r}")
        group = m.lastgroup or ""  # never empty: every alternative of _TOKEN is a named group
        kind = group if group != "refname" else "ref"
        if kind == "ref":
            tokens.append(Token("ref", m.group("refname"), pos))
        elif kind == "name" and m.group() in _KEYWORDS:
            tokens.append(Token("keyword", m.group(), pos))
        elif kind != "ws":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# -- the tree -------------------------------------------------------------------------------

Node = Callable[[Env], Any]  # a compiled node is a closure over its children


@dataclass(frozen=True)
class Function:
    impl: Callable[..., Any]
    min_args: int
    max_args: int | None  # None = any number


def _if(env: Env, cond: Node, then: Node, other: Node) -> Any:
    return then(env) if v.truthy(cond(env)) else other(env)


FUNCTIONS: dict[str, Function] = {
    "selected": Function(v.selected, 2, 2),
    "count-selected": Function(v.count_selected, 1, 1),
    "selected-at": Function(v.selected_at, 2, 2),
    "string-length": Function(lambda s: len(v.to_string(s)), 1, 1),
    "coalesce": Function(v.coalesce, 2, None),
    "not": Function(lambda x: not v.truthy(x), 1, 1),
    "true": Function(lambda: True, 0, 0),
    "false": Function(lambda: False, 0, 0),
    "count": Function(v.count, 1, 1),
    "sum": Function(v.total, 1, 1),
    "min": Function(lambda *a: v.extreme(min, a), 1, None),
    "max": Function(lambda *a: v.extreme(max, a), 1, None),
    "round": Function(v.round_half_up, 1, 2),
    "int": Function(v.to_int, 1, 1),
    "number": Function(v.to_number, 1, 1),
    "abs": Function(lambda x: None if (n := v.to_number(x)) is None else abs(n), 1, 1),
    "string": Function(v.to_string, 1, 1),
    "concat": Function(lambda *a: "".join(v.to_string(x) for x in a), 0, None),
    "contains": Function(lambda s, t: v.to_string(t) in v.to_string(s), 2, 2),
    "starts-with": Function(lambda s, t: v.to_string(s).startswith(v.to_string(t)), 2, 2),
    "substr": Function(v.substr, 2, 3),
    "regex": Function(v.regex, 2, 2),
    "date": Function(v.to_date, 1, 1),
    "days-between": Function(v.days_between, 2, 2),
    # ODK's math, as real forms use it (a plot's radius on a slope, a tank's volume).
    **{name: Function(v.math_of(fn), 1, 1) for name, fn in (
        ("sqrt", math.sqrt), ("exp", math.exp), ("exp10", lambda x: math.pow(10, x)),
        ("log", math.log), ("log10", math.log10), ("sin", math.sin), ("cos", math.cos),
        ("tan", math.tan), ("asin", math.asin), ("acos", math.acos), ("atan", math.atan),
        ("floor", math.floor), ("ceiling", math.ceil))},
    "pow": Function(v.math_of(math.pow), 2, 2),
    "atan2": Function(v.math_of(math.atan2), 2, 2),
    "pi": Function(lambda: math.pi, 0, 0),
    "distance": Function(v.distance, 1, 1),  # a geotrace's length, metres
    "area": Function(v.area, 1, 1),  # a geoshape's area, square metres
}
# Functions that read the evaluation environment rather than only their arguments.
ENV_FUNCTIONS: dict[str, Node] = {"today": lambda env: env.today(), "now": lambda env: env.now()}
SUPPORTED_FUNCTIONS = frozenset(FUNCTIONS) | frozenset(ENV_FUNCTIONS) | {"if", "pulldata"}
# pulldata('table', 'column', 'key column', key): a value from a CSV attached to the form.
Pull = tuple[str, str | None, str | None]  # the table and, when written as text, the columns

_BINARY: dict[str, tuple[int, Callable[[Any, Any], Any]]] = {
    "=": (3, v.equal), "!=": (3, v.not_equal),
    "<": (4, lambda a, b: v.compare(a, b, lambda x, y: x < y)),
    "<=": (4, lambda a, b: v.compare(a, b, lambda x, y: x <= y)),
    ">": (4, lambda a, b: v.compare(a, b, lambda x, y: x > y)),
    ">=": (4, lambda a, b: v.compare(a, b, lambda x, y: x >= y)),
    "+": (5, v.add), "-": (5, v.subtract),
    "*": (6, v.multiply), "/": (6, v.divide), "div": (6, v.divide), "mod": (6, v.modulo),
}
_LOGICAL = {"or": 1, "and": 2}


@dataclass(frozen=True)
class Expression:
    """A parsed expression: evaluate it any number of times against an :class:`Env`."""

    text: str
    refs: frozenset[str]  # ${names} it reads
    names: frozenset[str]  # bare names (choice attributes in a choice filter)
    uses_current: bool  # reads ``.``
    _root: Node
    pulls: frozenset[Pull] = frozenset()  # the attached tables pulldata() reads

    def evaluate(self, env: Env) -> Any:
        return self._root(env)

    def __str__(self) -> str:
        return self.text


class _Parser:
    def __init__(self, text: str, allow_names: bool) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.allow_names = allow_names
        self.refs: set[str] = set()
        self.names: set[str] = set()
        self.pulls: set[Pull] = set()
        self.uses_current = False

    def fail(self, token: Token, problem: str) -> ExpressionError:
        return ExpressionError(self.text, token.pos, problem)

    @property
    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, text: str) -> Token:
        token = self.take()
        if token.text != text or token.kind not in ("op", "keyword"):
            found = repr(token.text) if token.kind != "end" else "the end"
            raise self.fail(token, f"expected {text!r} but found {found}")
        return token

    def parse(self) -> Node:
        if self.peek.kind == "end":
            raise self.fail(self.peek, "empty expression")
        node = self.expression(0)
        if self.peek.kind != "end":
            raise self.fail(self.peek, f"unexpected {self.peek.text!r}")
        return node

    def expression(self, min_power: int) -> Node:
        left = self.unary()
        while True:
            token = self.peek
            power = self._power(token)
            if power is None or power <= min_power:
                return left
            self.take()
            right = self.expression(power)
            left = self._combine(token.text, left, right)

    def _power(self, token: Token) -> int | None:
        if token.kind == "keyword" and token.text in _LOGICAL:
            return _LOGICAL[token.text]
        if token.kind in ("op", "keyword") and token.text in _BINARY:
            return _BINARY[token.text][0]
        return None

    @staticmethod
    def _combine(op: str, left: Node, right: Node) -> Node:
        if op == "and":
            return lambda env: v.truthy(left(env)) and v.truthy(right(env))
        if op == "or":
            return lambda env: v.truthy(left(env)) or v.truthy(right(env))
        fn = _BINARY[op][1]
        return lambda env: fn(left(env), right(env))

    def unary(self) -> Node:
        if self.peek.kind == "op" and self.peek.text == "-":
            self.take()
            operand = self.unary()
            return lambda env: v.negate(operand(env))
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "number":
            number = float(token.text) if "." in token.text else int(token.text)
            return lambda env: number
        if token.kind == "string":
            text = token.text[1:-1]
            return lambda env: text
        if token.kind == "ref":
            self.refs.add(token.text)
            name = token.text
            return lambda env: env.ref(name)
        if token.kind == "op" and token.text == ".":
            self.uses_current = True
            return lambda env: env.current()
        if token.kind == "op" and token.text == "(":
            inner = self.expression(0)
            self.expect(")")
            return inner
        if token.kind == "name":
            if self.peek.kind == "op" and self.peek.text == "(":
                return self.call(token)
            if self.allow_names:
                self.names.add(token.text)
                return lambda env: env.attr(token.text)
            raise self.fail(token, f"unexpected name {token.text!r}; a question is written "
                                   f"${{{token.text}}}")
        found = repr(token.text) if token.kind != "end" else "the end"
        raise self.fail(token, f"expected a value but found {found}")

    def call(self, name: Token) -> Node:
        if name.text not in SUPPORTED_FUNCTIONS:
            raise self.fail(name, f"unknown function {name.text}()")
        self.expect("(")
        args: list[Node] = []
        arg_tokens: list[Token] = []
        if not (self.peek.kind == "op" and self.peek.text == ")"):
            while True:
                arg_tokens.append(self.peek)
                args.append(self.expression(0))
                if not (self.peek.kind == "op" and self.peek.text == ","):
                    break
                self.take()
        self.expect(")")
        if name.text == "if":
            self._arity(name, len(args), 3, 3)
            cond, then, other = args
            return lambda env: _if(env, cond, then, other)
        if name.text == "pulldata":
            return self._pulldata(name, args, arg_tokens)
        if name.text in ENV_FUNCTIONS:
            self._arity(name, len(args), 0, 0)
            read = ENV_FUNCTIONS[name.text]
            return lambda env: read(env)
        fn = FUNCTIONS[name.text]
        self._arity(name, len(args), fn.min_args, fn.max_args)
        if name.text == "regex" and arg_tokens[1].kind == "string":
            self._check_pattern(arg_tokens[1])
        impl = fn.impl
        return lambda env: impl(*(a(env) for a in args))

    def _arity(self, name: Token, n: int, low: int, high: int | None) -> None:
        if n < low or (high is not None and n > high):
            want = str(low) if low == high else (f"{low} or more" if high is None
                                                  else f"{low} to {high}")
            raise self.fail(name, f"{name.text}() takes {want} arguments, not {n}")

    def _pulldata(self, name: Token, args: list[Node], tokens: list[Token]) -> Node:
        """ODK's pulldata: the table is named as text (the loader checks it is attached, and
        the columns when they are written as text too); the key may be any value."""
        self._arity(name, len(args), 4, 4)
        if tokens[0].kind != "string":
            raise self.fail(tokens[0], "pulldata() names its table as text: pulldata('prices', …)")
        literal = [t.text[1:-1] if t.kind == "string" else None for t in tokens[:3]]
        self.pulls.add((literal[0] or "", literal[1], literal[2]))
        table, column, key_column, key = args
        return lambda env: env.lookup(v.to_string(table(env)), v.to_string(column(env)),
                                      v.to_string(key_column(env)), v.to_string(key(env)))

    def _check_pattern(self, token: Token) -> None:
        try:
            re.compile(token.text[1:-1])
        except re.error as exc:
            raise self.fail(token, f"bad regular expression: {exc}") from exc


@lru_cache(maxsize=4096)
def parse(text: str, allow_names: bool = False) -> Expression:
    """Parse ``text`` (cached: a definition loaded twice parses its expressions once).

    ``allow_names`` lets bare names stand for attributes of a choice (choice filters).
    """
    parser = _Parser(text, allow_names)
    root = parser.parse()
    return Expression(text, frozenset(parser.refs), frozenset(parser.names),
                      parser.uses_current, root, frozenset(parser.pulls))

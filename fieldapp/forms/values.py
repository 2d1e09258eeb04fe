"""How expression values behave: ODK's rules, made total.

Answers are JSON values (None, bool, int, float, str, lists for multiple choice and for
values gathered across repeat instances). Like ODK, an unanswered question equals the
empty string, a comparison that involves an empty or non-numeric value is false rather
than an error, and a list compares true when any of its items does (``${flue} = 'fail'``
over a repeat means "some appliance failed"). Arithmetic that cannot be done gives None.
Nothing here raises on data: a submission never crashes the server that validates it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Number = int | float


def is_empty(x: Any) -> bool:
    return x is None or x == "" or (isinstance(x, list) and not x)


def truthy(x: Any) -> bool:
    if isinstance(x, bool):
        return x
    if isinstance(x, int | float):
        return x != 0 and not math.isnan(x)
    if isinstance(x, str | list):
        return len(x) > 0
    return x is not None


def to_number(x: Any) -> Number | None:
    if isinstance(x, bool):
        return int(x)
    if isinstance(x, int):
        return x
    if isinstance(x, float):
        return None if math.isnan(x) or math.isinf(x) else x
    if isinstance(x, str):
        text = x.strip()
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                return None
            return None if math.isnan(number) or math.isinf(number) else number
    return None


def to_string(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    if isinstance(x, dict) and "lat" in x and "lon" in x:  # a point, as ODK writes one
        return odk_text([x])
    if isinstance(x, list) and x and all(isinstance(i, dict) for i in x):
        return odk_text(x)  # a line or an area
    if isinstance(x, list):
        return " ".join(to_string(i) for i in x)
    return str(x)


def to_int(x: Any) -> int | None:
    n = to_number(x)
    return None if n is None else int(n)


def _scalars(x: Any) -> list[Any]:
    return x if isinstance(x, list) else [x]


def equal(a: Any, b: Any) -> bool:
    if isinstance(a, list) or isinstance(b, list):
        return any(equal(x, y) for x in _scalars(a) for y in _scalars(b))
    if is_empty(a) or is_empty(b):
        return is_empty(a) and is_empty(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return truthy(a) == truthy(b)
    if isinstance(a, int | float) or isinstance(b, int | float):
        x, y = to_number(a), to_number(b)
        return x is not None and y is not None and x == y
    return to_string(a) == to_string(b)


def not_equal(a: Any, b: Any) -> bool:
    # XPath: a list differs from a value when any item does (not simply "not equal").
    if isinstance(a, list) or isinstance(b, list):
        return any(not equal(x, y) for x in _scalars(a) for y in _scalars(b))
    return not equal(a, b)


def compare(a: Any, b: Any, op: Callable[[Any, Any], bool]) -> bool:
    """An ordering comparison: numbers when both sides are numbers, else text (ISO dates)."""
    if isinstance(a, list) or isinstance(b, list):
        return any(compare(x, y, op) for x in _scalars(a) for y in _scalars(b))
    if is_empty(a) or is_empty(b):
        return False
    x, y = to_number(a), to_number(b)
    if x is not None and y is not None:
        return op(x, y)
    if isinstance(a, str) and isinstance(b, str):
        return op(a, b)
    return False


def _arith(a: Any, b: Any, fn: Callable[[Number, Number], Number]) -> Number | None:
    x, y = to_number(a), to_number(b)
    if x is None or y is None:
        return None
    try:
        result = fn(x, y)
    except (ZeroDivisionError, OverflowError):
        return None
    return None if isinstance(result, float) and (math.isnan(result) or math.isinf(result)) \
        else result


def add(a: Any, b: Any) -> Number | None:
    return _arith(a, b, lambda x, y: x + y)


def subtract(a: Any, b: Any) -> Number | None:
    return _arith(a, b, lambda x, y: x - y)


def multiply(a: Any, b: Any) -> Number | None:
    return _arith(a, b, lambda x, y: x * y)


def divide(a: Any, b: Any) -> Number | None:
    return _arith(a, b, lambda x, y: x / y)


def modulo(a: Any, b: Any) -> Number | None:
    # XPath's mod keeps the sign of the dividend (like C's fmod), unlike Python's %.
    return _arith(a, b, lambda x, y: math.fmod(x, y) if isinstance(x, float) or
                  isinstance(y, float) else int(math.fmod(x, y)))


def negate(a: Any) -> Number | None:
    n = to_number(a)
    return None if n is None else -n


def _choices(x: Any) -> list[str]:
    """A multiple-choice answer as its values: a list, or ODK's space-separated text."""
    if isinstance(x, list):
        return [to_string(i) for i in x]
    return to_string(x).split()


def selected(x: Any, value: Any) -> bool:
    return to_string(value) in _choices(x)


def count_selected(x: Any) -> int:
    return len(_choices(x))


def selected_at(x: Any, index: Any) -> str:
    chosen, i = _choices(x), to_int(index)
    return chosen[i] if i is not None and 0 <= i < len(chosen) else ""


def coalesce(*args: Any) -> Any:
    return next((a for a in args if not is_empty(a)), "")


def count(x: Any) -> int:
    if isinstance(x, list):
        return len(x)
    return 0 if is_empty(x) else 1


def total(x: Any) -> Number:
    numbers = [n for n in (to_number(i) for i in _scalars(x)) if n is not None]
    return sum(numbers)


def extreme(pick: Callable[[Iterable[Number]], Number], args: tuple[Any, ...]) -> Number | None:
    numbers = [n for a in args for i in _scalars(a) if (n := to_number(i)) is not None]
    return pick(numbers) if numbers else None


def round_half_up(x: Any, digits: Any = 0) -> Number | None:
    n, places = to_number(x), to_int(digits)
    if n is None or places is None:
        return None
    # Decimal from the text avoids float artefacts: round(2.675, 2) is 2.68 on a receipt.
    rounded = Decimal(str(n)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return int(rounded) if places <= 0 else float(rounded)


def substr(s: Any, start: Any, end: Any = None) -> str:
    text = to_string(s)
    i, j = to_int(start), (to_int(end) if end is not None else len(text))
    return "" if i is None or j is None else text[max(i, 0):max(j, 0)]


def regex(s: Any, pattern: Any) -> bool:
    try:
        return re.search(to_string(pattern), to_string(s)) is not None
    except re.error:
        return False


def parse_date(x: Any) -> date | None:
    if not isinstance(x, str):
        return None
    try:
        return date.fromisoformat(x[:10]) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", x[:10]) else None
    except ValueError:
        return None


def to_date(x: Any) -> str | None:
    parsed = parse_date(x)
    return parsed.isoformat() if parsed else None


def days_between(a: Any, b: Any) -> int | None:
    start, end = parse_date(a), parse_date(b)
    return None if start is None or end is None else (end - start).days


def math_of(fn: Callable[..., float]) -> Callable[..., Number | None]:
    """ODK's math functions (sqrt, log, sin, pow…): no answer where ODK would give NaN or
    infinity (a square root of a negative, a logarithm of 0, an overflow), or where an
    argument is not a number."""
    def apply(*args: Any) -> Number | None:
        numbers = [to_number(a) for a in args]
        if any(n is None for n in numbers):
            return None
        try:
            result = fn(*numbers)
        except (ValueError, OverflowError, ZeroDivisionError):
            return None
        return None if math.isnan(result) or math.isinf(result) else result
    return apply


EARTH_RADIUS_M = 6_378_100  # as ODK's distance() and area() take it


def odk_points(text: str) -> list[dict[str, float]]:
    """ODK's text for points ("lat lon alt acc; lat lon …") as FieldApp's answers;
    ValueError when it is not that."""
    points = []
    for part in (p.split() for p in text.split(";") if p.strip()):
        if not 2 <= len(part) <= 4:
            raise ValueError(f"not a point: {' '.join(part)!r}")
        numbers = [float(n) for n in part]
        if not all(math.isfinite(n) for n in numbers):
            raise ValueError(f"not a point: {' '.join(part)!r}")
        point = {"lat": numbers[0], "lon": numbers[1]}
        if len(numbers) > 2:
            point["altitude"] = numbers[2]
        if len(numbers) > 3:
            point["accuracy"] = numbers[3]
        points.append(point)
    return points


def odk_text(points: list[dict[str, Any]]) -> str:
    """FieldApp's points as ODK writes them: "lat lon alt acc", separated by "; "."""
    return "; ".join(" ".join(to_string(p.get(k, 0)) for k in ("lat", "lon", "altitude",
                                                                "accuracy")) for p in points)


def _points(x: Any) -> list[tuple[float, float]] | None:
    """A geotrace or geoshape's points: FieldApp's list of {lat, lon, …}, or ODK's text
    ("lat lon alt acc; lat lon …"); None when it is neither."""
    if isinstance(x, str):
        try:
            x = odk_points(x)
        except ValueError:
            return None
    if not isinstance(x, list):
        return None
    points = []
    for p in x:
        if not (isinstance(p, dict) and (lat := to_number(p.get("lat"))) is not None
                and (lon := to_number(p.get("lon"))) is not None):
            return None
        points.append((float(lat), float(lon)))
    return points


def distance(x: Any) -> float | None:
    """ODK's distance(): metres along the points (great circles between them)."""
    points = _points(x)
    if not points or len(points) < 2:
        return None
    total = 0.0
    for (lat1, lon1), (lat2, lon2) in zip(points, points[1:], strict=False):
        p1, p2 = math.radians(lat1), math.radians(lat2)
        h = (math.sin((p2 - p1) / 2) ** 2
             + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
        total += 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
    return total


def area(x: Any) -> float | None:
    """ODK's area(): square metres inside the points, closed by the first (the spherical
    polygon formula of Chamberlain and Duquette, as ODK computes it)."""
    points = _points(x)
    if not points or len(points) < 3:
        return None
    if points[0] == points[-1]:
        points = points[:-1]
    n = len(points)
    total = 0.0
    for i in range(n):
        lat = math.radians(points[i][0])
        lon_next, lon_prev = (math.radians(points[(i + 1) % n][1]),
                              math.radians(points[i - 1][1]))
        total += (lon_next - lon_prev) * math.sin(lat)
    return abs(total) * EARTH_RADIUS_M ** 2 / 2

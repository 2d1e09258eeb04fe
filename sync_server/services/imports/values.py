"""Reading a billing system's cells: dates, moments, meter readings and money as Chinese
exports write them, each either read or refused with the words the operator sees."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from fieldapp.local_time import LOCAL_ZONE

# 2024-03-15, 2024/3/15, 20240315, 2024.03.15, 2024年3月15日
_DAY = re.compile(r"(\d{4})(?:[-/.](\d{1,2})[-/.](\d{1,2})|(\d{2})(\d{2})"
                  r"|年(\d{1,2})月(\d{1,2})日)")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
DATE_EXAMPLE = "请写成 2024-03-15"
MOMENT_EXAMPLE = "请写成 2024-03-15 或 2024-03-15 09:30"
_YUAN = re.compile(r"-?\d{1,9}(\.\d{1,2})?")
_READING = re.compile(r"\d{1,9}(\.\d{1,3})?")


def day(text: str) -> date | None:
    """A calendar day in any of the usual spellings (a time after it is ignored). Read with
    one pattern rather than strptime per format: an export has millions of them."""
    found = _DAY.fullmatch(text.split(" ")[0].split("T")[0])
    if found is None:
        return None
    year, month, dom = (int(g) for g in found.groups() if g is not None)
    try:
        return date(year, month, dom)
    except ValueError:
        return None


def moment(text: str) -> str | None:
    """A day with an optional time of day, in the utility's zone, as stored (ISO 8601 with
    its offset); None when unreadable. A day alone is read as its midnight."""
    parts = text.replace("T", " ", 1).split()
    when = day(parts[0]) if parts else None
    if when is None or len(parts) > 2:
        return None
    clock = time()
    if len(parts) == 2:
        found = _TIME.fullmatch(parts[1])
        if found is None:
            return None
        hour, minute, second = int(found[1]), int(found[2]), int(found[3] or 0)
        if hour > 23 or minute > 59 or second > 59:
            return None
        clock = time(hour, minute, second)
    return datetime.combine(when, clock, LOCAL_ZONE).isoformat(timespec="seconds")


def yuan_cents(text: str) -> int | None:
    """Money in yuan (up to two decimals, thousands commas and ¥ allowed) as fen."""
    plain = text.replace(",", "").replace("，", "").replace("¥", "").replace("￥", "")
    plain = plain.removesuffix("元").strip()
    if not _YUAN.fullmatch(plain):
        return None
    return int(Decimal(plain) * 100)


def reading(text: str) -> Decimal | None:
    """A meter's index in m³: not negative, up to three decimals."""
    if not _READING.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None

"""Reading a billing system's cells: dates, moments, meter readings and money as Chinese
exports write them, each either read or refused with the words the operator sees."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from fieldapp.local_time import LOCAL_ZONE

DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")
TIME_FORMATS = ("%H:%M:%S", "%H:%M")
DATE_EXAMPLE = "请写成 2024-03-15"
MOMENT_EXAMPLE = "请写成 2024-03-15 或 2024-03-15 09:30"
_YUAN = re.compile(r"-?\d{1,9}(\.\d{1,2})?")
_READING = re.compile(r"\d{1,9}(\.\d{1,3})?")


def day(text: str) -> date | None:
    """A calendar day in any of the usual spellings (a time after it is ignored)."""
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text.split(" ")[0].split("T")[0], fmt).date()
        except ValueError:
            continue
    return None


def moment(text: str) -> str | None:
    """A day with an optional time of day, in the utility's zone, as stored (ISO 8601 with
    its offset); None when unreadable. A day alone is read as its midnight."""
    parts = text.replace("T", " ", 1).split()
    when = day(parts[0]) if parts else None
    if when is None or len(parts) > 2:
        return None
    at = datetime.combine(when, datetime.min.time())
    if len(parts) == 2:
        for fmt in TIME_FORMATS:
            try:
                clock = datetime.strptime(parts[1], fmt).time()
                break
            except ValueError:
                continue
        else:
            return None
        at = datetime.combine(when, clock)
    return at.replace(tzinfo=LOCAL_ZONE).isoformat(timespec="seconds")


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

"""Dates, times and sizes as the technician reads them, in the current language."""

from __future__ import annotations

from datetime import date, datetime

from fieldapp.local_time import LOCAL_ZONE, as_local
from fieldapp.ui.i18n import tr


def time_of(value: str | None) -> str:
    moment = as_local(value)
    return moment.strftime("%H:%M") if moment else "--:--"


def date_of(value: str | None) -> str:
    moment = as_local(value)
    if moment:
        return moment.strftime("%Y-%m-%d")
    return (value or "")[:10]


def stamp(value: str | None) -> str:
    """Date and time, short: today only the time, otherwise month-day and time."""
    moment = as_local(value)
    if moment is None:
        return ""
    if moment.date() == datetime.now(LOCAL_ZONE).date():
        return moment.strftime("%H:%M")
    return moment.strftime("%m-%d %H:%M")


def day_heading(day: date) -> str:
    weekday = tr("date.weekdays").split(",")[day.weekday()]
    months = tr("date.months").split(",")
    month_name = months[day.month - 1] if len(months) == 12 else str(day.month)
    return tr("date.day", day=day.day, weekday=weekday, month_name=month_name)


def today() -> date:
    return datetime.now(LOCAL_ZONE).date()


def megabytes(n: int) -> float:
    return n / (1024 * 1024)

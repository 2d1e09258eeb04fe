"""Monthly gas use from readings: differences per meter, in the later reading's month;
an exchanged meter starts afresh; months without a reading are unknown, not zero."""

from __future__ import annotations

from datetime import date

from fieldapp.domain.usage import last_months, monthly_usage


def r(meter: str, at: str, value: float | None) -> dict:
    return {"meter_id": meter, "read_at": f"{at}T10:00:00+08:00", "value": value}


def test_months_cross_the_new_year() -> None:
    assert last_months(date(2026, 2, 27), 4) == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_use_is_the_difference_in_the_later_month() -> None:
    readings = [r("m1", "2026-01-12", 1000), r("m1", "2026-03-12", 1090.5),
                r("m1", "2026-02-12", 1046)]  # any order
    assert monthly_usage(readings, date(2026, 3, 30), 3) == [
        ("2026-01", None), ("2026-02", 46.0), ("2026-03", 44.5)]


def test_an_exchanged_meter_and_a_second_meter() -> None:
    readings = [r("m1", "2026-01-12", 5000), r("m1", "2026-02-12", 5030),
                r("m1", "2026-03-12", 12),  # a new meter under the old id: starts afresh
                r("m1", "2026-04-12", 40),
                r("m2", "2026-03-20", 100), r("m2", "2026-04-20", 110),
                r("m2", "2026-04-25", None)]  # an unread visit is no reading
    assert monthly_usage(readings, date(2026, 4, 30), 4) == [
        ("2026-01", None), ("2026-02", 30.0), ("2026-03", None), ("2026-04", 38.0)]


def test_nothing_to_show() -> None:
    assert monthly_usage([], date(2026, 4, 30), 2) == [("2026-03", None), ("2026-04", None)]

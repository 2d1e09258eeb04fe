"""阶梯气价 with worked examples: within a tier, across two boundaries, a large household,
a period across New Year (new year, new prices, back to tier 1), a price change mid-period,
rounding to the fen, and what cannot be priced."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from fieldapp.billing.tariff import Schedule, Tier, price, yuan
from fieldapp.errors import InvalidInput

Y2026 = Schedule(date(2026, 1, 1), (Tier(300, 253), Tier(600, 304), Tier(None, 379)),
                 base_household=4, extra_per_person=60)
Y2027 = Schedule(date(2027, 1, 1), (Tier(300, 260), Tier(600, 312), Tier(None, 390)),
                 base_household=4, extra_per_person=60)
JULY = Schedule(date(2026, 7, 1), (Tier(300, 270), Tier(600, 304), Tier(None, 379)))


def bill(volume: str, used: str = "0", household: int = 3, start: date = date(2026, 10, 1),
         end: date = date(2026, 12, 1), schedules: tuple[Schedule, ...] = (Y2026, Y2027)):
    return price(list(schedules), household=household, used_before=Decimal(used),
                 start=start, end=end, volume=Decimal(volume))


def lines(b) -> list[tuple[int, int, str, int]]:
    return [(line.year, line.tier, str(line.volume), line.amount_cents) for line in b.lines]


def test_inside_the_first_tier() -> None:
    b = bill("45", used="100")
    assert lines(b) == [(2026, 1, "45.000", 11385)]  # 45 × 2.53
    assert yuan(b.total_cents) == "113.85"


def test_crossing_into_the_second_tier() -> None:
    b = bill("45", used="280")  # 280 → 325: 20 in tier 1, 25 in tier 2
    assert lines(b) == [(2026, 1, "20.000", 5060), (2026, 2, "25.000", 7600)]
    assert b.total_cents == 12660


def test_crossing_two_boundaries_at_once() -> None:
    b = bill("400", used="290")  # 290 → 690
    assert lines(b) == [(2026, 1, "10.000", 2530), (2026, 2, "300.000", 91200),
                        (2026, 3, "90.000", 34110)]
    assert yuan(b.total_cents) == "1278.40"


def test_a_large_household_gets_larger_tiers() -> None:
    # six people: each boundary 2 × 60 m³ higher (420 and 720)
    assert lines(bill("45", used="280", household=6)) == [(2026, 1, "45.000", 11385)]
    assert lines(bill("45", used="400", household=6)) == [(2026, 1, "20.000", 5060),
                                                          (2026, 2, "25.000", 7600)]


def test_a_period_across_new_year_starts_the_new_year_in_tier_one() -> None:
    # 1 Dec → 1 Feb, 62 days, 62 m³: 31 m³ in December on top of 590, 31 m³ in January
    b = bill("62", used="590", start=date(2026, 12, 1), end=date(2027, 2, 1))
    assert lines(b) == [(2026, 2, "10.000", 3040), (2026, 3, "21.000", 7959),
                        (2027, 1, "31.000", 8060)]  # at 2027's own price
    assert b.total_cents == 19059


def test_a_price_change_inside_the_period_splits_it_by_days() -> None:
    # 16 June → 16 July, 30 days, 30 m³: 15 at the old tier-1 price, 15 at the new one
    b = bill("30", used="100", start=date(2026, 6, 16), end=date(2026, 7, 16),
             schedules=(Y2026, JULY))
    assert lines(b) == [(2026, 1, "15.000", 3795), (2026, 1, "15.000", 4050)]
    # the year's running total goes on across the change: a second bill starts at 130
    after = bill("200", used="130", start=date(2026, 7, 16), end=date(2026, 8, 16),
                 schedules=(Y2026, JULY))
    assert lines(after) == [(2026, 1, "170.000", 45900), (2026, 2, "30.000", 9120)]


def test_each_line_is_rounded_half_up_to_the_fen() -> None:
    assert lines(bill("12.345")) == [(2026, 1, "12.345", 3123)]  # 3123.285
    assert lines(bill("0.002")) == [(2026, 1, "0.002", 1)]  # 0.506 fen
    assert bill("0").total_cents == 0


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"volume": "-5"}, "negative_volume"),
    ({"volume": "5", "start": date(2026, 3, 1), "end": date(2026, 3, 1)}, "bad_period"),
    ({"volume": "5", "start": date(2025, 12, 1), "end": date(2026, 1, 15)}, "no_schedule"),
])
def test_what_cannot_be_priced_is_refused(kwargs: dict, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        bill(**kwargs)
    assert refused.value.code == code


@pytest.mark.parametrize("tiers", [
    (Tier(300, 253), Tier(600, 304)),  # the last tier must be open-ended
    (Tier(600, 253), Tier(300, 304), Tier(None, 379)),  # boundaries must increase
    (Tier(300, 0), Tier(None, 379)),  # no free gas
])
def test_a_wrong_schedule_is_refused(tiers: tuple[Tier, ...]) -> None:
    with pytest.raises(InvalidInput):
        Schedule(date(2026, 1, 1), tiers)

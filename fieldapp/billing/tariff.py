"""阶梯气价: the tiered residential gas price, and a bill's breakdown per tier.

    schedule = Schedule(date(2026, 1, 1), tiers=(Tier(300, 253), Tier(600, 304),
                                                  Tier(None, 379)), extra_per_person=60)
    bill = price([schedule], household=3, used_before=Decimal("280"), start=date(2026, 10, 1),
                 end=date(2026, 12, 1), volume=Decimal("45"))
    bill.total_cents  # 280→300 at 2.53, 300→325 at 3.04: 5060 + 7600 = 12660

The tiers count a household's volume over the calendar year: each year starts again in the
first tier. A bill whose reading period crosses New Year, or a date where a new schedule
takes effect, is split by days, each part priced with its own year's running total and its
own schedule. Households larger than ``base_household`` get each tier boundary raised by
``extra_per_person`` m³ per extra person. Volumes are Decimal m³; money is integer fen
(0.01 元), each line rounded half up once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from fieldapp.errors import InvalidInput

CENT = Decimal("1")
LITRE = Decimal("0.001")  # volumes are kept to the litre


@dataclass(frozen=True)
class Tier:
    upto_m3: int | None  # the tier's upper boundary in m³ a year; None: no limit
    price_cents: int  # fen per m³


@dataclass(frozen=True)
class Schedule:
    effective_from: date
    tiers: tuple[Tier, ...]
    base_household: int = 4
    extra_per_person: int = 0  # m³ added to every boundary per person above base_household

    def __post_init__(self) -> None:
        bounds = [t.upto_m3 for t in self.tiers]
        if not self.tiers or bounds[-1] is not None or any(b is None for b in bounds[:-1]):
            raise InvalidInput("bad_schedule", "tiers must end with one without a limit")
        limited = [b for b in bounds if b is not None]
        if any(b >= c for b, c in zip(limited, limited[1:], strict=False)):
            raise InvalidInput("bad_schedule", "tier boundaries must increase")
        if any(t.price_cents <= 0 for t in self.tiers):
            raise InvalidInput("bad_schedule", "prices must be positive")

    def bounds(self, household: int | None) -> list[Decimal | None]:
        extra = max(0, (household or self.base_household) - self.base_household)
        return [None if t.upto_m3 is None else Decimal(t.upto_m3 + extra * self.extra_per_person)
                for t in self.tiers]


@dataclass(frozen=True)
class Line:
    year: int
    tier: int  # 1-based
    volume: Decimal
    price_cents: int
    amount_cents: int
    start: date
    end: date  # exclusive


@dataclass(frozen=True)
class Bill:
    volume: Decimal
    lines: tuple[Line, ...] = field(default_factory=tuple)

    @property
    def total_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)


def price(schedules: Sequence[Schedule], *, household: int | None, used_before: Decimal,
          start: date, end: date, volume: Decimal,
          used_before_by_year: dict[int, Decimal] | None = None) -> Bill:
    """The bill for ``volume`` m³ used from ``start`` to ``end`` (exclusive).

    ``used_before`` is what the household used earlier in ``start``'s year; for later years
    in the period, ``used_before_by_year`` may say (default nothing)."""
    if volume < 0:
        raise InvalidInput("negative_volume", f"a bill cannot be for {volume} m³",
                           volume=str(volume))
    if end <= start:
        raise InvalidInput("bad_period", f"the period {start}..{end} is empty")
    ordered = sorted(schedules, key=lambda s: s.effective_from)
    if not ordered or ordered[0].effective_from > start:
        raise InvalidInput("no_schedule", f"no price schedule in effect on {start}",
                           on=start.isoformat())
    parts = _parts(ordered, start, end)
    days = Decimal((end - start).days)
    running = {start.year: used_before, **(used_before_by_year or {})}
    lines: list[Line] = []
    given = Decimal(0)
    for i, (schedule, a, b) in enumerate(parts):
        share = (volume - given if i == len(parts) - 1
                 else (volume * Decimal((b - a).days) / days).quantize(LITRE))
        given += share
        so_far = running.get(a.year, Decimal(0))
        lines += _tiers(schedule, household, a, b, so_far, share)
        running[a.year] = so_far + share
    return Bill(volume, tuple(lines))


def _parts(schedules: list[Schedule], start: date, end: date) -> list[tuple[Schedule, date, date]]:
    """The period cut at every New Year and every schedule change inside it."""
    cuts = {start, end}
    cuts |= {date(y, 1, 1) for y in range(start.year + 1, end.year + 1)}
    cuts |= {s.effective_from for s in schedules if start < s.effective_from < end}
    points = sorted(c for c in cuts if start <= c <= end)
    out = []
    for a, b in zip(points, points[1:], strict=False):
        schedule = [s for s in schedules if s.effective_from <= a][-1]
        out.append((schedule, a, b))
    return out


def _tiers(schedule: Schedule, household: int | None, a: date, b: date, used: Decimal,
           volume: Decimal) -> list[Line]:
    lines = []
    low = Decimal(0)
    for n, (tier, high) in enumerate(zip(schedule.tiers, schedule.bounds(household),
                                         strict=True), start=1):
        top = used + volume
        inside = ((min(top, high) if high is not None else top)
                  - max(used, low)).quantize(LITRE)
        if inside > 0:
            amount = (inside * tier.price_cents).quantize(CENT, rounding=ROUND_HALF_UP)
            lines.append(Line(a.year, n, inside, tier.price_cents, int(amount), a, b))
        if high is not None:
            low = high
    return lines


def yuan(cents: int | Decimal) -> str:
    """Fen as 元 for people: 12660 → 126.60 (PostgreSQL sums integers as Decimal)."""
    cents = int(cents)
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


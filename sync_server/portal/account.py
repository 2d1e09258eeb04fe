"""What a signed-in customer reads about their own account: gas use by month, where this
year's use stands against the price tiers, bills with their tier lines, payments.

Every query names the customer's id, which comes from the session and never from the URL;
each one runs on an index (meters and bills by customer, readings by meter and time), so a
page costs the same with a thousand customers or a million.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from fieldapp.billing.tariff import Schedule, yuan
from fieldapp.domain.usage import monthly_usage
from sync_server.services import billing
from sync_server.storage.db import Connection

MONTHS = 24
BILLS_SHOWN = 24


@dataclass(frozen=True)
class TierPosition:
    year: int
    used: Decimal  # m³ billed so far this calendar year
    tier: int  # 1-based, the tier the next m³ is priced in
    price_cents: int
    to_next: Decimal | None  # m³ left before the next tier; None in the last tier
    next_price_cents: int | None
    bounds: list[Decimal | None]  # each tier's upper boundary for this household

    @property
    def percent(self) -> float:
        """Where the year's use stands on a scale a quarter past the last boundary."""
        scale = [b for b in self.bounds if b is not None][-1] * Decimal("1.25")
        return float(min(Decimal(100), self.used / scale * 100))


def usage(conn: Connection, customer_id: str, today: date) -> list[tuple[str, float | None]]:
    """(YYYY-MM, m³ or None) for the last 24 months, from the customer's meters' readings
    (one reading from before the window too, so its first month has a difference)."""
    first = date(today.year - 2, today.month, 1).isoformat()
    meters = [r[0] for r in conn.execute("SELECT id FROM meters WHERE customer_id = ?",
                                         [customer_id])]
    readings: list[dict[str, Any]] = []
    for meter_id in meters:
        before = conn.execute("SELECT meter_id, read_at, value FROM readings WHERE meter_id = ?"
                              " AND read_at < ? AND value IS NOT NULL"
                              " ORDER BY read_at DESC LIMIT 1", [meter_id, first]).fetchone()
        readings += [dict(r) for r in ([before] if before else [])]
        readings += [dict(r) for r in conn.execute(
            "SELECT meter_id, read_at, value FROM readings WHERE meter_id = ? AND read_at >= ?"
            " ORDER BY read_at", [meter_id, first])]
    return monthly_usage(readings, today, MONTHS)


def tier_position(conn: Connection, customer: dict[str, Any], today: date) -> TierPosition | None:
    """This calendar year's billed use against the household's tier boundaries; None when
    no price schedule applies (a business pays one price)."""
    kind = "commercial" if customer.get("kind") == "commercial" else "residential"
    in_force = [s for s in billing.schedules(conn, kind) if s.effective_from <= today]
    if not in_force or len(in_force[-1].tiers) < 2:
        return None
    schedule: Schedule = in_force[-1]
    used = Decimal(0)
    for r in conn.execute("SELECT lines FROM bills WHERE customer_id = ? AND period_end >= ?",
                          [customer["id"], f"{today.year}-01-01"]):
        used += sum((Decimal(line["volume"]) for line in json.loads(r["lines"] or "[]")
                     if int(line["year"]) == today.year), Decimal(0))
    bounds = schedule.bounds(customer.get("household_size"))
    tier = next(i for i, high in enumerate(bounds, start=1) if high is None or used < high)
    high = bounds[tier - 1]
    following = schedule.tiers[tier].price_cents if tier < len(schedule.tiers) else None
    return TierPosition(today.year, used, tier, schedule.tiers[tier - 1].price_cents,
                        None if high is None else high - used, following, bounds)


def bills(conn: Connection, customer_id: str) -> list[dict[str, Any]]:
    """The customer's latest bills, newest first, each with its tier lines readable."""
    out = []
    for r in conn.execute("SELECT * FROM bills WHERE customer_id = ?"
                          " ORDER BY period_end DESC LIMIT ?", [customer_id, BILLS_SHOWN]):
        bill = dict(r)
        bill["amount"] = yuan(bill["amount_cents"])
        bill["lines"] = [{**line, "price": yuan(line["price_cents"]),
                          "amount": yuan(line["amount_cents"])}
                         for line in json.loads(bill["lines"] or "[]")]
        out.append(bill)
    return out


def arrears_cents(conn: Connection, customer_id: str) -> int:
    marks = ", ".join("?" * len(billing.UNPAID))
    return int(conn.execute("SELECT coalesce(sum(amount_cents), 0) FROM bills"
                            f" WHERE customer_id = ? AND status IN ({marks})",
                            [customer_id, *billing.UNPAID]).fetchone()[0])


def payments(conn: Connection, customer_id: str, limit: int = 12) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(
        "SELECT paid_at, amount, period, method FROM payments WHERE customer_id = ?"
        " ORDER BY paid_at DESC LIMIT ?", [customer_id, limit])]

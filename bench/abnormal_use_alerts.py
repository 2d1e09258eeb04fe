"""False alerts of the abnormal-use rule over a year of readings: judged against the six
readings before (the previous design) and against the same days of earlier years (now).

Run by hand: ``PYTHONPATH=. .venv/bin/python bench/abnormal_use_alerts.py [--seed N]
[--condition EXPR]``. The demo's 2,000 households (their kinds and sizes) are read once a
month for three years; what each burns follows the days between readings and the season
(the demo's Nanjing curve) and nothing else, so every alert on them is a false one. A share
of meters is then given a real change (three and a half times the use, from a month of the
last year on) to show both still catch it. The alerts each month of the last year would
raise, both ways, through the rule engine's own facts and the shipped condition (or
``--condition``).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fieldapp.demo.generate import DEFAULT_SEED, SEASON, generate  # noqa: E402
from sync_server.services import rule_events, rules  # noqa: E402
from sync_server.services.rule_book import DEFAULT_RULES  # noqa: E402

OLD = "${daily_use} = 0 or ${ratio} > 3"  # the rule as it shipped before
NEW = next(r["condition"] for r in DEFAULT_RULES if r["id"] == "rule-abnormal-usage")
MONTHS = 36  # three years of monthly readings: the last year judged, two before it
JUMP = 3.5  # a real change: a leak behind the meter, a new boiler, a restaurant moving in


def _season(day: date) -> float:
    """Nanjing's season factor on a day: the demo's monthly curve, read between mid-months."""
    middle = date(day.year, day.month, 15)
    other = (_add_months(middle, 1) if day >= middle else _add_months(middle, -1))
    span = abs((other - middle).days)
    weight = abs((day - middle).days) / span
    return SEASON[middle.month - 1] * (1 - weight) + SEASON[other.month - 1] * weight


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, min(day.day, 28))


def database(seed: int, jumped: float) -> tuple[sqlite3.Connection, dict[str, int]]:
    """The demo's customers, each with a meter read once a month (a day from the 3rd to the
    22nd) for MONTHS months up to last month; what it used between two readings follows the
    days between them and the season, ±15 %. ``jumped`` of the meters use JUMP times as much
    from a month of the last year on (which month, by meter: the index of that reading)."""
    customers = generate(seed).rows["customers"]
    conn = _tables(customers)
    rng = random.Random(seed)
    today = date.today()
    first = _add_months(date(today.year, today.month, 1), -MONTHS)
    jumps = {c["id"]: rng.randrange(MONTHS - 12, MONTHS)
             for c in rng.sample(customers, int(len(customers) * jumped))}
    for c in customers:
        if c["kind"] == "commercial":
            monthly = rng.uniform(150, 900)
        elif "空置房" in c["tags"]:
            monthly = rng.uniform(0.1, 0.6)
        else:
            monthly = (4 + 3.5 * c["household_size"]) * rng.uniform(0.7, 1.3)
        value, last = round(rng.uniform(100, 3000), 1), None
        for k in range(MONTHS):
            month = _add_months(first, k)
            read_on = date(month.year, month.month, rng.randint(3, 22))
            if last is not None:
                days = [last + timedelta(days=d) for d in range((read_on - last).days)]
                used = sum(monthly / 30 * _season(d) for d in days) * rng.uniform(0.85, 1.15)
                if k >= jumps.get(c["id"], MONTHS):
                    used *= JUMP
                value = round(value + used, 1)
            last = read_on
            read_at = datetime(read_on.year, read_on.month, read_on.day, rng.randint(8, 17))
            conn.execute("INSERT INTO readings VALUES (?, ?, ?, ?, ?)",
                         (f"{c['id']}-{k}", c["id"], f"m-{c['id']}",
                          read_at.isoformat(timespec="seconds"), value))
    return conn, {f"m-{c}": k for c, k in jumps.items()}


def demo_database(seed: int, jumped: float) -> tuple[sqlite3.Connection, dict[str, int]]:
    """The demo's own 24 months of readings as generated (each month's use drawn whatever
    the days between readings, so daily use swings with the reading day), with the same
    share of real changes. The first month of the last year has no year before it."""
    data = generate(seed)
    conn = _tables(data.rows["customers"])
    by_meter: dict[str, list[dict]] = {}
    for r in data.rows["readings"]:
        by_meter.setdefault(r["meter_id"], []).append(r)
    rng = random.Random(seed)
    jumps = {m: rng.randrange(12, 24) for m in rng.sample(sorted(by_meter),
                                                          int(len(by_meter) * jumped))}
    for meter, readings in by_meter.items():
        readings.sort(key=lambda r: r["read_at"])
        extra, value = 0.0, readings[0]["value"]
        for k, r in enumerate(readings):
            used, value = r["value"] - value, r["value"]
            if k >= jumps.get(meter, 24):
                extra += used * (JUMP - 1)
            conn.execute("INSERT INTO readings VALUES (?, ?, ?, ?, ?)",
                         (r["id"], r["customer_id"], meter, r["read_at"],
                          round(r["value"] + extra, 1)))
    return conn, jumps


def _tables(customers: list[dict]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    conn.execute("CREATE TABLE customers (id TEXT, name TEXT, phone TEXT, district TEXT,"
                 " household_size INTEGER)")
    conn.execute("CREATE TABLE readings (id TEXT, customer_id TEXT, meter_id TEXT,"
                 " read_at TEXT, value REAL)")
    conn.execute("CREATE INDEX readings_meter ON readings(meter_id, read_at)")
    conn.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?)",
                     [(c["id"], c["name"], c["phone"], c["district"], c["household_size"])
                      for c in customers])
    return conn


def judge(conn: sqlite3.Connection, jumps: dict[str, int], condition: str) -> None:
    from fieldapp.forms.expr import parse

    old, new = parse(OLD), parse(condition)
    false = {"old": Counter(), "new": Counter()}
    caught = {"old": 0, "new": 0}
    for meter_id, in conn.execute("SELECT DISTINCT meter_id FROM readings").fetchall():
        ids = [r[0] for r in conn.execute("SELECT id FROM readings WHERE meter_id = ?"
                                          " ORDER BY read_at", [meter_id])]
        for k, reading_id in enumerate(ids[-12:], start=len(ids) - 12):  # the last year
            [event] = rule_events.reading_event(conn, reading_id, 0)
            month = conn.execute("SELECT substr(read_at, 1, 7) FROM readings WHERE id = ?",
                                 [reading_id]).fetchone()[0]
            env = rules._Facts(event.facts, datetime.now(UTC))
            for name, condition in (("old", old), ("new", new)):
                if condition.evaluate(env) is True:
                    if meter_id in jumps and k == jumps[meter_id]:
                        caught[name] += 1  # the month the change began
                    elif meter_id not in jumps or k < jumps[meter_id]:
                        false[name][month] += 1
    months = sorted(set(false["old"]) | set(false["new"]))
    print("false alerts by month (previous design → same days of earlier years):")
    for month in months:
        print(f"  {month}: {false['old'][month]:4} → {false['new'][month]:4}")
    total_old, total_new = sum(false["old"].values()), sum(false["new"].values())
    print(f"  in the year: {total_old} → {total_new}"
          f" ({total_old / total_new if total_new else float('inf'):.1f}x fewer)")
    print(f"real changes caught the month they began: {caught['old']} → {caught['new']}"
          f" of {len(jumps)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--condition", default=NEW, help="the condition judged against the old")
    parser.add_argument("--demo-readings", action="store_true",
                        help="the demo's own readings as generated, not use that follows days")
    parser.add_argument("--jumped", type=float, default=0.02, help="share of meters changed")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else DEFAULT_SEED
    conn, jumps = (demo_database if args.demo_readings else database)(seed, args.jumped)
    print(f"old: {OLD}\nnew: {args.condition}")
    judge(conn, jumps, args.condition)


if __name__ == "__main__":
    main()

"""Deterministic demo data: customers, meters, billing history, jobs and knowledge base.

``generate(seed, today)`` returns the same rows for the same arguments, so screenshots, tests
and the tablet walkthrough can refer to stable records. Every random choice goes through one
``random.Random(seed)`` in a fixed order; reordering the steps below changes every id.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from fieldapp.demo import kb, names
from fieldapp.demo.jobs import history_rows, iso, make_jobs
from fieldapp.records import TABLES

DEFAULT_SEED = 20261124
CUSTOMER_COUNT = 2000
READING_MONTHS = 24
DEMO_TABLES = ("customers", "meters", "readings", "contracts", "payments", "jobs",
               "job_status_history", "kb_articles")

# Monthly multiplier on a customer's base use, January first: heating and hot water peak in winter.
SEASON = (1.75, 1.65, 1.35, 1.05, 0.85, 0.70, 0.60, 0.60, 0.70, 0.90, 1.20, 1.55)
# Fictional tiered residential prices (yuan/m³) and yearly tier limits for up to 4 people.
TIER_PRICES = (2.90, 3.48, 4.35)
TIER_LIMITS = (350.0, 500.0)
TIER_EXTRA_PER_PERSON = 100.0  # larger households get bigger tiers
COMMERCIAL_PRICE = 3.65
DISTRICT_WEIGHTS = (16, 18, 16, 20, 15, 15)


@dataclass
class DemoData:
    rows: dict[str, list[dict[str, Any]]]
    users: list[dict[str, Any]]
    today: dt.date
    seed: int

    def technician_jobs_today(self, username: str) -> list[dict[str, Any]]:
        """The technician's jobs due today in route order."""
        day = self.today.isoformat()
        jobs = [j for j in self.rows["jobs"]
                if j["assignee"] == username and j["due_at"][:10] == day]
        return sorted(jobs, key=lambda j: (j["route_order"] or 0, j["due_at"]))


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    idx = year * 12 + (month - 1) + delta
    return idx // 12, idx % 12 + 1


class _Gen:
    def __init__(self, seed: int, today: dt.date) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.now_ref = dt.datetime.combine(today, dt.time(0, 0))  # payments must be before this

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    # -- customers ------------------------------------------------------------------------

    def person_name(self) -> str:
        rng = self.rng
        # Front-weighted pick: common surnames dominate, as they do in the real population.
        surname = names.SURNAMES[min(int(rng.expovariate(1 / 18)), len(names.SURNAMES) - 1)]
        pool = names.GIVEN_MALE if rng.random() < 0.5 else names.GIVEN_FEMALE
        given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.7 else "")
        return surname + given

    def phone(self) -> str:
        return self.rng.choice(names.MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def compounds(self) -> dict[str, list[dict[str, Any]]]:
        """A dozen residential compounds per district, so neighbours share streets and GPS."""
        rng = self.rng
        out: dict[str, list[dict[str, Any]]] = {}
        used: set[str] = set()
        for d in names.DISTRICTS:
            lst: list[dict[str, Any]] = []
            while len(lst) < 12:
                cname = rng.choice(names.COMPOUND_PREFIXES) + rng.choice(names.COMPOUND_SUFFIXES)
                if cname in used:
                    continue
                used.add(cname)
                high_rise = rng.random() < 0.5
                lst.append({
                    "name": cname, "street": rng.choice(d.streets), "no": rng.randint(1, 399),
                    "lat": d.lat + rng.uniform(-0.018, 0.018),
                    "lon": d.lon + rng.uniform(-0.022, 0.022),
                    "buildings": rng.randint(4, 30), "units": rng.randint(1, 4),
                    "floors": rng.randint(18, 33) if high_rise else 6,
                })
            out[d.name] = lst
        return out

    def customers(self) -> list[dict[str, Any]]:
        rng = self.rng
        compounds = self.compounds()
        districts = {d.name: d for d in names.DISTRICTS}
        accounts = rng.sample(range(10**7, 10**8), CUSTOMER_COUNT)
        addresses: set[str] = set()
        rows = []
        for i in range(CUSTOMER_COUNT):
            dname = rng.choices(names.DISTRICT_NAMES, DISTRICT_WEIGHTS)[0]
            commercial = rng.random() < 0.10
            if commercial:
                d = districts[dname]
                street = rng.choice(d.streets)
                while True:
                    address = f"{dname} {street} {rng.randint(1, 499)}号 {rng.randint(1, 2)}层"
                    if address not in addresses:
                        break
                lat, lon = d.lat + rng.uniform(-0.02, 0.02), d.lon + rng.uniform(-0.025, 0.025)
                name = (rng.choice(names.SURNAMES[:40]) + "记" if rng.random() < 0.4
                        else rng.choice(names.BUSINESS_STEMS)) + rng.choice(names.BUSINESS_KINDS)
                tags = [t for t, p in names.COMMERCIAL_TAGS if rng.random() < p]
                size = None
            else:
                c = rng.choice(compounds[dname])
                while True:
                    floor = rng.randint(1, c["floors"])
                    address = (f"{dname} {c['street']} {c['no']}号 {c['name']} "
                               f"{rng.randint(1, c['buildings'])}栋 {rng.randint(1, c['units'])}单元 "
                               f"{floor}{rng.randint(1, 4):02d}室")
                    if address not in addresses:
                        break
                lat = c["lat"] + rng.uniform(-0.0015, 0.0015)
                lon = c["lon"] + rng.uniform(-0.0015, 0.0015)
                name = self.person_name()
                tags = [t for t, p in names.RESIDENTIAL_TAGS if rng.random() < p]
                size = 1 if "独居老人" in tags else rng.choices(range(1, 7), (14, 30, 30, 14, 8, 4))[0]
            addresses.add(address)
            rows.append({
                "id": self.new_id(), "account_no": f"3201{accounts[i]:08d}", "name": name,
                "phone": self.phone(), "address": address, "district": dname,
                "lat": round(lat, 6), "lon": round(lon, 6),
                "kind": "commercial" if commercial else "residential",
                "tags": json.dumps(tags, ensure_ascii=False), "household_size": size,
            })
        return rows

    # -- meters, readings, contracts, payments --------------------------------------------

    def billing(self, customers: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        rng = self.rng
        first = _add_months(self.today.year, self.today.month, -READING_MONTHS)
        months = [_add_months(*first, k) for k in range(READING_MONTHS)]
        latest_install = dt.date(*first, 1) - dt.timedelta(days=60)
        earliest_install = dt.date(2009, 1, 1).toordinal()
        barcodes = rng.sample(range(10**9, 10**10), int(CUSTOMER_COUNT * 1.1))
        out: dict[str, list[dict[str, Any]]] = {
            t: [] for t in ("meters", "readings", "contracts", "payments")}
        arrears_months = {c["id"]: rng.randint(2, 4) for c in customers if rng.random() < 0.04}
        for n, cust in enumerate(customers):
            commercial = cust["kind"] == "commercial"
            tags = json.loads(cust["tags"])
            meter_count = 2 if commercial and rng.random() < 0.15 else 1
            # Monthly consumption at a season factor of 1.0, in m³.
            if commercial:
                base = rng.uniform(150, 900) / meter_count
            elif "空置房" in tags:
                base = rng.uniform(0.1, 0.6)
            else:
                base = (4 + 3.5 * cust["household_size"]) * rng.uniform(0.7, 1.3)
            usage_by_month = [0.0] * READING_MONTHS
            installed_first = None
            for _ in range(meter_count):
                installed = dt.date.fromordinal(
                    rng.randint(earliest_install, latest_install.toordinal()))
                installed_first = min(installed_first or installed, installed)
                meter = self.meter(cust, installed, barcodes.pop())
                value = round(rng.uniform(0.3, 1.0) * 12 * base * (first[0] - installed.year + 1), 1)
                for k, (y, m) in enumerate(months):
                    day = rng.randint(3, 22)
                    read_at = dt.datetime(y, m, day, rng.randint(8, 17), rng.randrange(0, 60, 5))
                    used = max(0.1, round(base * SEASON[m - 1] * rng.uniform(0.85, 1.15), 1))
                    value = round(value + used, 1)
                    usage_by_month[k] += used
                    out["readings"].append({
                        "id": self.new_id(), "customer_id": cust["id"], "meter_id": meter["id"],
                        "read_at": iso(read_at), "value": value, "source": "billing",
                    })
                meter["last_reading"] = value
                meter["last_read_at"] = out["readings"][-1]["read_at"]
                out["meters"].append(meter)
            assert installed_first is not None
            signed = installed_first - dt.timedelta(days=rng.randint(0, 20))
            out["contracts"].append({
                "id": self.new_id(), "customer_id": cust["id"],
                "number": f"HT{signed.year}{n + 1:06d}",
                "tariff": "工商业" if commercial else "居民阶梯",
                "signed_on": signed.isoformat(), "status": "active",
            })
            out["payments"] += self.payments(cust, months, usage_by_month, base,
                                             arrears_months.get(cust["id"], 0))
        return out

    def meter(self, cust: dict[str, Any], installed: dt.date, barcode: int) -> dict[str, Any]:
        rng = self.rng
        commercial = cust["kind"] == "commercial"
        return {
            "id": self.new_id(), "customer_id": cust["id"],
            "serial": f"{installed.year % 100:02d}{rng.choice('ABCJKN')}{rng.randrange(10**7):07d}",
            "barcode": f"GM{barcode:010d}",
            "model": rng.choice(names.COMMERCIAL_MODELS if commercial
                                else names.RESIDENTIAL_MODELS),
            "installed_on": installed.isoformat(),
            "location": rng.choice(names.COMMERCIAL_LOCATIONS if commercial
                                   else names.RESIDENTIAL_LOCATIONS),
            "last_reading": None, "last_read_at": None,
        }

    def payments(self, cust: dict[str, Any], months: list[tuple[int, int]], usage: list[float],
                 base: float, arrears: int) -> list[dict[str, Any]]:
        rng = self.rng
        methods = [method for method, _ in names.PAYMENT_METHODS]
        weights = [weight for _, weight in names.PAYMENT_METHODS]
        preferred = rng.choices(methods, weights)[0]
        size = cust["household_size"] or 0
        extra = max(0, size - 4) * TIER_EXTRA_PER_PERSON
        limits = (TIER_LIMITS[0] + extra, TIER_LIMITS[1] + extra)
        # Tiers count from January, so estimate the months of the first year before the window.
        year_used = sum(base * SEASON[m] for m in range(months[0][1] - 1))
        rows = []
        for k, (y, m) in enumerate(months):
            if m == 1:
                year_used = 0.0
            used = usage[k]
            if cust["kind"] == "commercial":
                amount = used * COMMERCIAL_PRICE
            else:
                amount = _tiered(year_used, used, limits)
            year_used += used
            if k >= len(months) - arrears or rng.random() < 0.015:
                continue  # in arrears, or an occasional missed month
            # Bills go out after the reading (day 3-22), so payment follows from day 24 on.
            paid = dt.datetime(y, m, 1) + dt.timedelta(
                days=rng.randint(23, 45), hours=rng.randint(7, 22), minutes=rng.randrange(60))
            if paid >= self.now_ref:
                continue  # the bill is not due yet
            rows.append({
                "id": self.new_id(), "customer_id": cust["id"], "paid_at": iso(paid),
                "amount": round(amount, 2), "period": f"{y}-{m:02d}",
                "method": preferred if rng.random() < 0.85 else rng.choices(methods, weights)[0],
            })
        return rows

    def kb_articles(self) -> list[dict[str, Any]]:
        return [
            {"id": self.new_id(), "title": title, "category": cat, "body": body,
             "tags": json.dumps(tags, ensure_ascii=False)}
            for title, cat, tags, body in kb.article_rows()
        ]


def _tiered(year_used: float, used: float, limits: tuple[float, float]) -> float:
    """Cost of ``used`` m³ when ``year_used`` m³ were already billed this calendar year."""
    cost, lo = 0.0, year_used
    hi = year_used + used
    bounds = (0.0, limits[0], limits[1], float("inf"))
    for tier, price in enumerate(TIER_PRICES):
        overlap = min(hi, bounds[tier + 1]) - max(lo, bounds[tier])
        if overlap > 0:
            cost += overlap * price
    return cost


def _check_columns(rows: dict[str, list[dict[str, Any]]]) -> None:
    for table, lst in rows.items():
        expected = {"id", *TABLES[table].columns}
        for row in lst:
            if row.keys() != expected:
                raise RuntimeError(f"{table} row keys {sorted(row)} != {sorted(expected)}")


def generate(seed: int = DEFAULT_SEED, today: dt.date | None = None) -> DemoData:
    """Build the whole demo data set; identical for identical ``seed`` and ``today``."""
    if today is None:
        today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    gen = _Gen(seed, today)
    users = names.users()
    rows: dict[str, list[dict[str, Any]]] = {"customers": gen.customers()}
    rows.update(gen.billing(rows["customers"]))
    rows["jobs"] = make_jobs(gen.rng, gen.new_id, today, rows["customers"], users)
    rows["kb_articles"] = gen.kb_articles()
    # Its own random stream: adding the history left every other table as it was.
    morning = dt.datetime.combine(today, dt.time(8, 0), tzinfo=ZoneInfo("Asia/Shanghai"))
    rows["job_status_history"] = history_rows(random.Random(seed + 1), gen.new_id,
                                              rows["jobs"], morning)
    rows = {t: rows[t] for t in DEMO_TABLES}
    _check_columns(rows)
    return DemoData(rows=rows, users=users, today=today, seed=seed)

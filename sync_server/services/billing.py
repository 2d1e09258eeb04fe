"""Bills and dunning on the server: priced from meter readings, reminded, chased, paid.

    run(conn, who, clock, today)        # a bill for every reading not billed yet
    remind(conn, clock, now)            # 5 and 1 days before due; overdue → a 催缴 job
    pay(conn, who, clock, bill_id, method, today)   # at the counter
    settle(conn, who, clock, bill, method)          # by any channel: paid, no more chasing

A bill covers one meter between two readings (the billing system's or one taken on a
tablet). Its tier position is the customer's volume already billed in each calendar year,
so bills must be made in reading order, which ``run`` does; its id is derived from the
reading, so running twice bills nothing twice. Bills are synced records: the office writes
them through the change log and the tablets show the customer's arrears.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from fieldapp.billing.tariff import LITRE, Schedule, Tier, price, yuan
from fieldapp.domain.roles import SYSTEM as ROLE_SYSTEM
from fieldapp.errors import InvalidInput
from fieldapp.ids import new_id
from fieldapp.local_time import LOCAL_ZONE, local_day, now_iso
from sync_server.clock import ServerClock
from sync_server.errors import ApiError
from sync_server.services import dispatch
from sync_server.services.auth import Principal
from sync_server.services.records import utility_name
from sync_server.storage import server_state
from sync_server.storage.db import Connection
from sync_server.storage.server_state import BILLING_FROM

SYSTEM = Principal("system", "账务", ROLE_SYSTEM, None, "server")
PAY_WITHIN = timedelta(days=15)
REMIND_DAYS = (5, 1)
UNPAID = ("unpaid", "overdue")
OPEN_JOB = ("pending", *dispatch.OPEN)  # a 催缴 visit not yet done
# Shipped until the utility enters its own: the residential tiers of a large Chinese city.
DEFAULT_SCHEDULES = [
    {"id": "residential-2026", "customer_kind": "residential", "effective_from": "2026-01-01",
     "tiers": [[300, 253], [600, 304], [None, 379]], "base_household": 4,
     "extra_per_person": 60},
    # Businesses pay one price whatever they use.
    {"id": "commercial-2026", "customer_kind": "commercial", "effective_from": "2026-01-01",
     "tiers": [[None, 365]], "base_household": 0, "extra_per_person": 0},
]
METHOD_ZH = {"counter": "营业厅", "wechat": "微信", "alipay": "支付宝", "bank": "银行代扣"}


@dataclass(frozen=True)
class RunResult:
    billed: int
    skipped: list[str]  # why a reading could not be billed, in words


def install_defaults(conn: Connection, today: date | None = None) -> None:
    """The shipped price schedules, and the day billing starts: the first start of the
    server (readings before it were billed by the system FieldApp replaces)."""
    for s in DEFAULT_SCHEDULES:
        conn.execute("INSERT INTO price_schedules(id, customer_kind, effective_from, tiers,"
                     " base_household, extra_per_person) VALUES (?, ?, ?, ?, ?, ?)"
                     " ON CONFLICT (id) DO NOTHING",
                     [s["id"], s["customer_kind"], s["effective_from"], json.dumps(s["tiers"]),
                      s["base_household"], s["extra_per_person"]])
    start = (today or datetime.now(LOCAL_ZONE).date()).isoformat()
    server_state.write_once(conn, BILLING_FROM, start)


def set_billing_from(conn: Connection, day: date) -> None:
    server_state.write(conn, BILLING_FROM, day.isoformat())


def billing_from(conn: Connection) -> date | None:
    value = server_state.read(conn, BILLING_FROM)
    return date.fromisoformat(value) if value else None


def schedules(conn: Connection, customer_kind: str = "residential") -> list[Schedule]:
    return [Schedule(date.fromisoformat(r["effective_from"]),
                     tuple(Tier(upto, cents) for upto, cents in json.loads(r["tiers"])),
                     r["base_household"], r["extra_per_person"])
            for r in conn.execute("SELECT * FROM price_schedules WHERE customer_kind = ?"
                                  " ORDER BY effective_from", [customer_kind])]


def run(conn: Connection, who: Principal, clock: ServerClock, today: date,
        district: str | None = None) -> RunResult:
    """Bill every reading after its meter's last billed one, oldest first (and none taken
    before billing started here); only ``district``'s customers when it is given (a
    district's dispatcher bills their district, never another's)."""
    priced = {kind: schedules(conn, kind) for kind in ("residential", "commercial")}
    start = billing_from(conn)
    billed_to = {r["meter_id"]: r["last"] for r in conn.execute(
        "SELECT meter_id, max(period_end) AS last FROM bills GROUP BY meter_id")}
    used = _used_by_year(conn)
    readings: dict[str, list[Any]] = defaultdict(list)
    for r in conn.execute("SELECT r.*, c.household_size, c.kind AS customer_kind FROM readings r"
                          " JOIN customers c ON c.id = r.customer_id"
                          " WHERE r.value IS NOT NULL"
                          + (" AND c.district = ?" if district else "")
                          + " ORDER BY r.meter_id, r.read_at", [district] if district else []):
        readings[r["meter_id"]].append(r)
    made, skipped = 0, []
    for meter_id, rows in readings.items():
        last = date.fromisoformat(billed_to[meter_id]) if billed_to.get(meter_id) else None
        for before, after in zip(rows, rows[1:], strict=False):
            if last and local_day(after["read_at"]) <= last:
                continue  # billed already (a late reading of a billed period stays unbilled)
            if start and local_day(after["read_at"]) < start:
                # The old system's period: not billed here, but it counts for the tiers.
                for year, share in _by_year(before, after).items():
                    used[(after["customer_id"], year)] += share
                continue
            if conn.execute("SELECT 1 FROM bills WHERE id = ?",
                            ["bill-" + after["id"]]).fetchone():
                continue
            kind = "commercial" if after["customer_kind"] == "commercial" else "residential"
            problem = _bill(conn, who, clock, today, priced[kind], used, before, after)
            if problem:
                skipped.append(problem)
            else:
                made += 1
    return RunResult(made, skipped)


def _bill(conn: Connection, who: Principal, clock: ServerClock, today: date,
          priced: list[Schedule], used: dict[tuple[str, int], Decimal], before: Any,
          after: Any) -> str | None:
    start, end = local_day(before["read_at"]), local_day(after["read_at"])
    volume = (Decimal(str(after["value"])) - Decimal(str(before["value"]))).quantize(LITRE)
    if volume < 0:
        return (f"表 {after['meter_id']} 在 {end} 的读数小于上次（{before['value']} →"
                f" {after['value']}），未出账：请核实是否换表")
    if end <= start:
        return None  # two readings the same day: the next one bills both
    customer = after["customer_id"]
    try:
        bill = price(priced, household=after["household_size"],
                     used_before=used[(customer, start.year)], start=start, end=end,
                     volume=volume, used_before_by_year={
                         y: used[(customer, y)] for y in range(start.year + 1, end.year + 1)})
    except InvalidInput as exc:
        return f"表 {after['meter_id']} {start}–{end} 未出账：{exc}"
    for line in bill.lines:
        used[(customer, line.year)] += line.volume
    dispatch.write(conn, who, clock, "bills", "bill-" + after["id"], "insert", {
        "customer_id": customer, "meter_id": after["meter_id"], "reading_id": after["id"],
        "period_start": start.isoformat(), "period_end": end.isoformat(),
        "previous_value": before["value"], "current_value": after["value"],
        "volume": str(volume), "amount_cents": bill.total_cents,
        "lines": json.dumps([{"year": ln.year, "tier": ln.tier, "volume": str(ln.volume),
                              "price_cents": ln.price_cents, "amount_cents": ln.amount_cents,
                              "start": ln.start.isoformat(), "end": ln.end.isoformat()}
                             for ln in bill.lines]),
        "issued_at": now_iso(), "due_on": (today + PAY_WITHIN).isoformat(),
        "status": "unpaid", "paid_at": None})
    return None


def _by_year(before: Any, after: Any) -> dict[int, Decimal]:
    """The volume between two readings shared out over the calendar years by days."""
    start, end = local_day(before["read_at"]), local_day(after["read_at"])
    volume = Decimal(str(after["value"])) - Decimal(str(before["value"]))
    if end <= start or volume <= 0:
        return {}
    days = Decimal((end - start).days)
    out: dict[int, Decimal] = {}
    cursor = start
    while cursor < end:
        stop = min(end, date(cursor.year + 1, 1, 1))
        out[cursor.year] = (volume * Decimal((stop - cursor).days) / days).quantize(LITRE)
        cursor = stop
    return out


def _used_by_year(conn: Connection) -> dict[tuple[str, int], Decimal]:
    """Each customer's volume already billed per calendar year, from the bills' lines."""
    used: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for r in conn.execute("SELECT customer_id, lines FROM bills"):
        for line in json.loads(r["lines"] or "[]"):
            used[(r["customer_id"], int(line["year"]))] += Decimal(line["volume"])
    return used


def remind(conn: Connection, clock: ServerClock, now: datetime) -> int:
    """Reminders 5 and 1 days before a bill is due, and for a bill past due: marked
    overdue and a 催缴 job for the customer's district. Each once per bill."""
    today = now.astimezone(LOCAL_ZONE).date()
    sign = utility_name(conn)
    done = 0
    for bill in conn.execute("SELECT b.*, c.name, c.phone, c.district FROM bills b"
                             " JOIN customers c ON c.id = b.customer_id"
                             f" WHERE b.status IN ({', '.join('?' * len(UNPAID))})",
                             list(UNPAID)).fetchall():
        due = date.fromisoformat(bill["due_on"])
        left = (due - today).days
        for days in REMIND_DAYS:
            if 0 <= left <= days and _once(conn, bill["id"], f"remind-{days}", now):
                done += _text(conn, bill, now, f"【{sign}】{bill['name']}，您好：您的燃气费"
                                               f" {yuan(bill['amount_cents'])} 元将于"
                                               f" {due:%m月%d日} 到期，请按时缴纳。")
                break  # one reminder a day is enough
        if left < 0 and _once(conn, bill["id"], "dunning", now):
            _dun(conn, clock, bill, now)
            done += 1
    return done


def _once(conn: Connection, bill_id: str, kind: str, now: datetime) -> bool:
    row = conn.execute("INSERT INTO bill_notices(bill_id, kind, at) VALUES (?, ?, ?)"
                       " ON CONFLICT (bill_id, kind) DO NOTHING RETURNING id",
                       [bill_id, kind, now.isoformat(timespec="seconds")]).fetchone()
    return row is not None


def _text(conn: Connection, bill: Any, now: datetime, text: str) -> int:
    if not bill["phone"]:
        return 0
    conn.execute("INSERT INTO notifications(channel, recipient, text, customer_id, created_at)"
                 " VALUES ('sms', ?, ?, ?, ?)",
                 [bill["phone"], text, bill["customer_id"], now.isoformat(timespec="seconds")])
    return 1


def _dun(conn: Connection, clock: ServerClock, bill: Any, now: datetime) -> None:
    dispatch.write(conn, SYSTEM, clock, "bills", bill["id"], "update", {"status": "overdue"},
                   old={"status": bill["status"]}, base_version=bill["version"])
    arrears = conn.execute("SELECT coalesce(sum(amount_cents), 0) FROM bills"
                           f" WHERE customer_id = ? AND status IN ({', '.join('?' * 2)})",
                           [bill["customer_id"], *UNPAID]).fetchone()[0]
    open_dunning = conn.execute("SELECT 1 FROM jobs WHERE customer_id = ? AND kind = 'dunning'"
                                f" AND status IN ({', '.join('?' * len(OPEN_JOB))})",
                                [bill["customer_id"], *OPEN_JOB]).fetchone()
    _text(conn, bill, now, f"【{utility_name(conn)}】{bill['name']}，您好：您的燃气费"
                           f" {yuan(bill['amount_cents'])} 元已逾期，请尽快缴纳，以免影响用气。")
    if open_dunning:
        return  # one visit chases every overdue bill of the customer
    dispatch.create_job(conn, SYSTEM, clock, {
        "kind": "dunning", "customer": bill["customer_id"], "priority": 3,
        "due_at": (now + timedelta(days=3)).astimezone(LOCAL_ZONE).strftime("%Y-%m-%d 10:00"),
        "summary": f"催缴：欠费合计 {yuan(arrears)} 元"})


def pay(conn: Connection, who: Principal, clock: ServerClock, bill_id: str, method: str,
        amount: str, today: date) -> None:
    """A payment at the counter (or reported by a channel) settles one bill in full."""
    bill = conn.execute("SELECT * FROM bills WHERE id = ?", [bill_id]).fetchone()
    if bill is None:
        raise ApiError(404, "unknown_bill", f"没有账单 {bill_id}")
    if bill["status"] not in UNPAID:
        raise ApiError(409, "already_paid", f"账单已于 {bill['paid_at']} 缴清")
    if method not in METHOD_ZH:
        raise ApiError(422, "bad_method", f"未知的缴费方式：{method}")
    example = yuan(bill["amount_cents"])
    try:
        given = Decimal(amount.strip())
        exponent = given.as_tuple().exponent  # an int when finite, else a letter
        if not given.is_finite() or not isinstance(exponent, int) or exponent < -2:
            raise InvalidOperation
    except InvalidOperation as exc:
        raise ApiError(422, "bad_amount", f"金额应为元，最多两位小数，如 {example}") from exc
    cents = int(given * 100)
    if cents != bill["amount_cents"]:
        raise ApiError(422, "wrong_amount", f"金额应为 {yuan(bill['amount_cents'])} 元"
                                            f"（账单金额），收到 {yuan(cents)} 元")
    settle(conn, who, clock, bill, METHOD_ZH[method])


def settle(conn: Connection, who: Principal, clock: ServerClock, bill: Any, method: str) -> None:
    """Mark an unpaid bill paid in full, record the payment, and once the customer owes
    nothing more, call off the open 催缴 visit: a paid bill is not chased."""
    paid_at = now_iso()
    dispatch.write(conn, who, clock, "bills", bill["id"], "update",
                   {"status": "paid", "paid_at": paid_at},
                   old={"status": bill["status"], "paid_at": None},
                   base_version=bill["version"])
    # payments.amount is the billing system's yuan column; the bill keeps the exact fen.
    dispatch.write(conn, who, clock, "payments", new_id(), "insert", {
        "customer_id": bill["customer_id"], "paid_at": paid_at,
        "amount": bill["amount_cents"] / 100,
        "period": f"{bill['period_start']}~{bill['period_end']}", "method": method})
    owing = conn.execute("SELECT 1 FROM bills WHERE customer_id = ?"
                         f" AND status IN ({', '.join('?' * len(UNPAID))})",
                         [bill["customer_id"], *UNPAID]).fetchone()
    if owing:
        return
    marks = ", ".join("?" * len(OPEN_JOB))
    for job in conn.execute("SELECT id, status, version FROM jobs WHERE customer_id = ?"
                            f" AND kind = 'dunning' AND status IN ({marks})",
                            [bill["customer_id"], *OPEN_JOB]).fetchall():
        dispatch.write(conn, who, clock, "jobs", job["id"], "update", {"status": "cancelled"},
                       old={"status": job["status"]}, base_version=job["version"])
        dispatch.write(conn, who, clock, "job_status_history", new_id(), "insert", {
            "job_id": job["id"], "customer_id": bill["customer_id"],
            "from_status": job["status"], "to_status": "cancelled", "at": paid_at,
            "by_user": who.username, "device_id": who.device_id})


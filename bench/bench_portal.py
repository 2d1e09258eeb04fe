"""The customer portal at a city's scale: the demo data grown to 1,000,000 residential
customers on PostgreSQL, and the pages a customer opens most (用气 /portal/usage, 账单
/portal/bills, 业务进度 /portal/requests/{id}). Target: p95 under 200 ms per page.

Run by hand: ``PYTHONPATH=. .venv/bin/python bench/bench_portal.py [--customers N]``; try
``--customers 10000`` first. At the default 1,000,000 the load takes 7–8 minutes on two
cores and ~25 GB of disk (``/tmp``), all removed at the end, as is the PostgreSQL cluster.

The cluster is a throwaway one started as the tests start theirs (``tests/pg.py``); the
schema is the server's own, made by its migrations (``open_database``). The rows are made
inside PostgreSQL (``INSERT … SELECT … FROM generate_series``), derived from hashes of the
customer's number, so every run loads the same data: per customer a meter, 25 monthly
readings, 12 monthly bills, 6 payments; jobs for 3 in 10 customers with their status
history; a portal request with its job for 1 in 20. Rows go in month by month, as a year of
billing would have written them, so a customer's readings and bills lie scattered over the
tables rather than side by side. The indexes are dropped for the load and rebuilt after it
from the definitions the migrations made (checked identical), then VACUUM ANALYZE.

A real server process (``python -m sync_server``) per database serves the pages: 300 GETs
per page, one at a time, each for another signed-in customer (a session row inserted
directly), alternating between the two databases. Its timer is off (FIELDAPP_ALERT_SCAN_S=0):
its first round would send the reminders of every bill just loaded at once, a one-off of
bulk loading, not the steady state measured here.
Baseline in the same run: the same pages on 1,000 customers loaded the same way.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import psycopg
import requests
from benchserver import start_server

from fieldapp.demo import names
from fieldapp.demo.generate import SEASON
from fieldapp.local_time import LOCAL_ZONE
from sync_server.portal.access import SESSION_TTL, token_hash
from sync_server.portal.web import COOKIE
from sync_server.services import auth, billing
from sync_server.storage.db import open_database
from tests.pg import PgCluster

TARGET_P95_MS = 200
WARMUP = 20  # requests per page before the clock starts: templates, pooled connections
MONTHS = 25  # readings per meter
BILLS = 12  # the last 12 readings are billed
PAYMENTS = range(MONTHS - 7, MONTHS - 1)  # a payment for each of the six bills before the latest
PRICE_CENTS = 253  # tier 1 of the shipped residential schedule (billing.DEFAULT_SCHEDULES)
SLOW_MS = 50  # PostgreSQL logs every statement slower than this while the pages are timed
# What the load writes; the indexes of these are dropped for it and rebuilt after.
BULK = ("customers", "meters", "readings", "bills", "payments", "jobs", "job_status_history",
        "portal_requests", "portal_uploads", "payment_orders")


# -- SQL pieces -------------------------------------------------------------------------------
# Every "random" choice is a hash of the customer's number (and the month), so the same rows
# come out on every run and in any order of statements. ``mod`` rather than ``%``: psycopg
# reads ``%`` as a placeholder in statements that take parameters.

def h(salt: int, k: int = 0, i: str = "s.i") -> str:
    """A non-negative 31-bit hash of customer ``i``, month ``k`` and ``salt`` (both < 64)."""
    assert 0 <= salt < 64 and 0 <= k < 64
    return f"(hashint8({i}::bigint * 4096 + {salt * 64 + k}) & 2147483647)"


def iso_local(ts: str) -> str:
    """A local timestamp expression as the records store times: ISO 8601, +08:00."""
    return f"(to_char({ts}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || '+08:00')"


def iso_utc(ts: str) -> str:
    """A local timestamp expression as the portal stores its own times: UTC, +00:00."""
    return f"(to_char({ts} - INTERVAL '8 hours', 'YYYY-MM-DD\"T\"HH24:MI:SS') || '+00:00')"


def cumulative_season(last: tuple[int, int]) -> list[float]:
    """Season factors summed over the 25 months ending with ``last`` (year, month)."""
    index = last[0] * 12 + last[1] - 1
    months = [(index - (MONTHS - 1) + k) % 12 for k in range(MONTHS)]
    return [sum(SEASON[m] for m in months[:k + 1]) for k in range(MONTHS)]


@dataclass(frozen=True)
class Calendar:
    """Today, as every statement sees it; readings are taken on a customer's day 3–22."""

    today: date
    now: datetime  # local wall time, naive

    @classmethod
    def current(cls) -> Calendar:
        now = datetime.now(LOCAL_ZONE).replace(tzinfo=None, microsecond=0)
        return cls(now.date(), now)

    def day(self, k: int) -> str:
        """The day of month ``k``'s reading (k = 24 the latest)."""
        return f"(s.last_read - INTERVAL '{MONTHS - 1 - k} months')"

    def read_at(self, k: int) -> str:
        return iso_local(f"({self.day(k)} + make_interval(hours => 8 + mod({h(21, k)}, 10),"
                         f" mins => 5 * mod({h(22, k)}, 12)))")

    def value(self, k: int) -> str:
        """The meter's reading in month ``k``: a start value plus the customer's monthly base
        times the season, and up to 3 m³ of noise that cancels out month to month; that
        keeps every month's use between 5 and 60 m³."""
        this = cumulative_season((self.today.year, self.today.month))
        before = cumulative_season((self.today.year - (self.today.month == 1),
                                    (self.today.month - 2) % 12 + 1))
        return (f"round((s.v0 + s.b * CASE WHEN s.prev THEN {before[k]:.4f} ELSE {this[k]:.4f}"
                f" END + mod({h(23, k)}, 30) / 10.0)::numeric, 1)")

    def paid_at(self, k: int) -> str:
        """Two to 13 days after the reading the bill is for (so never after today)."""
        return (f"(to_char(x.d1 + 2 + mod({h(30, k)}, 12), 'YYYY-MM-DD') || 'T' ||"
                f" lpad((8 + mod({h(31, k)}, 13))::text, 2, '0') || ':' ||"
                f" lpad(mod({h(32, k)}, 60)::text, 2, '0') || ':00+08:00')")

    def billed(self, k: int) -> str:
        """The reading id, the period and both meter values of month ``k``'s bill. OFFSET 0
        keeps the subquery whole, so each value is computed once per row."""
        return (f"CROSS JOIN LATERAL (SELECT md5('r' || s.i || '.{k}')::uuid::text AS rid,"
                f" {self.day(k - 1)}::date AS d0, {self.day(k)}::date AS d1,"
                f" {self.value(k - 1)} AS pv, {self.value(k)} AS cv OFFSET 0) x")

    def bill_paid(self, k: int) -> str:
        """Bills are paid, but the latest one while it is not due yet (15 days after it is
        issued): customers who pay late are the dunning's business, not this bench's."""
        if k < MONTHS - 1:
            return "true"
        return f"x.d1 + 16 < DATE '{self.today}'"


def seed_statements(cal: Calendar, customers: int) -> list[tuple[str, dict[str, Any]]]:
    """One helper row per customer: its ids, household, reading day, monthly base and start
    value, and what the customers table shows (name, phone, address)."""
    places = [(d, street) for d in names.DISTRICTS for street in d.streets]
    male, female = list(names.GIVEN_MALE), list(names.GIVEN_FEMALE)
    surnames = list(names.SURNAMES if isinstance(names.SURNAMES, str)
                    else "".join(names.SURNAMES))
    sizes = [n for n, weight in zip(range(1, 7), (14, 30, 30, 14, 8, 4), strict=True)
             for _ in range(weight)]
    month_start = cal.today.replace(day=1)
    create = """
        CREATE UNLOGGED TABLE bench_seed (
          i bigint, cid text, mid text, hsize int, last_read date, prev boolean, b float8,
          v0 float8, district text, name text, phone text, address text, lat float8,
          lon float8)"""
    # A customer whose reading day has not come yet this month was last read last month.
    fill = f"""
        INSERT INTO bench_seed
        SELECT g.i, md5('c' || g.i)::uuid::text, md5('m' || g.i)::uuid::text, g.hsize,
          (DATE '{month_start}' + (g.rday - 1) - CASE WHEN g.rday >= {cal.today.day}
           THEN INTERVAL '1 month' ELSE INTERVAL '0 days' END)::date,
          g.rday >= {cal.today.day},
          13.5 + 3.5 * (g.hsize - 1) + mod({h(2, i="g.i")}, 15) / 10.0,
          200 + mod({h(3, i="g.i")}, 8000),
          (%(district)s::text[])[g.place],
          (%(surnames)s::text[])[1 + least(floor(-18 * ln((mod({h(6, i="g.i")}, 1000000) + 0.5)
                                                          / 1e6))::int, {len(surnames) - 1})]
            || CASE WHEN g.male THEN (%(male)s::text[])[1 + mod({h(7, i="g.i")}, {len(male)})]
                    ELSE (%(female)s::text[])[1 + mod({h(7, i="g.i")}, {len(female)})] END
            || CASE WHEN mod({h(8, i="g.i")}, 10) >= 7 THEN ''
                    WHEN g.male THEN (%(male)s::text[])[1 + mod({h(9, i="g.i")}, {len(male)})]
                    ELSE (%(female)s::text[])[1 + mod({h(9, i="g.i")}, {len(female)})] END,
          (%(prefixes)s::text[])[1 + mod({h(10, i="g.i")}, {len(names.MOBILE_PREFIXES)})]
            || lpad(mod({h(11, i="g.i")}, 100000000)::text, 8, '0'),
          (%(district)s::text[])[g.place] || ' ' || (%(street)s::text[])[g.place] || ' '
            || (1 + mod({h(12, i="g.i")}, 300)) || '号 '
            || (%(cpre)s::text[])[1 + mod({h(13, i="g.i")}, {len(names.COMPOUND_PREFIXES)})]
            || (%(csuf)s::text[])[1 + mod({h(14, i="g.i")}, {len(names.COMPOUND_SUFFIXES)})]
            || ' ' || (1 + mod({h(15, i="g.i")}, 12)) || '栋 '
            || (1 + mod({h(16, i="g.i")}, 4)) || '单元 ' || (1 + mod({h(17, i="g.i")}, 18))
            || '0' || (1 + mod({h(18, i="g.i")}, 4)) || '室',
          round(((%(lat)s::float8[])[g.place] + (mod({h(19, i="g.i")}, 4000) - 2000)
                 / 100000.0)::numeric, 6)::float8,
          round(((%(lon)s::float8[])[g.place] + (mod({h(20, i="g.i")}, 5000) - 2500)
                 / 100000.0)::numeric, 6)::float8
        FROM (SELECT i, (%(sizes)s::int[])[1 + mod({h(1, i="i")}, {len(sizes)})] AS hsize,
                     3 + mod({h(4, i="i")}, 20) AS rday,
                     1 + mod({h(5, i="i")}, {len(places)}) AS place,
                     mod({h(24, i="i")}, 2) = 0 AS male
              FROM generate_series(1, {customers}) i) g"""
    params = {"district": [d.name for d, _ in places], "street": [s for _, s in places],
              "lat": [d.lat for d, _ in places], "lon": [d.lon for d, _ in places],
              "surnames": surnames, "male": male, "female": female,
              "prefixes": list(names.MOBILE_PREFIXES), "sizes": sizes,
              "cpre": list(names.COMPOUND_PREFIXES), "csuf": list(names.COMPOUND_SUFFIXES)}
    return [(create, {}), (fill, params)]


def customer_statements(cal: Calendar) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, statement, parameters): customers and their meters."""
    last = MONTHS - 1
    return [
        ("customers", """
            INSERT INTO customers (id, account_no, name, phone, address, district, lat, lon,
                                   kind, tags, household_size)
            SELECT s.cid, '3201' || lpad(mod(s.i * 7919 + 12345, 100000000)::text, 8, '0'),
                   s.name, s.phone, s.address, s.district, s.lat, s.lon, 'residential', '[]',
                   s.hsize
            FROM bench_seed s""", {}),  # 7919 is prime to 10^8: distinct account numbers
        ("meters", f"""
            INSERT INTO meters (id, customer_id, serial, barcode, model, installed_on,
                                location, last_reading, last_read_at)
            SELECT s.mid, s.cid,
                   lpad((9 + mod({h(40)}, 14))::text, 2, '0') || (ARRAY['A','B','C','J','K','N'])
                     [1 + mod({h(41)}, 6)] || lpad(mod({h(42)}, 10000000)::text, 7, '0'),
                   'GM' || lpad(mod(s.i * 7919 + 1000000007, 10000000000)::text, 10, '0'),
                   (%(models)s::text[])[1 + mod({h(43)}, {len(names.RESIDENTIAL_MODELS)})],
                   to_char(DATE '2009-01-01' + mod({h(44)}, 4900), 'YYYY-MM-DD'),
                   (%(places)s::text[])[1 + mod({h(45)}, {len(names.RESIDENTIAL_LOCATIONS)})],
                   {cal.value(last)}::float8, {cal.read_at(last)}
            FROM bench_seed s""",
         {"models": list(names.RESIDENTIAL_MODELS),
          "places": list(names.RESIDENTIAL_LOCATIONS)}),
    ]


def reading_statements(cal: Calendar) -> list[tuple[str, str, dict[str, Any]]]:
    """One statement per month, oldest first: a month's readings for every meter."""
    return [("readings", f"""
        INSERT INTO readings (id, customer_id, meter_id, read_at, value, source)
        SELECT md5('r' || s.i || '.{k}')::uuid::text, s.cid, s.mid, {cal.read_at(k)},
               {cal.value(k)}::float8, 'billing'
        FROM bench_seed s""", {}) for k in range(MONTHS)]


def bill_statements(cal: Calendar) -> list[tuple[str, str, dict[str, Any]]]:
    """A bill per month for the last 12 readings (made as billing.run makes them: id from
    the reading, tier lines as JSON text), the online payments and payment orders."""
    methods = [m for m, weight in names.PAYMENT_METHODS for _ in range(weight)]
    out = []
    for k in range(MONTHS - BILLS, MONTHS):
        paid = cal.bill_paid(k)
        lines = ("'[{\"year\": ' || extract(year FROM x.d1)::int || ', \"tier\": 1,"
                 " \"volume\": \"' || to_char(x.cv - x.pv, 'FM999990.000') || '\","
                 f" \"price_cents\": {PRICE_CENTS}, \"amount_cents\": '"
                 f" || round((x.cv - x.pv) * {PRICE_CENTS})::bigint || ', \"start\": \"'"
                 " || to_char(x.d0, 'YYYY-MM-DD') || '\", \"end\": \"'"
                 " || to_char(x.d1, 'YYYY-MM-DD') || '\"}]'")
        out.append(("bills", f"""
            INSERT INTO bills (id, customer_id, meter_id, reading_id, period_start,
                               period_end, previous_value, current_value, volume,
                               amount_cents, lines, issued_at, due_on, status, paid_at)
            SELECT 'bill-' || x.rid, s.cid, s.mid, x.rid, to_char(x.d0, 'YYYY-MM-DD'),
                   to_char(x.d1, 'YYYY-MM-DD'), x.pv::float8, x.cv::float8,
                   to_char(x.cv - x.pv, 'FM999990.000'),
                   round((x.cv - x.pv) * {PRICE_CENTS})::bigint, {lines},
                   to_char(x.d1 + 1, 'YYYY-MM-DD') || 'T09:00:00+08:00',
                   to_char(x.d1 + 16, 'YYYY-MM-DD'),
                   CASE WHEN {paid} THEN 'paid' ELSE 'unpaid' END,
                   CASE WHEN {paid} THEN {cal.paid_at(k)} END
            FROM bench_seed s {cal.billed(k)}""", {}))
    for k in PAYMENTS:
        out.append(("payments", f"""
            INSERT INTO payments (id, customer_id, paid_at, amount, period, method)
            SELECT md5('p' || s.i || '.{k}')::uuid::text, s.cid, {cal.paid_at(k)},
                   round((x.cv - x.pv) * {PRICE_CENTS}) / 100.0, to_char(x.d1, 'YYYY-MM'),
                   (%(methods)s::text[])[1 + mod({h(33)}, {len(methods)})]
            FROM bench_seed s {cal.billed(k)}""", {"methods": methods}))
    # The last two months' bills paid (or being paid) through the portal by 3 in 10.
    for k in (MONTHS - 2, MONTHS - 1):
        paid = cal.bill_paid(k)
        # Opened at 08:00 on the day it was paid, and never after yesterday.
        created = (f"least(x.d1 + 2 + mod({h(30, k)}, 12), DATE '{cal.today}' - 1)::timestamp"
                   " + INTERVAL '8 hours'")
        out.append(("payment_orders", f"""
            INSERT INTO payment_orders (id, bill_id, customer_id, amount_cents, provider,
                                        status, created_at, paid_at, provider_ref)
            SELECT 'PO' || to_char({created}, 'YYYYMMDD') || upper(substr(md5(x.rid), 1, 12)),
                   'bill-' || x.rid, s.cid, round((x.cv - x.pv) * {PRICE_CENTS})::bigint,
                   'simulated', CASE WHEN {paid} THEN 'paid' ELSE 'created' END,
                   {iso_utc(created)},
                   CASE WHEN {paid} THEN {cal.paid_at(k)} END,
                   CASE WHEN {paid} THEN 'SIM' || upper(substr(md5('o' || x.rid), 1, 16)) END
            FROM bench_seed s {cal.billed(k)}
            WHERE mod({h(34, k)}, 10) < 3""", {}))
    return out


def job_statements(cal: Calendar) -> list[tuple[str, str, dict[str, Any]]]:
    """Jobs of the last year for 3 customers in 10, and a portal request with its own job
    for 1 in 20 (of the last 60 days), with the status history the office and tablets
    wrote. Job numbers run per day as dispatch numbers them (GD + day + 4 digits)."""
    now = f"TIMESTAMP '{cal.now}'"
    techs = [t[0] for t in names.TECHNICIANS]
    requests_of = f"mod({h(57)}, 100) < 5"
    request_kind = f"1 + mod({h(56, i='s.i')}, 4)"
    kinds = {"rkinds": ["repair", "installation", "transfer", "inspection"],
             "rjobs": ["repair", "installation", "meter_reading", "inspection"],
             "jkinds": ["inspection"] * 5 + ["repair"] * 3 + ["meter_reading",
                                                             "installation"],
             "techs": techs}
    jobs = f"""
        WITH raw AS (
          SELECT md5('j' || s.i)::uuid::text AS id, s.i, s.cid, s.district, s.phone,
                 NULL::text AS rkind, (%(jkinds)s::text[])[1 + mod({h(50)}, 10)] AS kind,
                 least({now}, date_trunc('day', {now}) - make_interval(
                   days => mod({h(51)}, 365), hours => -8 - mod({h(52)}, 10),
                   mins => -mod({h(53)}, 60))) AS created
          FROM bench_seed s WHERE mod({h(54)}, 10) < 3
          UNION ALL
          SELECT md5('qj' || s.i)::uuid::text, s.i, s.cid, s.district, s.phone,
                 (%(rkinds)s::text[])[{request_kind}], (%(rjobs)s::text[])[{request_kind}],
                 least({now}, date_trunc('day', {now}) - make_interval(
                   days => mod({h(55)}, 60), hours => -8 - mod({h(52)}, 10),
                   mins => -mod({h(53)}, 60)))
          FROM bench_seed s WHERE {requests_of}
        ), timed AS (
          SELECT raw.*, date_trunc('day', created) + make_interval(
                   days => 1 + mod({h(58, i="raw.i")}, 5),
                   hours => 9 + mod({h(59, i="raw.i")}, 8)) AS due
          FROM raw
        ), placed AS (
          SELECT timed.*,
                 CASE WHEN due < {now} - INTERVAL '1 day' THEN
                        CASE mod({h(60, i="timed.i")}, 20) WHEN 0 THEN 'cancelled'
                             WHEN 1 THEN 'followed_up' ELSE 'completed' END
                      WHEN due < {now} THEN 'in_service'
                      ELSE (ARRAY['pending', 'dispatched', 'accepted'])
                           [1 + mod({h(61, i="timed.i")}, 3)] END AS status
          FROM timed
        )
        INSERT INTO jobs (id, number, kind, priority, customer_id, district, due_at, assignee,
                          required_skill, status, route_order, summary, created_at)
        SELECT id, 'GD' || to_char(created, 'YYYYMMDD') || lpad(
                 (row_number() OVER (PARTITION BY created::date ORDER BY created, id))::text,
                 4, '0'),
               kind, 3, cid, district, {iso_local("due")},
               CASE WHEN status <> 'pending' THEN
                 (%(techs)s::text[])[1 + mod({h(62, i="placed.i")}, {len(techs)})] END,
               kind, status, NULL,
               CASE WHEN rkind IS NULL THEN
                 CASE kind WHEN 'inspection' THEN '年度入户安检'
                           WHEN 'repair' THEN '灶具点火困难，请上门检修'
                           WHEN 'meter_reading' THEN '表具读数异常，请上门核抄'
                           ELSE '新装燃气热水器' END
               ELSE CASE rkind WHEN 'repair' THEN '网上报修：灶具打不着火'
                               WHEN 'installation' THEN '网上报装：新装燃气热水器'
                               WHEN 'transfer' THEN '网上过户：已上传证件，请审核后上门抄表过户'
                               ELSE '网上预约安检' END || '（联系电话 ' || phone || '）'
               END,
               {iso_local("created")}
        FROM placed"""
    at = """CASE p.step WHEN 'dispatched' THEN j0.created + INTERVAL '10 minutes'
                         WHEN 'accepted' THEN j0.created + INTERVAL '1 hour'
                         WHEN 'in_service' THEN j0.due
                         WHEN 'completed' THEN j0.due + INTERVAL '45 minutes'
                         WHEN 'followed_up' THEN j0.due + INTERVAL '1 day'
                         ELSE j0.created + INTERVAL '2 hours' END"""
    history = f"""
        INSERT INTO job_status_history (id, job_id, customer_id, from_status, to_status, at,
                                        by_user, device_id)
        SELECT md5('h' || j0.id || '.' || p.n)::uuid::text, j0.id, j0.customer_id,
               coalesce(a.path[(p.n - 1)::int], 'pending'), p.step,
               {iso_local(f"least({at}, {now})")},
               CASE WHEN p.step IN ('dispatched', 'followed_up', 'cancelled') THEN 'dispatcher'
                    ELSE j0.assignee END,
               CASE WHEN p.step IN ('dispatched', 'followed_up', 'cancelled') THEN 'office'
                    ELSE 'pad-' || j0.assignee END
        FROM (SELECT j.*, left(j.created_at, 19)::timestamp AS created,
                     left(j.due_at, 19)::timestamp AS due
              FROM jobs j WHERE j.status <> 'pending') j0
        CROSS JOIN LATERAL (SELECT CASE j0.status
            WHEN 'dispatched' THEN ARRAY['dispatched']
            WHEN 'accepted' THEN ARRAY['dispatched', 'accepted']
            WHEN 'in_service' THEN ARRAY['dispatched', 'accepted', 'in_service']
            WHEN 'completed' THEN ARRAY['dispatched', 'accepted', 'in_service', 'completed']
            WHEN 'followed_up' THEN ARRAY['dispatched', 'accepted', 'in_service', 'completed',
                                          'followed_up']
            ELSE ARRAY['dispatched', 'cancelled'] END AS path) a
        CROSS JOIN LATERAL unnest(a.path) WITH ORDINALITY p(step, n)"""
    done = "j.status IN ('completed', 'followed_up')"
    portal_requests = f"""
        INSERT INTO portal_requests (id, customer_id, kind, job_id, details, created_at,
                                     rating, rating_comment, rated_at)
        SELECT md5('q' || s.i)::uuid::text, s.cid, (%(rkinds)s::text[])[{request_kind}], j.id,
               (CASE (%(rkinds)s::text[])[{request_kind}]
                  WHEN 'repair' THEN jsonb_build_object(
                    'description', '灶具打不着火，打火时有咔咔声')
                  WHEN 'installation' THEN jsonb_build_object(
                    'description', '新装燃气热水器', 'address', s.address)
                  WHEN 'transfer' THEN jsonb_build_object(
                    'new_owner', '张明', 'new_phone', '139' || right(s.phone, 8))
                  ELSE '{{}}'::jsonb END
                || jsonb_build_object('contact', s.phone, 'visit', to_char(
                     left(j.due_at, 19)::timestamp, 'YYYY-MM-DD HH24:MI')))::text,
               {iso_utc("left(j.created_at, 19)::timestamp")},
               CASE WHEN {done} AND mod({h(63)}, 10) < 6 THEN 4 + mod({h(25)}, 2) END,
               NULL,
               CASE WHEN {done} AND mod({h(63)}, 10) < 6 THEN
                 {iso_utc("left(j.due_at, 19)::timestamp + INTERVAL '1 day'")} END
        FROM bench_seed s JOIN jobs j ON j.id = md5('qj' || s.i)::uuid::text
        WHERE {requests_of}"""
    # The photos the customer sent: one of the fault, or the two papers a transfer needs.
    # Ids given (not left to the trigger, which reads max(id) for every row).
    uploads = """
        INSERT INTO portal_uploads (id, request_id, customer_id, role, sha256, mime, size,
                                    width, height, created_at)
        SELECT row_number() OVER (ORDER BY r.created_at, r.id, x.role), r.id, r.customer_id,
               x.role, md5(r.id || x.role) || md5(x.role || r.id), 'image/jpeg',
               150000 + mod(hashtext(r.id || x.role) & 2147483647, 250000), 1280, 960,
               r.created_at
        FROM portal_requests r CROSS JOIN LATERAL unnest(CASE r.kind
            WHEN 'repair' THEN ARRAY['fault'] WHEN 'transfer' THEN ARRAY['id_card', 'deed']
            ELSE ARRAY[]::text[] END) x(role)"""
    return [("jobs", jobs, {k: kinds[k] for k in ("jkinds", "rkinds", "rjobs", "techs")}),
            ("job_status_history", history, {}),
            ("portal_requests", portal_requests, {"rkinds": kinds["rkinds"]}),
            ("portal_uploads", uploads, {})]


# -- loading ----------------------------------------------------------------------------------

def in_parallel(lanes: Sequence[Callable[[], None]]) -> None:
    """Run each lane on its own thread and wait for all. The first failure (or Ctrl-C) is
    raised here at once: the threads are daemons, and stopping the cluster ends their
    statements, rather than waiting minutes for a statement to finish."""
    failures: list[BaseException] = []

    def run(lane: Callable[[], None]) -> None:
        try:
            lane()
        except BaseException as exc:  # handed to the main thread, raised there
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(lane,), daemon=True) for lane in lanes]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        if failures:
            break
        for t in threads:
            t.join(0.2)
    if failures:
        raise failures[0]


def connect(url: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(url, autocommit=True)
    # Two lanes on two cores: parallel workers would only take turns with the other lane.
    conn.execute("SET max_parallel_workers_per_gather = 0")
    conn.execute("SET max_parallel_maintenance_workers = 0")
    conn.execute("SET maintenance_work_mem = '1GB'")
    conn.execute("SET work_mem = '256MB'")  # the job numbers' sort by day
    return conn


class Loader:
    """The scaled demo into one database, timed step by step."""

    def __init__(self, url: str, customers: int, cal: Calendar) -> None:
        self.url, self.customers, self.cal = url, customers, cal
        self.rows: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    def _run(self, conn: psycopg.Connection[Any], label: str, statement: str,
             params: dict[str, Any]) -> None:
        start = time.perf_counter()
        count = conn.execute(statement, params or None).rowcount
        with self._lock:
            self.rows[label] = self.rows.get(label, 0) + max(count, 0)
            self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - start

    def _lane(self, steps: list[tuple[str, str, dict[str, Any]]]) -> Callable[[], None]:
        def lane() -> None:
            with connect(self.url) as conn:
                for n, (label, statement, params) in enumerate(steps):
                    self._run(conn, label, statement, params)
                    if all(later[0] != label for later in steps[n + 1:]):  # its last one
                        print(f"    {label}: {self.rows[label]:,} rows,"
                              f" {self.seconds[label]:.0f} s", flush=True)
        return lane

    def load(self, data_dir: Path) -> float:
        """Schema by the server's migrations, then the rows; returns the seconds it took."""
        start = time.perf_counter()
        db = open_database(data_dir, self.url)  # runs every migration on PostgreSQL
        try:
            with db.write() as conn:
                billing.install_defaults(conn, self.cal.today)  # the price schedules
                for username, display, district, skills in names.TECHNICIANS:
                    auth.add_user(conn, username, display, "technician", names.DEMO_PASSWORD,
                                  district, list(skills))
        finally:
            db.close()
        with connect(self.url) as conn:
            before = self._indexes(conn)
            rebuild = self._drop_indexes(conn)
            for statement, params in seed_statements(self.cal, self.customers):
                conn.execute(statement, params or None)
        # Two lanes of about equal work, one per core: the readings, and everything else.
        in_parallel([
            self._lane(reading_statements(self.cal)),
            self._lane(customer_statements(self.cal) + bill_statements(self.cal)
                       + job_statements(self.cal)),
        ])
        with connect(self.url) as conn:
            conn.execute("DROP TABLE bench_seed")
            sizes = dict(conn.execute(
                "SELECT relname, pg_relation_size(oid) FROM pg_class WHERE relkind = 'r'"
                " AND relnamespace = 'public'::regnamespace").fetchall())
        t = time.perf_counter()
        work: Queue[str] = Queue()
        for _, statement in sorted(rebuild, key=lambda r: -sizes.get(r[0], 0)):
            work.put(statement)
        in_parallel([self._drain(work)] * 2)
        print(f"    indexes rebuilt: {len(rebuild)}, {time.perf_counter() - t:.0f} s",
              flush=True)
        t = time.perf_counter()
        for table in sorted(sizes, key=lambda name: -sizes[name]):
            work.put(f'VACUUM (ANALYZE) "{table}"')
        in_parallel([self._drain(work)] * 2)
        with connect(self.url) as conn:
            after = self._indexes(conn)
            conn.execute("CHECKPOINT")  # written out now, not by the checkpointer mid-run
        print(f"    VACUUM ANALYZE, CHECKPOINT: {time.perf_counter() - t:.0f} s", flush=True)
        if after != before:
            raise RuntimeError(f"indexes differ from the migrations' after the rebuild:"
                               f" {sorted(before ^ after)}")
        return time.perf_counter() - start

    def _drain(self, work: Queue[str]) -> Callable[[], None]:
        def lane() -> None:
            with connect(self.url) as conn:
                while True:
                    try:
                        statement = work.get_nowait()
                    except Empty:
                        return
                    conn.execute(statement)
        return lane

    @staticmethod
    def _indexes(conn: psycopg.Connection[Any]) -> set[tuple[str, str]]:
        return set(conn.execute("SELECT indexname, indexdef FROM pg_indexes"
                                " WHERE schemaname = 'public' AND tablename = ANY(%s)",
                                [list(BULK)]).fetchall())

    @staticmethod
    def _drop_indexes(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
        """Drop the bulk tables' keys and indexes (inserting into 25 M rows of b-trees
        costs several times building them once); returns (table, statement) to rebuild
        each exactly as the migrations made it."""
        rebuild = []
        constraints = conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid),"
            " conindid::regclass::text FROM pg_constraint WHERE contype IN ('p', 'u')"
            " AND conrelid = ANY(%s::regclass[])", [list(BULK)]).fetchall()
        for table, name, definition, _ in constraints:
            conn.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            rebuild.append((table, f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'))
        backing = {index for *_, index in constraints}
        for table, name, definition in conn.execute(
                "SELECT tablename, indexname, indexdef FROM pg_indexes"
                " WHERE schemaname = 'public' AND tablename = ANY(%s)",
                [list(BULK)]).fetchall():
            if name not in backing:
                conn.execute(f'DROP INDEX "{name}"')
                rebuild.append((table, definition))
        return rebuild


# -- measuring --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Visit:
    token: str  # the cookie's value
    customer_id: str
    request_id: str  # one of the customer's portal requests
    job_number: str  # its job's
    billed_to: str  # the end of the customer's latest bill


# (name, the path for a customer, what shows the page is that customer's, not another page)
PAGES: tuple[tuple[str, Callable[[Visit], str], Callable[[Visit], str]], ...] = (
    ("/portal/usage", lambda v: "/portal/usage", lambda v: "<svg"),
    ("/portal/bills", lambda v: "/portal/bills", lambda v: v.billed_to),
    ("/portal/requests/{id}", lambda v: f"/portal/requests/{v.request_id}",
     lambda v: v.job_number),
)


def open_sessions(url: str, count: int) -> list[Visit]:
    """Signed-in customers: a session row each, as the portal's sign-in makes one. They are
    customers with a request, so that every page has something to show; in all else they
    are like any other."""
    now = datetime.now(UTC)
    visits = []
    with psycopg.connect(url, autocommit=True) as conn:
        picked = conn.execute(
            "SELECT r.id, r.customer_id, j.number, (SELECT max(period_end) FROM bills b"
            " WHERE b.customer_id = r.customer_id) FROM portal_requests r"
            " JOIN jobs j ON j.id = r.job_id ORDER BY md5(r.id) LIMIT %s", [count]).fetchall()
        for request_id, customer_id, number, billed_to in picked:
            token = secrets.token_urlsafe(32)
            conn.execute("INSERT INTO portal_sessions (token_hash, customer_id, created_at,"
                         " expires_at) VALUES (%s, %s, %s, %s)",
                         [token_hash(token), customer_id,
                          now.isoformat(timespec="milliseconds"),
                          (now + SESSION_TTL).isoformat(timespec="milliseconds")])
            visits.append(Visit(token, customer_id, request_id, number, billed_to))
    return visits


def fetch(http: requests.Session, base: str, path: str, expect: str, visit: Visit) -> float:
    """One page as the customer's browser asks for it; seconds to the last byte. A page
    without what it should show fails the run rather than time something else (the sign-in
    redirect answers fast)."""
    start = time.perf_counter()
    resp = http.get(base + path, headers={"Cookie": f"{COOKIE}={visit.token}"},
                    allow_redirects=False, timeout=120)
    body = resp.content
    elapsed = time.perf_counter() - start
    if resp.status_code != 200:
        raise RuntimeError(f"GET {path} → {resp.status_code}: {body[:300]!r}")
    if expect.encode() not in body:
        raise RuntimeError(f"GET {path} does not show {expect!r}: {body[:300]!r}")
    return elapsed


@dataclass
class Target:
    """One loaded database, the server in front of it, and its signed-in customers."""

    customers: int
    url: str
    data_dir: Path
    load_s: float
    size_gb: float
    visits: list[Visit]
    base: str = ""  # the server's address while it runs
    times: dict[str, list[float]] = field(default_factory=dict)
    scans: dict[str, tuple[int, int]] = field(default_factory=dict)  # during the requests


def prepare(cluster: PgCluster, tmp: Path, customers: int, sessions: int) -> Target:
    url = cluster.create_database()
    print(f"\nloading {customers:,} customers …", flush=True)
    data_dir = tmp / f"server-{customers}"
    load_s = Loader(url, customers, Calendar.current()).load(data_dir)
    with psycopg.connect(url) as conn:
        size_gb = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 1e9
    print(f"  loaded in {load_s:.0f} s ({load_s / 60:.1f} min), database {size_gb:.1f} GB",
          flush=True)
    return Target(customers, url, data_dir, load_s, size_gb, open_sessions(url, sessions))


def time_pages(targets: list[Target], count: int) -> None:
    """``count`` timed GETs per page and database, one at a time, alternating between the
    databases so that whatever else the machine does weighs on both alike. Each GET is for
    another customer while there are customers left, so most are that customer's first
    visit and not served from what an earlier GET of theirs left in PostgreSQL's cache."""
    pick = random.Random(20261130)
    with requests.Session() as http:
        http.trust_env = False  # loopback: no proxy, no CA bundle from the environment
        for name, path, expect in PAGES:
            queues = []
            for t in targets:
                order = pick.sample(t.visits, len(t.visits))
                warm, timed = order[:WARMUP], order[WARMUP:] or order
                for visit in warm:
                    fetch(http, t.base, path(visit), expect(visit), visit)
                queues.append([timed[n % len(timed)] for n in range(count)])
                t.times[name] = []
            for n in range(count):
                for t, queue in zip(targets, queues, strict=True):
                    visit = queue[n]
                    t.times[name].append(fetch(http, t.base, path(visit), expect(visit), visit))


def table_scans(url: str) -> dict[str, tuple[int, int]]:
    """Sequential scans so far and rows they read, per table."""
    with psycopg.connect(url, autocommit=True) as conn:
        return {r[0]: (r[1], r[2]) for r in conn.execute(
            "SELECT relname, seq_scan, seq_tup_read FROM pg_stat_user_tables")}


def measure(cluster: PgCluster, targets: list[Target], count: int) -> list[tuple[float, str]]:
    """Time the pages with a server process per database; returns the statements slower
    than SLOW_MS meanwhile, as (ms, "database: statement")."""
    log = cluster_log(cluster)
    offset = log.stat().st_size
    with psycopg.connect(cluster.admin_url, autocommit=True) as conn:
        conn.execute(f"ALTER SYSTEM SET log_min_duration_statement = '{SLOW_MS}ms'")
        conn.execute("ALTER SYSTEM SET log_line_prefix = '%m [%p] db=%d '")
        conn.execute("SELECT pg_reload_conf()")
    before = {t.url: table_scans(t.url) for t in targets}
    servers = []
    try:
        for t in targets:
            proc, t.base = start_server(t.data_dir, t.url)
            servers.append(proc)
        print(f"\ntiming {count} GETs per page on each database …", flush=True)
        time_pages(targets, count)
    finally:
        for proc in servers:
            proc.terminate()  # its connections close, so their statistics are written
            proc.wait(30)
    with psycopg.connect(cluster.admin_url, autocommit=True) as conn:
        conn.execute("ALTER SYSTEM RESET log_min_duration_statement")
        conn.execute("SELECT pg_reload_conf()")
    time.sleep(1)  # the statistics of the server's last connections, written as they close
    for t in targets:
        after, earlier = table_scans(t.url), before[t.url]
        t.scans = {table: (n - earlier.get(table, (0, 0))[0], rows - earlier.get(table, (0, 0))[1])
                   for table, (n, rows) in after.items() if n > earlier.get(table, (0, 0))[0]}
    return slow_statements(log, offset)


def cluster_log(cluster: PgCluster) -> Path:
    assert cluster.root is not None  # started here, by PgCluster.start
    return cluster.root / "server.log"


def slow_statements(log: Path, offset: int) -> list[tuple[float, str]]:
    with log.open("rb") as f:
        f.seek(offset)
        text = f.read().decode(errors="replace")
    found = re.findall(r"db=(\S*) \w+:\s+duration: ([\d.]+) ms\s+"
                       r"(?:statement|execute [^:]*): (.*)", text)
    return sorted(((float(ms), f"{db}: {sql.strip()}") for db, ms, sql in found), reverse=True)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def report(big: Target, base: Target, count: int, slow: list[tuple[float, str]]) -> None:
    print(f"\nportal pages, {count} GETs each, one at a time, alternating between the two"
          f" databases; 1 server process each, PostgreSQL; ms to the last byte")
    print(f"  {'':<24}{f'{big.customers:,} customers':^21}{'':<9}"
          f"{f'{base.customers:,} customers':^22}")
    print(f"  {'page':<24}{'p50':>7}{'p95':>7}{'max':>7}  p95<{TARGET_P95_MS}"
          f"{'p50':>8}{'p95':>7}{'max':>7}   p95 ratio")
    for name, *_ in PAGES:
        ms = [t * 1000 for t in big.times[name]]
        ref = [t * 1000 for t in base.times[name]]
        p95, ref95 = percentile(ms, 0.95), percentile(ref, 0.95)
        verdict = "PASS" if p95 < TARGET_P95_MS else "FAIL"
        print(f"  {name:<24}{statistics.median(ms):7.1f}{p95:7.1f}{max(ms):7.1f}  {verdict:<7}"
              f"{statistics.median(ref):8.1f}{ref95:7.1f}{max(ref):7.1f}   {p95 / ref95:6.2f}x")
    print(f"  (p95 ratio: {big.customers:,} / {base.customers:,} customers;"
          f" {len(big.visits)} and {len(base.visits)} signed-in customers)")
    for t in (big, base):
        print(f"  {t.customers:,} customers: {t.size_gb:.1f} GB, loaded in {t.load_s:.0f} s"
              f" ({t.load_s / 60:.1f} min)")
    for t in (big, base):
        # A small table is read whole by choice; one of 1,000+ rows a scan lacks an index.
        whole = {table: s for table, s in t.scans.items() if s[1] >= 1000 * s[0]}
        print(f"  {t.customers:,} customers, sequential scans of 1,000+ rows during the"
              f" requests: " + (", ".join(f"{table} {n}× ({rows:,} rows)"
                                         for table, (n, rows) in sorted(whole.items()))
                                or "none"))
    print(f"  statements over {SLOW_MS} ms during the requests: {len(slow)}")
    for ms, sql in slow[:5]:
        print(f"    {ms:8.1f} ms  {sql[:160]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=1000,
                        help="customers of the baseline run (default %(default)s)")
    parser.add_argument("--requests", type=int, default=300, help="timed GETs per page")
    parser.add_argument("--sessions", type=int, default=WARMUP + 300,
                        help="signed-in customers per database (default %(default)s)")
    args = parser.parse_args()
    # A kill ends the run as Ctrl-C does: through the finally below, which cleans up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # The server's timer stays off (see the module's docstring); benchserver passes os.environ.
    os.environ["FIELDAPP_ALERT_SCAN_S"] = "0"
    tmp = Path(tempfile.mkdtemp(prefix="fieldapp-bench-portal-"))
    cluster = PgCluster.start()
    try:
        with psycopg.connect(cluster.admin_url, autocommit=True) as conn:
            # Bulk loading: few checkpoints, and no autovacuum racing the load (which ends
            # with its own VACUUM ANALYZE; the requests then change nothing it would clean).
            for setting in ("max_wal_size = '4GB'", "checkpoint_timeout = '1h'",
                            "autovacuum = off"):
                conn.execute(f"ALTER SYSTEM SET {setting}")
            conn.execute("SELECT pg_reload_conf()")
        base = prepare(cluster, tmp, args.baseline, args.sessions)
        big = prepare(cluster, tmp, args.customers, args.sessions)
        slow = measure(cluster, [big, base], args.requests)
        report(big, base, args.requests, slow)
    finally:
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

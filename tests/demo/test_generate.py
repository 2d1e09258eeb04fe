"""The seeded demo data: determinism, shape against the record tables, and internal consistency."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections import Counter, defaultdict

import pytest

from fieldapp.demo.generate import DEMO_TABLES, DemoData, generate
from fieldapp.demo.jobs import KIND_SKILL
from fieldapp.demo.names import DISTRICT_NAMES
from fieldapp.domain.status import Status
from fieldapp.records import TABLES

TODAY = dt.date(2026, 11, 24)
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@pytest.fixture(scope="module")
def data() -> DemoData:
    return generate(seed=20261124, today=TODAY)


def test_same_seed_and_day_gives_identical_data(data: DemoData) -> None:
    again = generate(seed=20261124, today=TODAY)
    assert again.rows == data.rows
    assert again.users == data.users


def test_different_seed_gives_different_data(data: DemoData) -> None:
    other = generate(seed=1, today=TODAY)
    assert other.rows["customers"][0]["id"] != data.rows["customers"][0]["id"]
    assert [c["name"] for c in other.rows["customers"][:50]] != [
        c["name"] for c in data.rows["customers"][:50]]


def test_counts_are_in_the_expected_ranges(data: DemoData) -> None:
    rows = data.rows
    assert set(rows) == set(DEMO_TABLES)
    n = len(rows["customers"])
    assert 1800 <= n <= 2200
    assert n <= len(rows["meters"]) <= n * 1.1
    assert len(rows["readings"]) == 24 * len(rows["meters"])
    assert len(rows["contracts"]) == n
    assert 0.85 * 24 * n <= len(rows["payments"]) < 24 * n
    assert 250 <= len(rows["jobs"]) <= 350
    assert 12 <= len(rows["kb_articles"]) <= 16


def test_every_row_has_exactly_id_and_the_table_columns(data: DemoData) -> None:
    for table, rows in data.rows.items():
        expected = {"id", *TABLES[table].columns}
        assert "version" not in expected and "hlc" not in expected
        for row in rows:
            assert row.keys() == expected, table


def test_ids_are_unique_uuid4_strings(data: DemoData) -> None:
    ids = [r["id"] for rows in data.rows.values() for r in rows]
    assert len(ids) == len(set(ids))
    for value in ids[:: max(1, len(ids) // 500)]:
        assert str(uuid.UUID(value)) == value
        assert uuid.UUID(value).version == 4


def test_customers_look_real(data: DemoData) -> None:
    customers = data.rows["customers"]
    accounts = [c["account_no"] for c in customers]
    assert len(set(accounts)) == len(accounts)
    assert all(re.fullmatch(r"3201\d{8}", a) for a in accounts)
    assert all(re.fullmatch(r"1[3-9]\d{9}", c["phone"]) for c in customers)
    kinds = Counter(c["kind"] for c in customers)
    assert set(kinds) == {"residential", "commercial"}
    assert 0.85 <= kinds["residential"] / len(customers) <= 0.95
    assert set(c["district"] for c in customers) == set(DISTRICT_NAMES)
    for c in customers:
        assert c["address"].startswith(c["district"] + " ")
        assert 31.9 < c["lat"] < 32.2 and 118.65 < c["lon"] < 118.95
        tags = json.loads(c["tags"])
        assert isinstance(tags, list) and all(isinstance(t, str) for t in tags)
        if c["kind"] == "commercial":
            assert c["household_size"] is None
        else:
            assert 1 <= c["household_size"] <= 6
            assert 2 <= len(c["name"]) <= 3
    assert any("独居老人" in c["tags"] for c in customers)


def test_meter_barcodes_are_unique_code128_ascii(data: DemoData) -> None:
    meters = data.rows["meters"]
    codes = [m["barcode"] for m in meters]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"GM\d{10}", c) for c in codes)
    customer_ids = {c["id"] for c in data.rows["customers"]}
    assert {m["customer_id"] for m in meters} == customer_ids
    assert all(ISO_DATE.match(m["installed_on"]) for m in meters)


def test_readings_increase_and_match_the_meter(data: DemoData) -> None:
    by_meter: dict[str, list[dict]] = defaultdict(list)
    for r in data.rows["readings"]:
        assert ISO_TIME.match(r["read_at"]) and r["source"] == "billing"
        by_meter[r["meter_id"]].append(r)
    last_month = (TODAY.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    for meter in data.rows["meters"]:
        readings = sorted(by_meter[meter["id"]], key=lambda r: r["read_at"])
        assert len(readings) == 24
        values = [r["value"] for r in readings]
        assert all(b > a for a, b in zip(values, values[1:], strict=False))
        assert meter["last_reading"] == values[-1]
        assert meter["last_read_at"] == readings[-1]["read_at"]
        assert readings[-1]["read_at"].startswith(last_month)
        assert meter["installed_on"] < readings[0]["read_at"][:10]
        assert {r["customer_id"] for r in readings} == {meter["customer_id"]}


def test_winter_uses_more_gas_than_summer(data: DemoData) -> None:
    by_meter: dict[str, list[dict]] = defaultdict(list)
    for r in data.rows["readings"]:
        by_meter[r["meter_id"]].append(r)
    season: dict[str, float] = defaultdict(float)
    for readings in by_meter.values():
        for prev, cur in zip(readings, readings[1:], strict=False):
            season[cur["read_at"][5:7]] += cur["value"] - prev["value"]
    assert season["01"] > 1.8 * season["07"]


def test_contracts_and_payments(data: DemoData) -> None:
    customers = {c["id"]: c for c in data.rows["customers"]}
    for k in data.rows["contracts"]:
        tariff = "工商业" if customers[k["customer_id"]]["kind"] == "commercial" else "居民阶梯"
        assert k["tariff"] == tariff and k["status"] == "active"
    paid_months: dict[str, set[str]] = defaultdict(set)
    for p in data.rows["payments"]:
        assert p["customer_id"] in customers
        assert re.fullmatch(r"\d{4}-\d{2}", p["period"])
        assert p["method"] in {"微信", "支付宝", "银行代扣", "营业厅现金"}
        assert p["amount"] > 0 and round(p["amount"], 2) == p["amount"]
        assert ISO_TIME.match(p["paid_at"]) and p["paid_at"][:10] < TODAY.isoformat()
        assert p["paid_at"][:7] >= p["period"]
        paid_months[p["customer_id"]].add(p["period"])
    two_months_ago = (TODAY.replace(day=1) - dt.timedelta(days=32)).strftime("%Y-%m")
    in_arrears = [c for c in customers if two_months_ago not in paid_months[c]]
    assert 0.01 * len(customers) < len(in_arrears) < 0.15 * len(customers)


def test_jobs_are_consistent(data: DemoData) -> None:
    customers = {c["id"]: c for c in data.rows["customers"]}
    users = {u["username"]: u for u in data.users}
    today = TODAY.isoformat()
    numbers = [j["number"] for j in data.rows["jobs"]]
    assert len(set(numbers)) == len(numbers)
    past = Counter()
    for j in data.rows["jobs"]:
        assert re.fullmatch(r"GD\d{12}", j["number"])
        assert j["customer_id"] in customers
        assert j["district"] == customers[j["customer_id"]]["district"]
        assert j["required_skill"] == KIND_SKILL[j["kind"]]
        assert 1 <= j["priority"] <= 4
        assert j["status"] in set(Status)
        assert ISO_TIME.match(j["due_at"]) and ISO_TIME.match(j["created_at"])
        assert j["created_at"] < j["due_at"]
        assert j["created_at"][:10] <= today
        assert j["number"][2:10] == j["created_at"][:10].replace("-", "")
        if j["assignee"] is None:
            assert j["status"] == "pending" and j["route_order"] is None
        else:
            tech = users[j["assignee"]]
            assert tech["role"] == "technician"
            assert j["required_skill"] in tech["skills"]
        if j["due_at"][:10] >= today:
            assert j["status"] in {"dispatched", "pending"}
        else:
            past[j["status"]] += 1
    assert (past["completed"] + past["followed_up"]) / sum(past.values()) > 0.8
    home = sum(1 for j in data.rows["jobs"]
               if j["assignee"] and users[j["assignee"]]["district"] == j["district"])
    assert home / sum(1 for j in data.rows["jobs"] if j["assignee"]) > 0.75


def test_route_order_is_distinct_per_technician_and_day(data: DemoData) -> None:
    routes: dict[tuple[str, str], list[int]] = defaultdict(list)
    for j in data.rows["jobs"]:
        if j["assignee"]:
            routes[(j["assignee"], j["due_at"][:10])].append(j["route_order"])
    for orders in routes.values():
        assert sorted(orders) == list(range(1, len(orders) + 1))


def test_tech01_has_a_full_inspection_route_today(data: DemoData) -> None:
    jobs = data.technician_jobs_today("tech01")
    assert len(jobs) >= 8
    assert [j["route_order"] for j in jobs] == list(range(1, len(jobs) + 1))
    due = [j["due_at"] for j in jobs]
    assert due == sorted(due) and len(set(due)) == len(due)
    assert all(d.startswith(TODAY.isoformat()) for d in due)
    assert due[0][11:16] >= "08:00" and due[-1][11:16] <= "18:00"
    assert all(j["status"] == "dispatched" for j in jobs)
    kinds = Counter(j["kind"] for j in jobs)
    assert kinds["inspection"] >= 8
    assert any(j["kind"] == "repair" and j["priority"] == 1 for j in jobs)
    tech01 = next(u for u in data.users if u["username"] == "tech01")
    assert "inspection" in tech01["skills"]


def test_users(data: DemoData) -> None:
    roles = Counter(u["role"] for u in data.users)
    assert roles == {"technician": 10, "dispatcher": 1, "supervisor": 1, "admin": 1}
    techs = [u for u in data.users if u["role"] == "technician"]
    assert [u["username"] for u in techs] == [f"tech{i:02d}" for i in range(1, 11)]
    skills = {"inspection", "repair", "meter_reading", "installation"}
    for u in data.users:
        assert u.keys() == {"username", "display_name", "role", "password", "district", "skills"}
        assert u["password"] == "fieldapp"
    for u in techs:
        assert u["district"] in DISTRICT_NAMES
        assert u["skills"] and set(u["skills"]) <= skills
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,3}", u["display_name"])
    assert {u["district"] for u in techs} == set(DISTRICT_NAMES)


def test_kb_articles(data: DemoData) -> None:
    articles = data.rows["kb_articles"]
    titles = {a["title"] for a in articles}
    assert "如何进行燃气泄漏检测" in titles and "隐患分级与整改期限" in titles
    assert {"安全规程", "故障代码", "操作指南", "配件目录"} <= {a["category"] for a in articles}
    for a in articles:
        assert a["body"].count("\n\n") >= 2 and len(a["body"]) > 150
        assert isinstance(json.loads(a["tags"]), list)


def test_default_day_is_shanghai_today() -> None:
    from zoneinfo import ZoneInfo

    before = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    result = generate(seed=3)
    after = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    assert result.today in {before, after}
    assert len(result.technician_jobs_today("tech01")) >= 8


def test_every_job_has_the_history_of_its_status(data: DemoData) -> None:
    jobs = {j["id"]: j for j in data.rows["jobs"]}
    history: dict[str, list[dict]] = {}
    for h in data.rows["job_status_history"]:
        history.setdefault(h["job_id"], []).append(h)
    morning = dt.datetime.combine(data.today, dt.time(8, 0),
                                  tzinfo=dt.timezone(dt.timedelta(hours=8)))
    for job_id, steps in history.items():
        job = jobs[job_id]
        times = [dt.datetime.fromisoformat(h["at"]) for h in steps]
        assert times == sorted(times) and times[-1] <= morning
        assert [h["from_status"] for h in steps[1:]] == [h["to_status"] for h in steps[:-1]]
        assert steps[0]["from_status"] == "pending" and steps[0]["by_user"] == "dispatcher"
        assert all(h["customer_id"] == job["customer_id"] for h in steps)
    finished = [j for j in jobs.values() if j["status"] in ("completed", "followed_up")]
    assert finished and all(
        any(h["to_status"] == "completed" for h in history[j["id"]]) for j in finished)
    assert not any(j["id"] in history for j in jobs.values() if j["status"] == "pending")

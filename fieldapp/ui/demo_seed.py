"""A small, fixed replica for UI tests and screenshots, loaded without any server.

Rows go in through ``apply_changes`` exactly as pulled records would, so the UI sees what it
would see after a real sync. ``rich=True`` adds an emergency repair, a meter reading job and
some history, which makes the screenshots look like a real working day.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from fieldapp.local_time import LOCAL_ZONE
from fieldapp.replica import Replica
from fieldapp.sync.apply import apply_changes
from fieldapp.wire import RecordChange

TECHNICIAN = {"username": "tech01", "display_name": "王建国", "role": "technician",
              "district": "秦淮区"}

CUSTOMERS = [
    # id, account, name, phone, address, tags, household size, kind
    ("cust-001", "320100012345", "张秀英", "13905170123",
     "秦淮区 中华路 88号 长乐小区 3栋 2单元 502室", ["独居老人"], 1, "residential"),
    ("cust-002", "320100023456", "李国强", "13851600456",
     "秦淮区 长白街 16号 白鹭花园 7栋 1单元 1203室", [], 4, "residential"),
    ("cust-003", "320100034567", "陈美华", "18951780789",
     "秦淮区 瑞金路 5号 瑞金新村 12栋 3单元 301室", ["高风险", "租户"], 3, "residential"),
    ("cust-004", "320100045678", "老周记面馆", "025-84561234",
     "秦淮区 夫子庙 贡院街 120号 1层", ["餐饮"], None, "commercial"),
    ("cust-005", "320100056789", "刘德明", "13770911234",
     "秦淮区 武定门 剪子巷 9号 2栋 402室", [], 2, "residential"),
]
BARCODES = {"cust-001": "GM3201000001", "cust-002": "GM3201000002", "cust-003": "GM3201000003",
            "cust-004": "GM3201000004", "cust-005": "GM3201000005"}
METER_MODELS = {"residential": "G2.5 膜式表", "commercial": "G10 IC卡表"}


@dataclass
class Seeded:
    """Ids of what was loaded, in the order the Today list must show the jobs."""

    today: dt.date
    job_ids: list[str] = field(default_factory=list)
    customer_ids: list[str] = field(default_factory=list)
    barcodes: dict[str, str] = field(default_factory=dict)


def _at(day: dt.date, hour: int, minute: int = 0) -> str:
    moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LOCAL_ZONE)
    return moment.isoformat(timespec="seconds")


Row = tuple[str, dict[str, Any]]  # (table, row with its id)


def _change(table: str, row: dict[str, Any]) -> Row:
    return table, row


def _customer_rows(day: dt.date, ids: list[str]) -> list[Row]:
    out = []
    for cid, account, name, phone, address, tags, size, kind in CUSTOMERS:
        if cid not in ids:
            continue
        out.append(_change("customers", {
            "id": cid, "account_no": account, "name": name, "phone": phone, "address": address,
            "district": "秦淮区", "lat": 32.02, "lon": 118.79, "kind": kind,
            "tags": json.dumps(tags, ensure_ascii=False), "household_size": size}))
        meter_id = f"meter-{cid[-3:]}"
        value = 1200.0 + 137 * int(cid[-1])
        readings = _older_readings(day, cid, meter_id, value)
        for k in range(6, 0, -1):
            month = _reading_month(day, k)
            value = round(value + 18.5 + 3 * k, 1)
            readings.append(_change("readings", {
                "id": f"read-{cid[-3:]}-{k}", "customer_id": cid, "meter_id": meter_id,
                "read_at": _at(month, 10), "value": value, "source": "billing"}))
            out.append(_change("payments", {
                "id": f"pay-{cid[-3:]}-{k}", "customer_id": cid,
                "paid_at": _at(month + dt.timedelta(days=14), 19, 20),
                "amount": round((18.5 + 3 * k) * 2.9, 2),
                "period": f"{month.year}-{month.month:02d}", "method": "微信"}))
        out.append(_change("meters", {
            "id": meter_id, "customer_id": cid, "serial": f"19A{cid[-3:]}4521",
            "barcode": BARCODES[cid], "model": METER_MODELS[kind], "installed_on": "2019-05-16",
            "location": "厨房" if kind == "residential" else "后厨", "last_reading": value,
            "last_read_at": readings[-1][1]["read_at"]}))
        out += readings
        out.append(_change("contracts", {
            "id": f"contract-{cid[-3:]}", "customer_id": cid, "number": f"HT2019{cid[-3:]}",
            "tariff": "居民阶梯" if kind == "residential" else "工商业",
            "signed_on": "2019-05-10", "status": "active"}))
    return out


def _reading_month(day: dt.date, k: int) -> dt.date:
    """The 12th of the month ``k`` months before ``day``'s."""
    index = day.year * 12 + day.month - 1 - k
    return dt.date(index // 12, index % 12 + 1, 12)


def _older_readings(day: dt.date, cid: str, meter_id: str, first: float) -> list[Row]:
    """Months 7 to 24 back, ending at ``first``: more gas in winter (heating, hot water),
    less in summer, so the usage chart has a year's shape to show."""
    rows, value = [], first
    for k in range(7, 25):
        month = _reading_month(day, k)
        rows.append(_change("readings", {
            "id": f"read-{cid[-3:]}-{k}", "customer_id": cid, "meter_id": meter_id,
            "read_at": _at(month, 10), "value": round(value, 1), "source": "billing"}))
        value -= 16 + 30 * (month.month in (12, 1, 2)) + 12 * (month.month in (3, 11))
    return rows[::-1]


def _job(job_id: str, number: str, kind: str, customer: str, due: str, route: int | None,
         *, priority: int = 3, status: str = "dispatched", summary: str = "",
         assignee: str = "tech01") -> Row:
    return _change("jobs", {
        "id": job_id, "number": number, "kind": kind, "priority": priority,
        "customer_id": customer, "district": "秦淮区", "due_at": due, "assignee": assignee,
        "required_skill": "inspection" if kind == "inspection" else kind, "status": status,
        "route_order": route, "summary": summary or None, "created_at": due})


def demo_rows(day: dt.date, *, rich: bool = False) -> tuple[list[Row], list[str]]:
    """The rows to load, and the job ids in the order the Today list must show them."""
    stamp = day.strftime("%Y%m%d")
    # Route order, not insertion order, decides the list: insert them shuffled.
    jobs = [
        _job("job-003", f"AJ{stamp}-0003", "inspection", "cust-003", _at(day, 14), 3,
             summary="年度入户安检"),
        _job("job-001", f"AJ{stamp}-0001", "inspection", "cust-001", _at(day, 9), 1,
             summary="年度入户安检"),
        _job("job-002", f"AJ{stamp}-0002", "inspection", "cust-002", _at(day, 10, 30), 2,
             summary="年度入户安检"),
    ]
    customers = ["cust-001", "cust-002", "cust-003"]
    order = ["job-001", "job-002", "job-003"]
    if rich:
        customers += ["cust-004", "cust-005"]
        last_year = day - dt.timedelta(days=365)
        jobs += [
            _job("job-004", f"WX{stamp}-0017", "repair", "cust-004", _at(day, 11, 15), None,
                 priority=1, summary="后厨燃气味浓，用户已关闭表前阀"),
            _job("job-005", f"CB{stamp}-0042", "meter_reading", "cust-005", _at(day, 16), 4,
                 priority=4, summary="连续零用量核查"),
            _job("job-006", f"AJ{last_year:%Y%m%d}-0031", "inspection", "cust-001",
                 _at(last_year, 10), 2, status="followed_up", summary="年度入户安检"),
            _job("job-007", f"WX{last_year:%Y%m%d}-0102", "repair", "cust-001",
                 _at(last_year + dt.timedelta(days=40), 15), None, status="completed",
                 summary="灶具熄火保护失灵"),
        ]
        order = ["job-004", "job-001", "job-002", "job-003", "job-005"]
        jobs += _last_years_inspection(last_year)
    return _customer_rows(day, customers) + jobs, order


def _last_years_inspection(day: dt.date) -> list[Row]:
    """Zhang's inspection a year ago, with one hazard, as the 360 view's history shows it."""
    rows: list[Row] = [_change("submissions", {
        "id": "sub-006", "job_id": "job-006", "customer_id": "cust-001",
        "form_code": "household_inspection", "form_version": 1, "state": "submitted",
        "started_at": _at(day, 10, 5), "submitted_at": _at(day, 10, 40), "by_user": "tech01",
        "device_id": "dev-demo"})]
    for i, (question, value, note) in enumerate([
            ("leak_test_joints", "pass", None), ("hose_age", "fail", "橡胶软管老化开裂"),
            ("alarm_present", "pass", None)]):
        rows.append(_change("answers", {
            "id": f"ans-006-{i}", "submission_id": "sub-006", "job_id": "job-006",
            "customer_id": "cust-001", "question": question, "value": json.dumps(value),
            "note": note, "answered_at": _at(day, 10, 10 + i), "by_user": "tech01",
            "device_id": "dev-demo"}))
    return rows


def seed(replica: Replica, *, day: dt.date | None = None, rich: bool = False) -> Seeded:
    """Load the demo customers and today's route for tech01, and sign tech01 in."""
    day = day or dt.datetime.now(LOCAL_ZONE).date()
    rows, order = demo_rows(day, rich=rich)
    apply_changes(replica, [
        RecordChange(table=table, record_id=row["id"], version=1,
                     row={**row, "hlc": "000000000000000000:00000:seed"})
        for table, row in rows])
    replica.set_state("session", json.dumps(TECHNICIAN, ensure_ascii=False))
    customers = sorted({row["id"] for table, row in rows if table == "customers"})
    return Seeded(today=day, job_ids=order, customer_ids=customers,
                  barcodes={c: BARCODES[c] for c in customers})

"""A small, fixed world for tests: two technicians, customers, meters and jobs for today."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fieldapp.local_time import LOCAL_ZONE
from fieldapp.records import TABLES
from fieldapp.replica import Replica
from fieldapp.sync.apply import apply_changes
from fieldapp.wire import RecordChange

PASSWORD = "s3cret-pass"
USERS = [
    ("tech01", "王建国", "technician", "秦淮区"),
    ("tech02", "李秀英", "technician", "鼓楼区"),
    ("dispatcher", "赵敏", "dispatcher", None),
    ("supervisor", "马国栋", "supervisor", None),
    ("admin", "孙立", "admin", None),
]


def _at(day_offset: int, hour: int) -> str:
    base = datetime.now(LOCAL_ZONE).replace(hour=hour, minute=0, second=0, microsecond=0)
    return (base + timedelta(days=day_offset)).isoformat()


def rows() -> dict[str, list[dict[str, Any]]]:
    customers = [
        {"id": "cust-1", "account_no": "320100000001", "name": "陈桂芳", "phone": "13912345678",
         "address": "秦淮区 龙蟠中路 218号 金陵小区 3栋 2单元 502室", "district": "秦淮区",
         "lat": 32.02, "lon": 118.80, "kind": "residential", "tags": json.dumps(["独居老人"]),
         "household_size": 1},
        {"id": "cust-2", "account_no": "320100000002", "name": "刘洋", "phone": "13800001111",
         "address": "秦淮区 中华路 12号 5栋 101室", "district": "秦淮区", "lat": 32.02,
         "lon": 118.79, "kind": "residential", "tags": "[]", "household_size": 3},
        {"id": "cust-3", "account_no": "320100000003", "name": "周强", "phone": "13700002222",
         "address": "鼓楼区 湖南路 8号 2栋 301室", "district": "鼓楼区", "lat": 32.07,
         "lon": 118.77, "kind": "residential", "tags": "[]", "household_size": 2},
    ]
    meters = [{"id": f"meter-{i}", "customer_id": f"cust-{i}", "serial": f"S{i:05d}",
               "barcode": f"GM00000000{i:02d}", "model": "G2.5 膜式表",
               "installed_on": "2019-05-01",
               "location": "厨房", "last_reading": 1200.5 + i, "last_read_at": _at(-20, 9)}
              for i in (1, 2, 3)]
    readings = [{"id": f"read-{i}-{m}", "customer_id": f"cust-{i}", "meter_id": f"meter-{i}",
                 "read_at": _at(-30 * m - 1, 9), "value": 1200.5 + i - 20 * m, "source": "billing"}
                for i in (1, 2, 3) for m in range(3)]
    payments = [{"id": f"pay-{i}", "customer_id": f"cust-{i}", "paid_at": _at(-10, 15),
                 "amount": 88.5, "period": "2026-10", "method": "微信"} for i in (1, 2, 3)]
    contracts = [{"id": f"con-{i}", "customer_id": f"cust-{i}", "number": f"HT{i:06d}",
                  "tariff": "居民阶梯", "signed_on": "2019-05-01", "status": "active"}
                 for i in (1, 2, 3)]
    jobs = [
        _job("job-1", 1, "inspection", "cust-1", "tech01", 9, 1),
        _job("job-2", 2, "inspection", "cust-2", "tech01", 11, 2),
        _job("job-3", 3, "repair", "cust-3", "tech02", 10, 1),
        {**_job("job-old", 4, "inspection", "cust-1", "tech02", 9, 1), "due_at": _at(-200, 9),
         "status": "completed"},
    ]
    return {"customers": customers, "meters": meters, "readings": readings,
            "payments": payments, "contracts": contracts, "jobs": jobs}


DISTRICTS = {"cust-1": "秦淮区", "cust-2": "秦淮区", "cust-3": "鼓楼区"}


def _job(job_id: str, n: int, kind: str, customer: str, assignee: str, hour: int,
         route: int) -> dict[str, Any]:
    return {"id": job_id, "number": f"GD2026112400{n:02d}", "kind": kind, "priority": 3,
            "customer_id": customer, "district": DISTRICTS[customer], "due_at": _at(0, hour),
            "assignee": assignee, "required_skill": kind, "status": "dispatched",
            "route_order": route, "summary": "年度入户安检", "created_at": _at(-3, 9)}


def seed_replica(replica: Replica, username: str = "tech01") -> None:
    """Load the world into a replica as a pull would, and sign ``username`` in."""
    changes = [RecordChange(table=t, record_id=r["id"], version=1,
                            row={c: r.get(c) for c in TABLES[t].columns})
               for t, rs in rows().items() for r in rs]
    apply_changes(replica, changes)
    name, role, district = next((n, ro, d) for u, n, ro, d in USERS if u == username)
    replica.set_state("session", json.dumps({"username": username, "display_name": name,
                                             "role": role, "district": district}))


STROKES = [[[0, 0, 0, 0.4], [40, 10, 16, 0.6], [80, 0, 33, 0.5]],
           [[10, 30, 400, 0.5], [70, 35, 420, 0.5]]]


CHECKLIST = ("household_inspection", 1)  # the flat checklist, as a tablet still on v1 fills it


def start_checklist(replica: Replica, job_id: str) -> str:
    """The job's draft, on the flat v1 checklist when it is new (the tablet starts new drafts
    on the newest version; these tests are about what any version goes through)."""
    with replica.transaction():
        existing = replica.forms.for_job(job_id)
        return existing["id"] if existing else replica.submissions.create(job_id, *CHECKLIST)


def checklist_items(replica: Replica) -> list[str]:
    return [i["key"] for i in replica.submissions.definition(*CHECKLIST)["items"]]


def answer_checklist(replica: Replica, job_id: str,
                     failures: dict[str, str] | None = None) -> str:
    """Start the service and answer every v1 checklist item: "pass", except ``failures``
    (item → note). Returns the draft submission's id."""
    replica.jobs.transition(job_id, "accepted")
    replica.jobs.transition(job_id, "in_service")
    sub_id = start_checklist(replica, job_id)
    for key in checklist_items(replica):
        replica.submissions.answer(sub_id, key, "pass")
    for key, note in (failures or {}).items():
        replica.submissions.answer(sub_id, key, "fail", note)
    return sub_id


def complete_inspection(replica: Replica, job_id: str, photo: Path) -> str:
    """Do a whole inspection through the core API (one failed item); returns the submission id."""
    from PIL import Image

    sub_id = answer_checklist(replica, job_id, {"hose_age": "橡胶软管已龟裂"})
    replica.submissions.submit(sub_id)
    Image.new("RGB", (640, 480), (180, 90, 30)).save(photo, quality=90)
    replica.evidence.add_photo(job_id, photo, question="hose_age")
    replica.evidence.add_signature(job_id, STROKES, "陈桂芳")
    replica.jobs.transition(job_id, "completed")
    return sub_id


def inspect_household(replica: Replica, job_id: str, folder: Path,
                      failures: dict[str, str] | None = None) -> str:
    """A whole v2 household inspection through the core API: inspected, meter read and
    photographed, one stove, every item passed but ``failures`` (item → note, each with a
    photo), signed and submitted. Returns the submission id."""
    sub_id = fill_household(replica, job_id, folder, failures)
    replica.evidence.add_signature(job_id, STROKES, "户主")
    replica.forms.submit(sub_id)
    return sub_id


def fill_household(replica: Replica, job_id: str, folder: Path,
                   failures: dict[str, str] | None = None) -> str:
    """The v2 household inspection of ``inspect_household`` filled up to the customer's
    signature (complete, not signed). Returns the draft submission's id."""
    from PIL import Image

    replica.jobs.transition(job_id, "accepted")
    replica.jobs.transition(job_id, "in_service")
    sub_id = replica.forms.start(job_id)
    meter = replica.customers.view360(replica.jobs.get(job_id)["customer_id"])["meters"][0]
    for path, value in [("visit_outcome", "inspected"), ("visit_time", "09:40"),
                        ("meter_barcode", meter["barcode"]),
                        ("meter_reading", meter["last_reading"] + 21.5),
                        ("appliances[0].appliance_kind", "stove"),
                        ("customer_briefed", "yes"), ("signer_name", "户主")]:
        replica.forms.answer(sub_id, path, value)
    for key, note in (failures or {}).items():
        replica.forms.answer(sub_id, key, "fail", note)
    while open_items := [f.path for f in replica.forms.screen(sub_id).fields
                         if f.type == "pass_fail_na" and f.value is None]:
        for path in open_items:
            replica.forms.answer(sub_id, path, "pass")
    for n, question in enumerate(["meter_photo", *(failures or {})]):
        photo = folder / f"{job_id}-{n}.jpg"
        Image.new("RGB", (640, 480), (40 * n % 255, 90, 30)).save(photo, quality=90)
        replica.evidence.add_photo(job_id, photo, question=question)
    return sub_id

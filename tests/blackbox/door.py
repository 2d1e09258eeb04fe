"""Helpers of the black-box suite of the sync door: a plain HTTP caller (never the tablet's
SyncClient), mutation builders with canonical HLCs, the database fingerprint, the extra
seed (tech03…tech20, shared customers, a bill, a help article, a setting) and the tally
of acknowledged, lost, silently overwritten mutations and 5xx answers the suite reports.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import requests

from fieldapp.ids import new_id
from fieldapp.local_time import now_iso
from fieldapp.records import TABLES
from fieldapp.wire import PROTOCOL_VERSION
from sync_server.services import auth
from sync_server.services.records import insert_records
from sync_server.storage.db import open_database
from tests.conftest import ServerProcess, password_hash
from tests.seed_template import SeedTemplate
from tests.world import PASSWORD

# -- the tally ------------------------------------------------------------------------------


@dataclass
class Tally:
    """Counts over the whole run (``TOTAL``) and over one test (``Tally()``)."""

    acknowledged: int = 0
    lost: int = 0
    silent_overwrites: int = 0
    server_errors: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.acknowledged += other.acknowledged
        self.lost += other.lost
        self.silent_overwrites += other.silent_overwrites
        self.server_errors += other.server_errors
        self.notes.extend(other.notes[:20])

    def as_dict(self) -> dict[str, int]:
        return {"acknowledged": self.acknowledged, "lost": self.lost,
                "silent_overwrites": self.silent_overwrites, "5xx": self.server_errors}


TOTAL = Tally()
_lock = threading.Lock()
# The test running now: every answer the helpers see is counted in it (conftest adds it
# to TOTAL when the test ends, pass or fail, so a failing test still shows in the summary).
current = Tally()


def count(**deltas: int) -> None:
    with _lock:
        for name, delta in deltas.items():
            setattr(current, name, getattr(current, name) + delta)


def note(text: str) -> None:
    with _lock:
        current.notes.append(text)


# -- HTTP -----------------------------------------------------------------------------------


def call(server: ServerProcess, method: str, path: str, **kwargs: Any) -> requests.Response:
    """One request; any 5xx answer is counted (the suite asserts there are none)."""
    kwargs.setdefault("timeout", 30)
    resp = requests.request(method, server.url + path, **kwargs)
    if resp.status_code >= 500:
        count(server_errors=1)
        note(f"{resp.status_code} on {method} {path}: {resp.text[:200]}")
    return resp


def login(server: ServerProcess, username: str, device: str) -> dict[str, str]:
    resp = call(server, "POST", "/api/v1/auth/login",
                json={"username": username, "password": PASSWORD, "device_id": device})
    assert resp.status_code == 200, resp.text
    return {"Authorization": "Bearer " + resp.json()["token"]}


@dataclass
class Device:
    """A caller with its own token: ``username`` on device ``device_id``."""

    server: ServerProcess
    username: str
    device_id: str
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def sign_in(cls, server: ServerProcess, username: str, device_id: str | None = None
                ) -> Device:
        device_id = device_id or f"{username}-{new_id()[-12:]}"
        return cls(server, username, device_id, login(server, username, device_id))

    def hlc(self) -> str:
        return hlc(self.device_id)

    def mutation(self, table: str, record_id: str, fields: dict[str, Any],
                 old: dict[str, Any] | None = None, op: str = "update",
                 base_version: int = 0) -> dict[str, Any]:
        return {"mutation_id": new_id(), "table": table, "record_id": record_id, "op": op,
                "fields": fields, "old": old or {}, "base_version": base_version,
                "hlc": self.hlc(), "at": now_iso()}

    def insert(self, table: str, fields: dict[str, Any], record_id: str | None = None
               ) -> dict[str, Any]:
        return self.mutation(table, record_id or new_id(), fields, op="insert")

    def batch(self, mutations: list[dict[str, Any]], batch_id: str | None = None
              ) -> dict[str, Any]:
        return {"protocol": PROTOCOL_VERSION, "schema_version": 1, "device_id": self.device_id,
                "batch_id": batch_id or new_id(), "mutations": mutations}

    def push(self, mutations: list[dict[str, Any]], batch_id: str | None = None,
             timeout: float = 30) -> requests.Response:
        return self.push_body(self.batch(mutations, batch_id), timeout=timeout)

    def push_body(self, body: dict[str, Any], timeout: float = 30) -> requests.Response:
        resp = self.push_raw(json.dumps(body, ensure_ascii=False).encode(), timeout=timeout)
        if resp.status_code == 200 and not resp.json().get("replayed"):
            count(acknowledged=len(resp.json()["results"]))
        return resp

    def push_raw(self, data: bytes, headers: dict[str, str] | None = None,
                 timeout: float = 30) -> requests.Response:
        return call(self.server, "POST", "/api/v1/sync/push", data=data, timeout=timeout,
                    headers={**self.headers, "Content-Type": "application/json",
                             **(headers or {})})

    def pull_all(self, cursor: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Every change after ``cursor``, page by page; returns (changes, new cursor)."""
        changes: list[dict[str, Any]] = []
        while True:
            resp = call(self.server, "GET", "/api/v1/sync/pull", headers=self.headers,
                        params={"cursor": cursor, "limit": 1000})
            assert resp.status_code == 200, resp.text
            page = resp.json()
            changes.extend(page["changes"])
            cursor = page["cursor"]
            if not page["more"]:
                return changes, cursor


_counter = itertools.count()


def hlc(node: str, wall_ms: int | None = None) -> str:
    """A canonical HLC of ``node``: ``{wall_ms:018d}:{counter:05d}:{node}``, increasing."""
    wall = wall_ms if wall_ms is not None else int(time.time() * 1000)
    return f"{wall:018d}:{next(_counter) % 100000:05d}:{node}"


def results(resp: requests.Response) -> dict[str, dict[str, Any]]:
    """A push answer's results by mutation id."""
    assert resp.status_code == 200, resp.text
    return {r["mutation_id"]: r for r in resp.json()["results"]}


def refusal(resp: requests.Response) -> tuple[int, str | None]:
    """(HTTP status, the body's ``error`` code or None): what a batch-level refusal says."""
    try:
        body = resp.json()
    except ValueError:
        return resp.status_code, None
    return resp.status_code, body.get("error") if isinstance(body, dict) else None


def office_assign(server: ServerProcess, office: dict[str, str], job_id: str,
                  username: str) -> requests.Response:
    return call(server, "POST", f"/api/v1/office/jobs/{job_id}/assign", headers=office,
                json={"username": username})


def kill_hard(server: ServerProcess) -> None:
    """SIGKILL the server and its worker processes: the crash of the machine."""
    server.kill()


# -- the database ---------------------------------------------------------------------------

def fingerprint(server: ServerProcess) -> dict[str, str]:
    """A hash of every synced table's rows (``fieldapp.records.TABLES``), by table."""
    out = {}
    for table in TABLES:
        rows = server.query(f'SELECT * FROM "{table}" ORDER BY id')
        text = json.dumps(rows, sort_keys=True, default=str, ensure_ascii=False)
        out[table] = hashlib.sha256(text.encode()).hexdigest()
    return out


def row(server: ServerProcess, table: str, record_id: str) -> dict[str, Any] | None:
    found = server.query(f'SELECT * FROM "{table}" WHERE id = ?', [record_id])
    return found[0] if found else None


def conflicts_of(server: ServerProcess, mutation_id: str) -> list[dict[str, Any]]:
    return server.query("SELECT * FROM conflicts WHERE mutation_id = ?", [mutation_id])


def _loads(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return text


def kept_in_conflicts(server: ServerProcess, table: str, record_id: str, field_name: str | None,
                      value: Any, cache: dict | None = None) -> bool:
    """Is ``value`` of that field (or the whole record, field None) stored in conflicts?
    ``cache`` keeps each record's conflicts read once (the fleet checks thousands)."""
    key = (table, record_id)
    if cache is None or key not in cache:
        found = server.query("SELECT field, preserved, kept FROM conflicts WHERE tbl = ?"
                             " AND record_id = ?", [table, record_id])
        if cache is None:
            cache = {}
        cache[key] = found
    for c in cache[key]:
        preserved = _loads(c["preserved"])
        if c["field"] == field_name and (preserved == value or _loads(c["kept"]) == value):
            return True
        if c["field"] is None and isinstance(preserved, dict):
            # a whole mutation kept: {"op": ..., "fields": {...}}, or a record's fields
            fields = preserved.get("fields", preserved)
            if isinstance(fields, dict) and field_name in fields \
                    and fields[field_name] == value:
                return True
    return False


def same(a: Any, b: Any) -> bool:
    """Equal as stored: numbers compare as numbers (REAL 1 == 1.0), the rest exactly."""
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return float(a) == float(b)
    return a == b


def account(server: ServerProcess, acked: Iterable[tuple[str, dict[str, Any], dict[str, Any]]]
            ) -> Tally:
    """Check each acknowledged mutation (device, mutation, result): its values are in the
    database, or kept in conflicts. A value found in neither is lost, or silently
    overwritten when a later change by another device replaced it."""
    tally = Tally()
    acked = list(acked)
    later: dict[tuple[str, str, str, str], int] = {}  # (device, table, id, field) → last index
    for i, (device, m, _) in enumerate(acked):
        for f in m["fields"]:
            later[(device, m["table"], m["record_id"], f)] = i
    rows: dict[tuple[str, str], Any] = {}
    conflicts: dict[tuple[str, str], list] = {}
    for i, (device, m, result) in enumerate(acked):
        tally.acknowledged += 1
        key = (m["table"], m["record_id"])
        if key not in rows:
            rows[key] = row(server, *key) if m["table"] in TABLES else None
        stored = rows[key]
        for f, value in m["fields"].items():
            if later[(device, m["table"], m["record_id"], f)] != i:
                continue  # the same device changed the field again afterwards
            if stored is not None and f in stored and same(stored[f], value):
                continue
            if kept_in_conflicts(server, m["table"], m["record_id"], f, value, conflicts):
                continue
            if f in ("by_user", "device_id"):
                continue  # set by the server from the token, whatever was sent
            replaced = server.query(
                "SELECT 1 FROM changes WHERE tbl = ? AND record_id = ? AND device_id != ?"
                " AND fields LIKE ? AND mutation_id IS NOT NULL LIMIT 1",
                [m["table"], m["record_id"], device, f'%"{f}"%'])
            seen = any(d != device and n["table"] == m["table"]
                       and n["record_id"] == m["record_id"] and f in n["fields"]
                       and same(n["old"].get(f), value) for d, n, _ in acked)
            if seen:
                continue  # replaced by a device that had it: an edit, not an overwrite
            if result["status"] in ("applied", "merged") and replaced:
                tally.silent_overwrites += 1
                tally.notes.append(f"overwritten: {m['table']}.{f} of {m['record_id']}"
                                   f" = {value!r} by {device}")
            else:
                tally.lost += 1
                tally.notes.append(f"lost ({result['status']} {result.get('reason')}):"
                                   f" {m['table']}.{f} of {m['record_id']} = {value!r}")
            break  # one count per mutation
    return tally


def record_account(tally: Tally) -> None:
    """Add what ``account`` found to the running test's tally (acknowledged is counted by
    the pushes themselves)."""
    count(lost=tally.lost, silent_overwrites=tally.silent_overwrites)
    for text in tally.notes[:20]:
        note(text)


# -- the seed -------------------------------------------------------------------------------

FLEET = [f"tech{n:02d}" for n in range(1, 21)]
SHARED = ("cust-s1", "cust-s2", "cust-s3")  # customers with jobs for several technicians
BILL, ARTICLE, SETTING = "bill-1", "kb-1", "utility_name"


def shared_techs(customer: str) -> list[str]:
    """The technicians with a job at a shared customer: s1 → tech03…tech08, and so on."""
    k = SHARED.index(customer)
    return FLEET[2 + 6 * k: 8 + 6 * k]


def seed_blackbox(server: ServerProcess) -> None:
    """The test world, plus tech03…tech20 with a customer and a job each, three customers
    shared by six technicians each, a bill, a help article and a setting. Seeded once per
    run (23 password hashes take seconds), then copied (tests/seed_template.py)."""
    BLACKBOX.apply(server)


def drop_templates() -> None:
    """At the end of the run: the seeded copies go."""
    BLACKBOX.drop()


def _seed(server: ServerProcess) -> None:
    server.seed_world()
    db = open_database(server.data_dir, server.database_url)
    today = now_iso()[:10]
    try:
        with db.write() as conn:
            for n, user in enumerate(FLEET[2:], start=3):
                auth.add_user(conn, user, f"安检员{n}", "technician", PASSWORD,
                              "秦淮区" if n % 2 else "鼓楼区", ["inspection"],
                              password_hash=password_hash())
            customers, jobs = [], []
            for n, user in enumerate(FLEET, start=1):
                cid = f"cust-f{n}"
                customers.append(_customer(cid, 900 + n, "秦淮区"))
                jobs.append(_job(f"job-f{n}", 100 + n, cid, user, today))
            for k, cid in enumerate(SHARED):
                customers.append(_customer(cid, 800 + k, "秦淮区"))
                jobs += [_job(f"job-{cid}-{u}", 200 + 10 * k + i, cid, u, today)
                         for i, u in enumerate(shared_techs(cid))]
            insert_records(conn, "customers", customers)
            insert_records(conn, "jobs", jobs)
            insert_records(conn, "bills", [{
                "id": BILL, "customer_id": "cust-1", "meter_id": "meter-1",
                "period_start": "2026-10-01", "period_end": "2026-10-31",
                "previous_value": 1180.5, "current_value": 1201.5, "volume": "21.0",
                "amount_cents": 6132, "lines": "[]", "issued_at": now_iso(),
                "due_on": "2026-12-15", "status": "unpaid", "paid_at": None}])
            insert_records(conn, "kb_articles", [{"id": ARTICLE, "title": "燃气泄漏应急处置",
                                                  "category": "安全", "body": "关阀、开窗、撤离",
                                                  "tags": "[]"}])
            insert_records(conn, "org_settings", [{"id": SETTING, "value": "金陵燃气"}])
    finally:
        db.close()


BLACKBOX = SeedTemplate("bb", _seed)


def _customer(cid: str, n: int, district: str) -> dict[str, Any]:
    return {"id": cid, "account_no": f"3201000{n:05d}", "name": f"用户{n}",
            "phone": f"139{n:08d}", "address": f"{district} 测试路 {n}号", "district": district,
            "lat": 32.0, "lon": 118.8, "kind": "residential", "tags": "[]", "household_size": 2}


def _job(job_id: str, n: int, customer: str, assignee: str, today: str) -> dict[str, Any]:
    return {"id": job_id, "number": f"GD20261124{n:04d}", "kind": "inspection", "priority": 3,
            "customer_id": customer, "district": "秦淮区", "due_at": f"{today}T15:00:00+08:00",
            "assignee": assignee, "required_skill": "inspection", "status": "dispatched",
            "route_order": 1, "summary": "年度入户安检", "created_at": now_iso()}


# -- records a technician's tablet makes ----------------------------------------------------


def submission(dev: Device, job_id: str, customer_id: str) -> dict[str, Any]:
    return dev.insert("submissions", {
        "job_id": job_id, "customer_id": customer_id, "form_code": "household_inspection",
        "form_version": 1, "state": "draft", "started_at": now_iso(), "submitted_at": None,
        "by_user": dev.username, "device_id": dev.device_id})


def answer(dev: Device, sub: dict[str, Any], question: str, value: str = "pass",
           note_text: str | None = None) -> dict[str, Any]:
    f = sub["fields"]
    return dev.insert("answers", {
        "submission_id": sub["record_id"], "job_id": f["job_id"],
        "customer_id": f["customer_id"], "question": question, "value": json.dumps(value),
        "note": note_text, "answered_at": now_iso(), "by_user": dev.username,
        "device_id": dev.device_id})


QUESTIONS = ("leak_test_joints", "meter_condition")


def note_on(dev: Device, job_id: str, customer_id: str, text: str) -> dict[str, Any]:
    return dev.insert("interactions", {"job_id": job_id, "customer_id": customer_id,
                                       "kind": "note", "text": text, "at": now_iso(),
                                       "by_user": dev.username, "device_id": dev.device_id})


def reading(dev: Device, customer_id: str, meter_id: str, value: float) -> dict[str, Any]:
    return dev.insert("readings", {"customer_id": customer_id, "meter_id": meter_id,
                                   "read_at": now_iso(), "value": value, "source": "technician"})


def hazard(dev: Device, sub: dict[str, Any], question: str) -> dict[str, Any]:
    f = sub["fields"]
    return dev.insert("hazards", {
        "job_id": f["job_id"], "customer_id": f["customer_id"],
        "submission_id": sub["record_id"], "notice_id": None, "question": question,
        "label": "接口处漏气", "level": "critical", "deadline_days": 1, "due_at": now_iso(),
        "note": "接口处肥皂水起泡", "status": "open", "check_job_id": None,
        "found_at": now_iso(), "by_user": dev.username, "device_id": dev.device_id})

"""The write policy as a matrix: role × table × op × door × district, derived from
``fieldapp.write_policy`` and from ``fieldapp.records.TABLES``, so a new table or role fails
here until someone declares who may touch it.

The device door is driven over HTTP against a real server (each role logged in from a
tablet of its own, every table and op in one batch); the office door through the merge the
office services call, on the same storage. "Refused" means the mutation's reason is
``forbidden`` (an auditor's push is refused whole, before its body is read); "allowed" means
it got past the rights check (it may still be parked, or refused for its content).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from fieldapp import field_types
from fieldapp.domain.roles import ROLES
from fieldapp.ids import new_id
from fieldapp.local_time import now_iso
from fieldapp.records import TABLES
from fieldapp.wire import Mutation
from fieldapp.write_policy import AUTHORSHIP, OPS, POLICY, Door, grant_for
from sync_server.services import auth
from sync_server.services.auth import Principal
from sync_server.storage.db import Storage, open_database
from sync_server.sync import merge
from tests.conftest import ServerProcess
from tests.server.test_sync_api import login, mutation, push
from tests.world import PASSWORD

# A record of each table in 秦淮区 (cust-1) and in 鼓楼区 (cust-3), where the world has one.
EXISTING = {"customers": ("cust-1", "cust-3"), "meters": ("meter-1", "meter-3"),
            "readings": ("read-1-0", "read-3-0"), "contracts": ("con-1", "con-3"),
            "payments": ("pay-1", "pay-3"), "jobs": ("job-1", "job-3")}
HOME, AWAY = "秦淮区", "鼓楼区"
PLAIN = {"TEXT": "x", "INTEGER": 1, "REAL": 1.0}


def sample(table: str, district: str = HOME) -> dict[str, Any]:
    """Every field of ``table`` with a value of its declared type, in ``district``."""
    customer, job = ("cust-1", "job-1") if district == HOME else ("cust-3", "job-3")
    out: dict[str, Any] = {}
    for name, kind in field_types.field_types()[table].items():
        choices = field_types.CHOICES.get((table, name))
        low, _ = field_types.RANGES.get((table, name), (1, 1))
        if choices:
            value: Any = sorted(choices)[0]
        elif (table, name) in field_types.JSON_FIELDS:
            value = "[]"
        elif name.endswith("_at") or name == "at":
            value = now_iso()
        elif name.endswith("_on"):
            value = "2026-01-01"
        elif kind.storage == "TEXT":
            value = new_id() if name == "account_no" else "x"
        else:
            value = max(low, 1) if kind.storage == "INTEGER" else float(max(low, 1))
        out[name] = value
    out |= {k: v for k, v in {"customer_id": customer, "job_id": job, "district": district,
                              "meter_id": "meter-1" if district == HOME else "meter-3",
                              "kind": "rectification_check" if table == "jobs" else None,
                              "status": "dispatched" if table == "jobs" else None,
                              "assignee": "tech01" if table == "jobs" else None,
                              "state": "requested" if table == "part_requests" else None,
                              }.items() if k in out and v is not None}
    for name in ("submission_id", "attachment_id", "notice_id", "check_job_id", "reading_id",
                 "matched_customer_id", "decided_at", "decided_by"):  # a request undecided
        if name in out and not field_types.field_types()[table][name].required:
            out[name] = None
    return out


def update_field(table: str) -> str:
    """A field to change in an update: the first that is not a link or an author."""
    skip = field_types.ID_FIELDS | {"district", "status", "kind"}
    return next(c for c in TABLES[table].columns if c not in skip)


def cases(district: str = HOME) -> list[tuple[str, str, dict[str, Any], str]]:
    """(table, op, fields, record id) for every table and op."""
    out = []
    for table in TABLES:
        fields = sample(table, district)
        existing = EXISTING.get(table, (new_id(), new_id()))[0 if district == HOME else 1]
        name = update_field(table)
        out += [(table, "insert", fields, new_id()),
                (table, "update", {name: fields[name]}, existing),
                (table, "delete", {}, existing)]
    return out


def test_every_table_and_role_is_declared():
    assert set(POLICY) == set(TABLES)
    for table, grants in POLICY.items():
        assert set(grants) <= set(ROLES), table
        assert "auditor" not in grants, f"an auditor writes nothing, yet {table} grants one"
        for role, role_grants in grants.items():
            for grant in role_grants:
                assert grant.ops <= set(OPS) and grant.fields is None or (
                    grant.fields <= set(TABLES[table].columns)), (table, role)
                if grant.door is Door.DEVICE:
                    assert role == "technician", f"only a tablet's technician pushes {table}"


@pytest.fixture
def staffed(server: ServerProcess) -> ServerProcess:
    """The world, plus an account of each office role limited to 秦淮区."""
    db = open_database(server.data_dir, server.database_url)
    try:
        with db.write() as conn:
            auth.add_user(conn, "auditor", "审计", "auditor", PASSWORD)
            for role in ("dispatcher", "supervisor"):
                auth.add_user(conn, f"{role}-qh", "秦淮", role, PASSWORD, HOME)
    finally:
        db.close()
    return server


@pytest.mark.parametrize("role", ["technician", "dispatcher", "supervisor", "admin"])
def test_the_device_door_grants_exactly_what_is_declared(staffed: ServerProcess, role: str):
    username = {"technician": "tech01"}.get(role, role)
    device = f"pad-{role}"
    headers = login(staffed, username, device)
    sent = [mutation(t, record, fields, op=op, base_version=0)
            for t, op, fields, record in cases()]
    results = push(staffed, headers, device, sent).json()["results"]
    assert len(results) == len(sent)
    for (table, op, fields, _), result in zip(cases(), results, strict=True):
        refused = result["reason"] == "forbidden"
        granted = grant_for(role, table, op, set(fields) - AUTHORSHIP, Door.DEVICE)
        assert refused != bool(granted), (role, table, op, result)
        assert result["reason"] != "invalid_value", (table, op, result)  # the sample fits
    # Nothing the door refused is lost: each refusal is kept with its reason.
    kept = staffed.scalar("SELECT count(*) FROM conflicts WHERE reason = 'forbidden'"
                          " AND preserved_by = ?", [username])
    assert kept == sum(r["reason"] == "forbidden" for r in results)


def test_an_auditor_pushes_nothing(staffed: ServerProcess):
    headers = login(staffed, "auditor", "pad-auditor")
    resp = push(staffed, headers, "pad-auditor", [mutation("jobs", "job-1",
                                                            {"status": "accepted"})])
    assert (resp.status_code, resp.json()["error"]) == (403, "read_only")


class _Undo(Exception):
    """Rolls a matrix cell's write back, so each cell starts from the same world."""


def office(db: Storage, username: str, table: str, op: str, fields: dict[str, Any],
           record: str) -> dict[str, Any]:
    """One office-door write as ``username``, rolled back; the merge's result."""
    result: dict[str, Any] = {}
    try:
        with db.write() as conn:
            row = conn.execute("SELECT * FROM users WHERE username = ?", [username]).fetchone()
            who = (Principal(row["username"], row["display_name"], row["role"],
                             row["district"], "office-" + username) if row else
                   Principal("system", "系统", "system", None, "server"))
            m = Mutation(mutation_id=new_id(), table=table, record_id=record, op=op,
                         fields=fields, old={}, base_version=0,
                         hlc=f"{10**15:018d}:00000:server", at=now_iso())
            result = merge.apply_mutation(conn, m, who, "matrix", door=Door.OFFICE).model_dump()
            raise _Undo
    except _Undo:
        return result


@pytest.fixture
def office_db(staffed: ServerProcess) -> Iterator[Storage]:
    db = open_database(staffed.data_dir, staffed.database_url)
    yield db
    db.close()


OFFICE_USERS = {"technician": "tech01", "dispatcher": "dispatcher-qh",
                "supervisor": "supervisor-qh", "admin": "admin", "auditor": "auditor",
                "system": "(system)"}


@pytest.mark.parametrize("role", list(OFFICE_USERS))
def test_the_office_door_grants_what_is_declared_within_the_district(office_db: Storage,
                                                                    role: str):
    username = OFFICE_USERS[role]
    scoped = role in ("dispatcher", "supervisor")
    for district in (HOME, AWAY):
        for table, op, fields, record in cases(district):
            result = office(office_db, username, table, op, fields, record)
            granted = bool(grant_for(role, table, op, set(fields), Door.OFFICE))
            assert (result["reason"] == "forbidden") != granted, (role, table, op, result)
            if not granted:
                continue
            assert result["reason"] != "invalid_value", (table, op, result)
            # A district-scoped account is refused another district's records, and its
            # own district's are not refused for their district.
            decided = op == "insert" or table in EXISTING
            if scoped and decided and (district == AWAY or not TABLES[table].scoped):
                assert result["reason"] == "out_of_district", (role, table, op, result)
            else:
                assert result["reason"] != "out_of_district", (role, table, op, result)


def test_a_technician_cannot_reach_the_office_door_by_http(staffed: ServerProcess):
    """Office services answer only office sessions and tokens: a tablet's token gets 403
    on the office API, so the office door's grants are not a technician's."""
    headers = login(staffed, "tech01", "pad-9")
    resp = requests.post(staffed.url + "/api/v1/office/jobs/job-1/assign", headers=headers,
                         json={"assignee": "tech01"}, timeout=10)
    assert resp.status_code == 403

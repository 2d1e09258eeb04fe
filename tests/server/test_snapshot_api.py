"""The snapshot door (/api/v1/sync/snapshot) as an attacker meets it: a plain HTTP client
against the real server. Without a valid token of a device in good standing it answers
nothing; a technician gets their own scope and no other; bad parameters are a clear 4xx."""

from __future__ import annotations

import json

import pytest
import requests

from fieldapp.wire import PROTOCOL_VERSION
from tests.conftest import ServerProcess
from tests.server.test_sync_api import login
from tests.sync.test_remote_wipe import revoke

SNAPSHOT = "/api/v1/sync/snapshot"


def get(server: ServerProcess, headers: dict[str, str] | None = None,
        **params: object) -> requests.Response:
    return requests.get(server.url + SNAPSHOT, headers=headers or {}, params=params, timeout=30)


def rows(body: dict, table: str) -> list[dict]:
    found = next(t for t in body["tables"] if t["table"] == table)
    return [dict(zip(found["columns"], row, strict=True)) for row in found["rows"]]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer made-up"},
                                     {"Authorization": "Basic dGVjaDAxOnMzY3JldA=="},
                                     {"Authorization": "Bearer "}])
def test_no_valid_token_no_snapshot(server: ServerProcess, headers: dict[str, str]):
    resp = get(server, headers)
    assert resp.status_code == 401
    assert resp.json()["error"] in {"missing_token", "invalid_token"}


def test_an_expired_token_is_refused(server: ServerProcess):
    headers = login(server, "tech01", "pad-1")
    server.query("UPDATE devices SET expires_at = '2000-01-01T00:00:00+00:00'"
                 " WHERE device_id = 'pad-1' RETURNING device_id")
    resp = get(server, headers)
    assert resp.status_code == 401 and resp.json()["error"] == "token_expired"


def test_a_revoked_device_gets_nothing(server: ServerProcess):
    headers = login(server, "tech01", "pad-1")
    revoke(server, "pad-1")
    resp = get(server, headers)
    assert resp.status_code == 401 and resp.json()["error"] == "device_revoked"
    assert "cust-1" not in resp.text


def test_a_technician_gets_their_scope_and_no_other_districts(server: ServerProcess):
    body = get(server, login(server, "tech02", "pad-2")).json()
    # tech02 (鼓楼区) has job-3 at cust-3 and the past job-old at cust-1: that customer's
    # history, never cust-2 (秦淮区, another technician's only)
    assert {r["id"] for r in rows(body, "customers")} == {"cust-1", "cust-3"}
    assert all(r["customer_id"] in {"cust-1", "cust-3"} for table in
               ("meters", "readings", "payments", "contracts", "jobs") for r in rows(body, table))
    assert "cust-2" not in get(server, login(server, "tech02", "pad-2")).text
    assert body["cursor"] == server.scalar("SELECT max(seq) FROM changes")
    assert rows(body, "form_definitions")  # the global tables come whole


def test_an_office_account_is_told_to_pull_by_cursor(server: ServerProcess):
    resp = get(server, login(server, "dispatcher", "office-1"))
    assert resp.status_code == 409 and resp.json()["error"] == "snapshot_unavailable"


@pytest.mark.parametrize("params", [{"format": 0}, {"format": 3}, {"format": "abc"},
                                    {"format": 2**70}, {"format": ""}, {"format": "1.5"},
                                    {"format": "-1"}])
def test_bad_parameters_are_a_clear_4xx(server: ServerProcess, params: dict):
    resp = get(server, login(server, "tech01", "pad-1"), **params)
    assert resp.status_code == 422
    assert resp.json()["error"] == "malformed_request" and resp.json()["message"]


def test_an_old_protocol_is_told_to_update(server: ServerProcess):
    headers = {**login(server, "tech01", "pad-1"), "X-FieldApp-Protocol": "0"}
    resp = get(server, headers)
    assert resp.status_code == 426 and resp.json()["error"] == "client_outdated"


def test_other_methods_are_refused(server: ServerProcess):
    headers = login(server, "tech01", "pad-1")
    for method in ("POST", "PUT", "DELETE"):
        resp = requests.request(method, server.url + SNAPSHOT, headers=headers, timeout=10)
        assert resp.status_code == 405, method
    assert get(server, {**headers, "X-FieldApp-Protocol": str(PROTOCOL_VERSION)}).ok


def test_the_streamed_layout_holds_what_the_document_does(server: ServerProcess):
    """Layout 2 (JSON lines) has the records of layout 1, which tablets of the previous
    release still ask for, with the header's count and an end line."""
    headers = login(server, "tech02", "pad-2")
    whole = get(server, headers).json()
    resp = get(server, headers, format=2)
    assert resp.headers["content-type"].startswith("application/jsonl")
    head, *lines = [json.loads(line) for line in resp.content.splitlines()]
    assert lines[-1] == {"end": True}
    assert (head["format"], head["cursor"], head["epoch"]) == (2, whole["cursor"],
                                                               whole["epoch"])
    streamed: dict[str, list] = {}
    for line in lines[:-1]:
        assert line["columns"] == next(t["columns"] for t in whole["tables"]
                                       if t["table"] == line["table"])
        streamed.setdefault(line["table"], []).extend(line["rows"])
    assert head["rows"] == sum(len(r) for r in streamed.values())
    assert streamed == {t["table"]: t["rows"] for t in whole["tables"] if t["rows"]}
    assert "cust-2" not in resp.text

"""Hostile and broken input over real HTTP: each gets a clear 4xx in words, and nothing of it
is stored — oversized bodies and chunks, deeply nested JSON, huge strings, wrong content
types, invalid UTF-8, names that try to leave the attachment folder, SQL-looking text.

(Uploaded files are stored by hash and never decoded when received; image bombs are refused
on the tablet, where photos are decoded (tests/capture/test_photo.py), and printed as a
placeholder in the office's PDFs (tests/server/test_office_documents.py).)"""

from __future__ import annotations

import json

import pytest
import requests

from fieldapp.local_time import now_iso
from tests.conftest import ServerProcess
from tests.server.test_sync_api import login, mutation, push
from tests.world import PASSWORD

PUSH = "/api/v1/sync/push"


def body(mutations: list[dict], batch: str = "hostile-1") -> dict:
    return {"protocol": 1, "schema_version": 1, "device_id": "pad-1", "batch_id": batch,
            "mutations": mutations}


def nothing_stored(server: ServerProcess) -> None:
    assert server.scalar("SELECT count(*) FROM batches") == 0
    assert server.scalar("SELECT count(*) FROM changes WHERE by_user = 'tech01'") == 0


def test_an_oversized_push_is_refused_before_it_is_read(server: ServerProcess) -> None:
    tech = login(server, "tech01", "pad-1")
    huge = json.dumps(body([mutation("jobs", "job-1", {"summary": "x" * (9 * 1024 * 1024)})]))
    resp = requests.post(server.url + PUSH, data=huge, timeout=60,
                         headers={**tech, "Content-Type": "application/json"})
    assert resp.status_code == 413 and resp.json()["error"] == "body_too_large"
    nothing_stored(server)


def test_an_oversized_chunk_is_refused_and_nothing_kept(server: ServerProcess) -> None:
    tech = login(server, "tech01", "pad-1")
    name = "a" * 64
    resp = requests.put(f"{server.url}/api/v1/attachments/{name}", data=b"x" * (3 << 20),
                        params={"offset": 0, "total": 3 << 20}, headers=tech, timeout=60)
    assert resp.status_code == 413
    status = requests.get(f"{server.url}/api/v1/attachments/{name}", headers=tech,
                          timeout=10).json()
    assert (status["size"], status["complete"]) == (0, False)


@pytest.mark.parametrize(("raw", "content_type"), [
    (b"[" * 100_000 + b"]" * 100_000, "application/json"),  # nesting past any parser's stack
    (b'{"protocol": 1, "device_id": "\xff\xfe"}', "application/json"),  # not UTF-8
    (json.dumps(body([])).encode(), "text/plain"),  # JSON, but not said to be
])
def test_malformed_bodies_get_a_4xx_in_words(server: ServerProcess, raw: bytes,
                                             content_type: str) -> None:
    tech = login(server, "tech01", "pad-1")
    resp = requests.post(server.url + PUSH, data=raw, timeout=30,
                         headers={**tech, "Content-Type": content_type})
    assert 400 <= resp.status_code < 500, resp.text[:200]
    assert resp.json()["message"]
    nothing_stored(server)


def test_a_huge_string_in_a_field_is_refused_alone(
        server: ServerProcess) -> None:
    tech = login(server, "tech01", "pad-1")
    resp = push(server, tech, "pad-1", [
        mutation("jobs", "job-1", {"status": "accepted"}, {"status": "dispatched"}),
        mutation("scans", "scan-big", {"job_id": "job-1", "customer_id": "cust-1",
                                       "code": "9" * 300_000, "source": "manual"},
                 op="insert")])
    assert resp.status_code == 200
    [refused] = [r for r in resp.json()["results"] if r["status"] == "rejected"]
    assert refused["reason"] == "invalid_value" and "scans.code" in refused["message"]
    assert server.scalar("SELECT count(*) FROM scans WHERE id = 'scan-big'") == 0
    assert server.scalar("SELECT status FROM jobs WHERE id = 'job-1'") == "accepted"


@pytest.mark.parametrize("name", ["..%2F..%2Fetc%2Fpasswd", "A" * 64, "a" * 63, "g" * 64,
                                  "a" * 64 + "%00"])
def test_attachment_names_cannot_leave_the_store(server: ServerProcess, name: str) -> None:
    tech = login(server, "tech01", "pad-1")
    resp = requests.put(f"{server.url}/api/v1/attachments/{name}", data=b"x",
                        params={"offset": 0, "total": 1}, headers=tech, timeout=10)
    assert resp.status_code in (400, 404), resp.text[:200]
    assert not list(server.data_dir.glob("**/passwd"))


def test_sql_looking_text_is_just_text(server: ServerProcess) -> None:
    tech = login(server, "tech01", "pad-1")
    evil = "13900000000'; DROP TABLE customers; --"
    resp = push(server, tech, "pad-1", [mutation("interactions", "note-1", {
        "job_id": "job-1", "customer_id": "cust-1", "kind": "note", "text": evil,
        "at": now_iso()}, op="insert")])
    assert resp.json()["results"][0]["status"] == "applied"
    assert server.scalar("SELECT text FROM interactions WHERE id = 'note-1'") == evil
    assert server.scalar("SELECT count(*) FROM customers") == 3
    office = requests.post(server.url + "/api/v1/auth/login", timeout=10, json={
        "username": "' OR '1'='1", "password": PASSWORD, "device_id": "x"})
    assert office.status_code == 401


def test_no_page_loads_scripts_from_elsewhere_but_the_schema_is_served(
        server: ServerProcess) -> None:
    # Swagger UI and ReDoc pull their scripts from a CDN into the office's origin: not served.
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        gone = requests.get(server.url + path, timeout=10)
        assert gone.status_code == 404, path
        assert "cdn" not in gone.text.lower()
    schema = requests.get(server.url + "/openapi.json", timeout=10)
    assert schema.status_code == 200
    assert "/api/v1/sync/push" in schema.json()["paths"]

"""The HTTP API fuzzed against its own OpenAPI schema (schemathesis): whatever is sent —
valid by the schema or not — the server answers without a 5xx and never keeps part of a
batch. Data the schema allows and data it does not are both sent. Bounded so CI stays
quick: a few dozen derandomised examples per operation and kind, against one real server."""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.strategies import just
from schemathesis.generation import GenerationMode

from sync_server.app import create_app
from sync_server.config import Settings
from tests.conftest import ServerProcess
from tests.server.test_sync_api import login

EXAMPLES = 30


def operations(tmp: str) -> list:
    from pathlib import Path

    app = create_app(Settings(data_dir=Path(tmp), alert_scan=None, database_url=None))
    return [result.ok() for result in
            schemathesis.openapi.from_dict(app.openapi()).get_all_operations()]


def test_no_server_errors_and_no_partial_batches(server: ServerProcess, tmp_path) -> None:
    tokens = {u: login(server, u, f"fuzz-{u}") for u in ("tech01", "dispatcher")}
    found = operations(str(tmp_path / "schema"))
    assert len(found) >= 10
    failures: list[str] = []
    for operation, mode in [(o, m) for o in found for m in GenerationMode]:
        headers = tokens["dispatcher" if operation.path.startswith("/api/v1/office")
                         else "tech01"]

        @given(case=operation.as_strategy(generation_mode=mode), headers=just(headers))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def probe(case, headers: dict) -> None:
            batches = server.scalar("SELECT count(*) FROM batches")
            try:
                response = case.call(base_url=server.url, headers=headers, timeout=30)
            except requests.ConnectionError as exc:
                pytest.fail(f"{case.method} {case.path}: connection lost: {exc}")
            assert response.status_code < 500, (case.method, case.path,
                                                 response.text[:300])
            if case.path == "/api/v1/sync/push" and response.status_code != 200:
                assert server.scalar("SELECT count(*) FROM batches") == batches

        try:
            probe()
        except Unsatisfiable:
            continue  # nothing to get wrong (no parameters to break): nothing to send
        except AssertionError as exc:
            failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}):"
                            f" {exc}")
    assert failures == []


def test_a_nul_character_is_refused_in_words_and_changes_nothing(server: ServerProcess) -> None:
    """The fuzzer's find: a NUL in a job's customer reached PostgreSQL, which cannot hold
    it in text, and the office API answered 500. Now a refusal that names the value (on
    SQLite no customer has such a number: refused as unknown), and no job is made."""
    headers = login(server, "dispatcher", "fuzz-nul")
    jobs = server.scalar("SELECT count(*) FROM jobs")
    resp = requests.post(server.url + "/api/v1/office/jobs", headers=headers, timeout=10,
                         json={"kind": "repair", "customer": "3201\u00000001",
                               "due_at": "2026-12-10T09:00:00+08:00"})
    assert resp.status_code in (400, 422), resp.text
    assert resp.json()["error"] in ("unstorable_value", "invalid_job"), resp.text
    assert "NUL" in resp.json()["message"] or "客户" in resp.json()["message"], resp.text
    assert server.scalar("SELECT count(*) FROM jobs") == jobs

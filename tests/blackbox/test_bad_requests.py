"""Hostile requests refused as a whole: non-canonical HLCs, malformed JSON and headers,
bad query parameters on pull and attachments. Each gets a clear 4xx with its code, never
a 5xx, and changes no synced table (and records no batch)."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from fieldapp.wire import MAX_BATCH, PROTOCOL_VERSION
from tests.blackbox import door
from tests.blackbox.door import Device, note_on
from tests.conftest import ServerProcess


@dataclass
class Request:
    method: str
    path: str
    data: bytes | None = None
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    token: bool = True  # send the device's bearer token


@pytest.fixture(scope="module")
def dev(shared_server: ServerProcess) -> Device:
    return Device.sign_in(shared_server, "tech01")


def _body(dev: Device, **changes: Any) -> dict[str, Any]:
    body = dev.batch([note_on(dev, "job-1", "cust-1", "备注")])
    body.update(changes)
    return body


def _push(body: Any, **headers: str) -> Any:
    """A push of ``body`` (an object, serialized with NaN allowed, or raw bytes)."""
    def build(dev: Device) -> Request:
        data = body(dev) if callable(body) else body
        if not isinstance(data, bytes):
            data = json.dumps(data, ensure_ascii=False).encode()
        return Request("POST", "/api/v1/sync/push", data,
                       headers={"Content-Type": "application/json", **headers})
    return build


def _hlc(make: Any) -> Any:
    """A push whose one mutation carries the HLC ``make(device_id, wall_ms)``."""
    def body(dev: Device) -> dict:
        b = _body(dev)
        b["mutations"][0]["hlc"] = make(dev.device_id, int(time.time() * 1000))
        return b
    return _push(body)


def _mutation(**changes: Any) -> Any:
    def body(dev: Device) -> dict:
        b = _body(dev)
        b["mutations"][0].update(changes)
        return b
    return _push(body)


MALFORMED = ({422}, {"malformed_request"})
BAD_HLC = ({422}, {"bad_hlc"})
UNAUTHORIZED = ({401}, {"missing_token", "invalid_token"})
SHA = hashlib.sha256(b"hello").hexdigest()

CASES = [
    # HLCs: canonical is {wall_ms:018d}:{counter:05d}:{the pushing device's id}
    *[pytest.param(_hlc(make), BAD_HLC, id=f"hlc-{name}") for name, make in [
        ("1:0:x", lambda d, ms: "1:0:x"),
        ("unpadded", lambda d, ms: f"{ms}:0:{d}"),
        ("counter-unpadded", lambda d, ms: f"{ms:018d}:0:{d}"),
        ("wall-unpadded", lambda d, ms: f"{ms}:00000:{d}"),
        ("other-node", lambda d, ms: f"{ms:018d}:00000:tech02-pad"),
        ("server-node", lambda d, ms: f"{ms:018d}:00000:server"),
        ("empty-node", lambda d, ms: f"{ms:018d}:00000:"),
        ("node-suffix", lambda d, ms: f"{ms:018d}:00000:{d}:x"),
        ("negative", lambda d, ms: f"-{ms:017d}:00000:{d}"),
        ("fullwidth", lambda d, ms: f"{'１' * 18}:00000:{d}"),
        ("spaces", lambda d, ms: f" {ms:018d}:00000:{d} "),
        ("words", lambda d, ms: "yesterday"),
        ("wall-19-digits", lambda d, ms: f"{ms:019d}:00000:{d}"),
    ]],
    pytest.param(_hlc(lambda d, ms: ""), ({422}, {"bad_hlc", "malformed_request"}),
                 id="hlc-empty"),
    pytest.param(_push(lambda d: {**_body(d), "mutations": [
        note_on(d, "job-1", "cust-1", "好的"),
        {**note_on(d, "job-1", "cust-1", "坏的"), "hlc": "1:0:x"}]}), BAD_HLC,
        id="hlc-one-bad-of-two"),
    # the body
    *[pytest.param(_push(raw), MALFORMED, id=f"json-{name}") for name, raw in [
        ("not-json", b"not json at all"), ("truncated", b'{"protocol": 1, "mutat'),
        ("array", b"[]"), ("string", b'"push"'), ("empty", b""), ("null", b"null"),
        ("nan", b"NaN")]],
    *[pytest.param(_push(raw), ({400, 422}, {"malformed_request"}), id=f"json-{name}")
      for name, raw in [
          ("bad-utf8", b'{"protocol": 1, "device_id": "\xff\xfe"}'),
          ("deep", b'{"mutations": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")]],
    pytest.param(_push(lambda d: {**_body(d), "mutations": [
        note_on(d, "job-1", "cust-1", "x") for _ in range(MAX_BATCH + 1)]}), MALFORMED,
        id="batch-too-long"),
    *[pytest.param(_push(lambda d, k=k, v=v: _body(d, **{k: v})), expect, id=f"body-{k}-{n}")
      for k, v, n, expect in [
          ("mutations", None, "null", MALFORMED), ("mutations", {}, "object", MALFORMED),
          ("device_id", "", "empty", MALFORMED), ("batch_id", "b" * 65, "long", MALFORMED),
          ("batch_id", 7, "number", MALFORMED), ("extra", 1, "unknown-key", MALFORMED),
          ("protocol", 2 ** 64, "huge", ({400, 422}, {"unknown_protocol",
                                                       "malformed_request"})),
          ("schema_version", 2 ** 64, "huge", ({400, 422}, {"unknown_schema_version",
                                                             "malformed_request"})),
          ("device_id", "tech02-pad", "other", ({403}, {"device_mismatch"}))]],
    *[pytest.param(_mutation(**{k: v}), MALFORMED, id=f"mutation-{k}-{n}") for k, v, n in [
        ("op", "upsert", "unknown"), ("base_version", -1, "negative"),
        ("base_version", 2 ** 64, "huge"), ("mutation_id", "m" * 65, "long"),
        ("record_id", "", "empty"), ("fields", [], "list"), ("fields", None, "null"),
        ("at", "x" * 41, "long"), ("table", None, "null"), ("surprise", 1, "unknown-key")]],
    # headers
    pytest.param(_push(lambda d: _body(d), **{"Content-Type": "text/plain"}),
                 ({415, 422}, {"malformed_request", "unsupported_media_type"}),
                 id="header-text-plain"),
    *[pytest.param(_push(lambda d: _body(d), **{"X-FieldApp-Protocol": v}), expect,
                   id=f"header-protocol-{n}") for v, n, expect in [
        ("abc", "words", MALFORMED), ("0", "old", ({426}, {"client_outdated"})),
        (str(PROTOCOL_VERSION + 1), "newer", ({400}, {"unknown_protocol"})),
        ("9" * 30, "huge", ({400, 422}, {"unknown_protocol", "malformed_request"}))]],
    *[pytest.param(_push(lambda d: _body(d), Authorization=v), UNAUTHORIZED,
                   id=f"header-auth-{n}") for v, n in [
        ("Bearer", "no-token"), ("Basic dXNlcjpwYXNz", "basic"), ("Bearer " + "x" * 5000,
                                                                  "long"),
        ("Bearer  ", "blank"), ("bearer made-up", "lowercase-made-up")]],
    # pull and attachments
    *[pytest.param(lambda d, p=p: Request("GET", "/api/v1/sync/pull", params=p), MALFORMED,
                   id=f"pull-{n}") for p, n in [
        ({"cursor": -1}, "cursor-negative"), ({"cursor": "abc"}, "cursor-words"),
        ({"cursor": 2 ** 64}, "cursor-huge"), ({"cursor": 1.5}, "cursor-fraction"),
        ({"cursor": ""}, "cursor-empty"), ({"cursor": "1e3"}, "cursor-exponent"),
        ({"limit": 0}, "limit-zero"), ({"limit": 1001}, "limit-over"),
        ({"limit": "abc"}, "limit-words"), ({"limit": -5}, "limit-negative"),
        ({"limit": 2 ** 64}, "limit-huge")]],
    *[pytest.param(lambda d, n=n: Request("GET", f"/api/v1/attachments/{n}"),
                   ({400, 404}, {"bad_hash", "not_found"}), id=f"attachment-name-{label}")
      for n, label in [("abc", "short"), ("A" * 64, "uppercase"), ("g" * 64, "not-hex"),
                       ("a" * 65, "long"), ("..%2F..%2Fserver.sqlite3", "traversal")]],
    *[pytest.param(lambda d, p=p, b=b: Request("PUT", f"/api/v1/attachments/{SHA}", b,
                                               params=p), ({400, 409, 413, 422}, None),
                   id=f"attachment-put-{n}") for p, b, n in [
        ({"offset": -1, "total": 5}, b"hello", "offset-negative"),
        ({"offset": 0, "total": 0}, b"hello", "total-zero"),
        ({"offset": "abc", "total": 5}, b"hello", "offset-words"),
        ({"offset": 0, "total": 2 ** 64}, b"hello", "total-huge"),
        ({"offset": 0}, b"hello", "total-missing"),
        ({"offset": 10, "total": 5}, b"h", "offset-past-total"),
        ({"offset": 0, "total": 3}, b"hello", "longer-than-total"),
        ({"offset": 0, "total": 5}, b"jello", "bytes-not-the-hash")]],
]


@pytest.mark.parametrize(("build", "expect"), CASES)
def test_a_hostile_request_is_refused_whole_and_changes_nothing(
        shared_server: ServerProcess, dev: Device, tally: door.Tally, build, expect) -> None:
    statuses, codes = expect
    req = build(dev)
    before = door.fingerprint(shared_server)
    batches = shared_server.scalar("SELECT count(*) FROM batches")
    headers = {**(dev.headers if req.token else {}), **req.headers}
    resp = door.call(shared_server, req.method, req.path, data=req.data, params=req.params,
                     headers=headers)
    status, code = door.refusal(resp)
    assert status in statuses, resp.text[:300]
    if codes is not None:
        assert code in codes, resp.text[:300]
    assert resp.json().get("message"), "a refusal says what is wrong"
    assert door.fingerprint(shared_server) == before
    assert shared_server.scalar("SELECT count(*) FROM batches") == batches
    assert tally.server_errors == 0, tally.notes

"""Sync under faults: a server crash mid-batch, a lost answer, an upload cut before or in
the middle of a chunk, a kill mid-pull."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from fieldapp.errors import ServerUnreachable
from fieldapp.replica import Replica
from fieldapp.sync.client import SyncClient
from fieldapp.sync.provision import FIRST_SYNC_ENV
from fieldapp.sync.transport import RequestsTransport, Response
from tests.conftest import ServerProcess
from tests.netfaults import half_send
from tests.world import PASSWORD, complete_inspection


class FlakyTransport(RequestsTransport):
    """The real transport, with one fault: ``rule(method, path, n, before)`` decides, asked
    with ``before`` = ``"mid-body"`` (cut a request with a body half-way, for real), ``True``
    (drop it unsent) and ``False`` (lose the answer)."""

    # Answers read whole, through ``request``, so every rule sees every call (the client
    # reads a streamed answer's lines from a whole one as well).
    stream = None

    def __init__(self, rule) -> None:
        super().__init__()
        self.rule = rule
        self.seen: dict[tuple[str, str], int] = {}
        self.sent: list[tuple[str, str, int]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> Response:
        path = url.split("/api/v1", 1)[-1]
        key = (method, path.rsplit("/", 1)[0] if "attachments" in path else path)
        n = self.seen[key] = self.seen.get(key, 0) + 1
        if self.rule(method, key[1], n, before="mid-body") and kwargs.get("data"):
            half = half_send(method, url, kwargs["params"], kwargs["headers"], kwargs["data"])
            self.sent.append((method, key[1], half))
            raise ServerUnreachable("server_unreachable", "connection cut mid-body (injected)")
        if self.rule(method, key[1], n, before=True):
            raise ServerUnreachable("server_unreachable", "connection reset (injected)")
        resp = super().request(method, url, **kwargs)
        self.sent.append((method, key[1], len(kwargs.get("data") or b"")))
        if self.rule(method, key[1], n, before=False):
            raise ServerUnreachable("server_unreachable", "answer lost (injected)")
        return resp


def offline_inspection(server: ServerProcess, tmp_path: Path, transport=None,
                       chunk_size: int = 1 << 20) -> tuple[Replica, SyncClient, str]:
    replica = Replica.open(tmp_path / "tablet")
    client = SyncClient(replica, server.url, transport=transport, chunk_size=chunk_size)
    client.login("tech01", PASSWORD)
    client.sync()
    sub_id = complete_inspection(replica, "job-1", tmp_path / "photo.jpg")
    return replica, client, sub_id


def test_lost_answer_after_commit_is_replayed_not_reapplied(server, tmp_path: Path):
    transport = FlakyTransport(lambda m, p, n, before: p == "/sync/push" and n == 1
                               and not before)
    replica, client, _ = offline_inspection(server, tmp_path, transport)
    pending = replica.outbox.counts()["pending"]
    with pytest.raises(ServerUnreachable):
        client.sync()
    assert replica.outbox.counts()["pending"] == pending  # the tablet never heard back
    applied = server.scalar("SELECT count(*) FROM changes WHERE mutation_id IS NOT NULL")
    assert applied == pending  # ...but the server committed the batch
    client.sync()
    assert replica.outbox.counts() == {"pending": 0, "done": pending, "conflict": 0,
                                       "rejected": 0, "parked": 0}
    assert server.scalar("SELECT count(*) FROM changes WHERE mutation_id IS NOT NULL"
                        ) == applied


def test_server_killed_mid_batch_applies_each_mutation_exactly_once(server, tmp_path: Path):
    replica, client, _ = offline_inspection(server, tmp_path)
    pending = replica.outbox.counts()["pending"]
    server.stop()
    server.start(FIELDAPP_FAULTS="kill_in_push:5")
    with pytest.raises(ServerUnreachable):
        client.sync()
    server.proc.wait(10)  # it killed itself after the fifth mutation, before committing
    assert server.scalar("SELECT count(*) FROM changes WHERE mutation_id IS NOT NULL") == 0
    server.start()
    client.sync()
    assert replica.outbox.counts()["done"] == pending
    assert server.scalar("SELECT count(*) FROM changes WHERE mutation_id IS NOT NULL"
                        ) == pending
    assert server.scalar("SELECT count(DISTINCT mutation_id) FROM changes"
                        " WHERE mutation_id IS NOT NULL") == pending
    assert server.scalar("SELECT status = 'completed' FROM jobs WHERE id = 'job-1'") == 1


@pytest.mark.parametrize("cut", [True, "mid-body"], ids=["before-chunk", "mid-chunk"])
def test_dropped_upload_resumes_from_the_last_verified_chunk(server, tmp_path: Path, cut):
    chunk = 64 * 1024
    transport = FlakyTransport(lambda m, p, n, before: m == "PUT" and n == 3 and before == cut)
    replica, client, _ = offline_inspection(server, tmp_path, transport, chunk_size=chunk)
    big = tmp_path / "big.png"
    from PIL import Image

    # Noise barely compresses, so the stored (re-encoded, watermarked) JPEG stays big.
    Image.frombytes("RGB", (1000, 800), os.urandom(1000 * 800 * 3)).save(big)
    attachment = replica.get("attachments", replica.evidence.add_photo("job-1", big))
    sha, size = attachment["sha256"], attachment["size"]
    assert size > 5 * chunk
    with pytest.raises(ServerUnreachable):
        client.sync()
    client.sync()
    stored = server.data_dir / "attachments" / sha[:2] / sha
    assert stored.read_bytes() == replica.evidence.read_blob(sha)
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha
    sent_for_big = sum(n for m, p, n in transport.sent if m == "PUT" and p == "/attachments")
    photo_and_signature = sum(
        replica.db.execute("SELECT sum(size) FROM blobs WHERE sha256 != ?", [sha]).fetchone())
    cut_short = chunk // 2 if cut == "mid-body" else 0  # the half chunk the server dropped
    assert sent_for_big == size + photo_and_signature + cut_short  # no verified byte twice
    log = (server.data_dir / "server.log").read_text()
    assert "unhandled error" not in log and ("client went away" in log) == bool(cut_short)


def test_killed_mid_pull_resumes_from_the_cursor_without_gaps(server, tmp_path: Path,
                                                              monkeypatch):
    # Page by page (an empty tablet would take the snapshot in one answer); the other
    # tablet below is provisioned either way.
    monkeypatch.setenv(FIRST_SYNC_ENV, "pages")
    replica = Replica.open(tmp_path / "tablet")
    transport = FlakyTransport(lambda m, p, n, before: p == "/sync/pull" and n == 3
                               and before is True)
    client = SyncClient(replica, server.url, transport=transport)
    client.login("tech01", PASSWORD)
    original = client._call

    def small_pages(method: str, path: str, **kw: Any):
        if path == "/api/v1/sync/pull":
            kw["params"] = {**kw["params"], "limit": 7}
        return original(method, path, **kw)

    client._call = small_pages
    with pytest.raises(ServerUnreachable):
        client.sync()
    partial = int(replica.state("cursor"))
    assert partial > 0
    client.sync()
    monkeypatch.delenv(FIRST_SYNC_ENV)
    whole = Replica.open(tmp_path / "other")
    SyncClient(whole, server.url).login("tech01", PASSWORD)
    SyncClient(whole, server.url).sync()
    for table in ("customers", "meters", "readings", "jobs", "payments"):
        mine = list(replica.db.query(f"SELECT * FROM {table} ORDER BY id"))
        assert mine == list(whole.db.query(f"SELECT * FROM {table} ORDER BY id")), table

"""An empty tablet's first sync from the server's snapshot (fieldapp/sync/provision.py):
the same replica as page by page through the merge, only for an empty replica, and a cut
download or a failed load leaves the replica as it was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fieldapp.errors import ServerUnreachable
from fieldapp.records import TABLES
from fieldapp.replica import Replica
from fieldapp.replica.store import kb_fts_triggers
from fieldapp.sync import provision
from fieldapp.sync.client import Progress, SyncClient
from fieldapp.sync.resend import EPOCH_KEY
from fieldapp.sync.transport import Response
from sync_server.services.records import insert_records
from sync_server.storage.db import open_database
from tests.conftest import ServerProcess
from tests.server.test_sync_api import mutation, office_push
from tests.sync.test_faults import FlakyTransport
from tests.sync.test_server_restore import restore_during
from tests.world import PASSWORD

ARTICLE = {"title": "燃气表漏气的检查", "category": "safety", "body": "用肥皂水检查接头是否漏气。",
           "tags": "[]"}


def add_article(server: ServerProcess, record_id: str) -> None:
    """A knowledge-base article published on the server while it runs."""
    db = open_database(server.data_dir, server.database_url)
    try:
        with db.write() as conn:
            insert_records(conn, "kb_articles", [{"id": record_id, **ARTICLE}])
    finally:
        db.close()


def contents(replica: Replica) -> dict[str, list[dict[str, Any]]]:
    return {t: sorted(replica.db.query(f"SELECT * FROM [{t}]"), key=lambda r: r["id"])
            for t in TABLES}


def tablet(server: ServerProcess, path: Path, first_sync: str, monkeypatch,
           transport: FlakyTransport | None = None) -> tuple[Replica, SyncClient]:
    monkeypatch.setenv(provision.FIRST_SYNC_ENV, first_sync)
    replica = Replica.open(path)
    client = SyncClient(replica, server.url, transport=transport or FlakyTransport(
        lambda *a, **k: False))
    client.login("tech01", PASSWORD)
    return replica, client


def streamed(client: SyncClient) -> bytes:
    """The server's streamed snapshot (layout 2) for this tablet, as its lines' bytes."""
    return client._call("GET", "/api/v1/sync/snapshot",
                        params={"format": provision.SNAPSHOT_FORMAT}).content


def parts(content: bytes) -> tuple[dict[str, Any], list[dict[str, Any]], list[bytes]]:
    """A streamed snapshot's header, its table lines and what follows them (the end line)."""
    head, *rest = [json.loads(line) for line in content.split(b"\n") if line]
    tables = [line for line in rest if "table" in line]
    return head, tables, [json.dumps(line).encode() for line in rest if "table" not in line]


def joined(head: dict[str, Any], tables: list[dict[str, Any]], tail: list[bytes]) -> bytes:
    return b"\n".join([json.dumps(head).encode(), *(json.dumps(t).encode() for t in tables),
                       *tail]) + b"\n"


def paths(client: SyncClient) -> list[str]:
    assert isinstance(client.transport, FlakyTransport)
    return [path for _, path, _ in client.transport.sent]


def test_a_snapshot_tablet_holds_what_a_paged_one_does(server: ServerProcess, tmp_path: Path,
                                                       monkeypatch):
    add_article(server, "kb-1")
    bulk, bulk_client = tablet(server, tmp_path / "bulk", "snapshot", monkeypatch)
    progress: list[Progress] = []
    report = bulk_client.sync(progress.append)
    paged, paged_client = tablet(server, tmp_path / "paged", "pages", monkeypatch)
    paged_report = paged_client.sync()

    assert "/sync/snapshot" in paths(bulk_client)
    assert "/sync/snapshot" not in paths(paged_client)
    assert contents(bulk) == contents(paged)
    assert {r["id"] for r in bulk.db.query("SELECT id FROM customers")} == {"cust-1", "cust-2"}
    assert bulk.state("cursor") == paged.state("cursor")
    assert report.pulled == paged_report.pulled
    pulled = [p for p in progress if p.phase == "pull"]
    assert pulled[-1].done == report.pulled and pulled[-1].total >= report.pulled
    # The index was built once from the loaded articles, and its triggers are back.
    assert [a["id"] for a in bulk.kb.search("漏气")] == ["kb-1"]
    assert set(kb_fts_triggers()) <= {r["name"] for r in bulk.db.query(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    # So were the tables' own indexes, as they were.
    assert schema(bulk) == schema(paged)


def schema(replica: Replica) -> list[tuple[str, str, str | None]]:
    return [(r["type"], r["name"], r["sql"]) for r in replica.db.query(
        "SELECT type, name, sql FROM sqlite_master ORDER BY type, name")]


def test_the_cursor_pull_goes_on_after_the_snapshot(server: ServerProcess, tmp_path: Path,
                                                   monkeypatch):
    replica, client = tablet(server, tmp_path / "tablet", "snapshot", monkeypatch)
    client.sync()
    office_push(server, "dispatcher", [mutation("customers", "cust-1", {"phone": "13511112222"},
                                                {"phone": "13912345678"})])
    add_article(server, "kb-2")
    report = client.sync()
    assert paths(client).count("/sync/snapshot") == 1
    assert replica.get("customers", "cust-1")["phone"] == "13511112222"
    assert [a["id"] for a in replica.kb.search("漏气")] == ["kb-2"]  # the triggers index it
    assert report.pulled == 2


def test_a_tablet_with_unsent_work_never_takes_the_snapshot(server: ServerProcess,
                                                           tmp_path: Path, monkeypatch):
    replica, client = tablet(server, tmp_path / "tablet", "snapshot", monkeypatch)
    with replica.transaction():
        replica.insert("readings", {"customer_id": "cust-1", "meter_id": "meter-1",
                                    "read_at": "2026-11-24", "value": 1234.0,
                                    "source": "tablet"}, record_id="read-local")
    client.sync()
    assert "/sync/snapshot" not in paths(client)
    assert server.scalar("SELECT value FROM readings WHERE id = 'read-local'") == 1234.0
    assert replica.find("customers", "cust-1") is not None


def test_a_replica_pulling_again_after_a_restore_merges(server: ServerProcess, tmp_path: Path,
                                                       monkeypatch):
    """Cursor 0 and an empty outbox, but records: the merge, never a load over them."""
    replica, client = tablet(server, tmp_path / "tablet", "snapshot", monkeypatch)
    client.sync()
    replica.set_state("cursor", "0")
    assert not provision.is_empty(replica)
    client.sync()
    assert paths(client).count("/sync/snapshot") == 1


@pytest.mark.parametrize("before", [True, False])
def test_a_cut_download_leaves_the_replica_empty_and_the_next_sync_loads(
        server: ServerProcess, tmp_path: Path, monkeypatch, before: bool):
    flaky = FlakyTransport(lambda m, p, n, before, cut=before: (
        p == "/sync/snapshot" and n == 1 and before == cut))
    replica, client = tablet(server, tmp_path / "tablet", "snapshot", monkeypatch, flaky)
    with pytest.raises(ServerUnreachable):
        client.sync()
    assert provision.is_empty(replica) and replica.state("cursor") is None
    client.sync()
    assert paths(client).count("/sync/snapshot") == 2 - before
    assert replica.find("customers", "cust-2") is not None


def test_a_load_that_fails_half_way_leaves_nothing(server: ServerProcess, tmp_path: Path,
                                                   monkeypatch):
    replica, client = tablet(server, tmp_path / "tablet", "snapshot", monkeypatch)
    body = streamed(client)
    records = parts(body)[0]["rows"]

    def fail(done: int) -> None:
        raise ServerUnreachable("server_unreachable", "the worker stopped (injected)")

    before, cache = schema(replica), replica.db.execute("PRAGMA cache_size").fetchone()
    with pytest.raises(ServerUnreachable):
        provision.load(replica, provision.read(body.split(b"\n")), fail)
    assert provision.is_empty(replica) and replica.state("cursor") is None
    assert schema(replica) == before  # the dropped triggers and indexes are back
    assert replica.db.execute("PRAGMA cache_size").fetchone() == cache  # the load's is given back
    assert replica.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # and its journal
    assert set(kb_fts_triggers()) <= {r["name"] for r in replica.db.query(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert provision.load(replica, provision.read(body.split(b"\n"))) == records


class Tampering(FlakyTransport):
    """The real transport; the snapshot's answer goes through ``change`` first."""

    def __init__(self, change) -> None:
        super().__init__(lambda *a, **k: False)
        self.change = change

    def request(self, method: str, url: str, **kwargs: Any) -> Response:
        resp = super().request(method, url, **kwargs)
        if url.endswith("/sync/snapshot"):
            return Tampered(resp.status_code, self.change(resp.content))
        return resp


class Tampered:
    def __init__(self, status_code: int, content: bytes) -> None:
        self.status_code, self.content = status_code, content

    def json(self) -> Any:
        return json.loads(self.content)


def _duplicate_a_reading(content: bytes) -> bytes:
    head, tables, tail = parts(content)
    readings = next(t for t in tables if t["table"] == "readings")
    readings["rows"].append(readings["rows"][0])
    head["rows"] += 1
    return joined(head, tables, tail)


def _another_layout(content: bytes) -> bytes:
    head, tables, tail = parts(content)
    return joined({**head, "format": 3}, tables, tail)


def _a_line_lost(content: bytes) -> bytes:
    """One table line left out, the header's count unchanged."""
    head, tables, tail = parts(content)
    return joined(head, [t for t in tables if t["table"] != "customers"], tail)


def _customers_without_ids(content: bytes) -> bytes:
    head, tables, tail = parts(content)
    customers = next(t for t in tables if t["table"] == "customers")
    customers["columns"][0] = "ident"
    return joined(head, tables, tail)


def _first_customer(content: bytes, column: str, value: Any) -> bytes:
    """The snapshot with one value of its first customer replaced."""
    head, tables, tail = parts(content)
    customers = next(t for t in tables if t["table"] == "customers")
    customers["rows"][0][customers["columns"].index(column)] = value
    return joined(head, tables, tail)


def test_a_snapshot_without_its_end_line_is_a_cut_download(server: ServerProcess,
                                                           tmp_path: Path, monkeypatch):
    """Lines that stop at a line's end but before the end line: nothing is loaded, and the
    next sync loads the whole snapshot."""
    replica, client = tablet(server, tmp_path / "tablet", "snapshot", monkeypatch,
                             Tampering(lambda c: joined(*parts(c)[:2], [])))
    with pytest.raises(ServerUnreachable) as cut:
        client.sync()
    assert cut.value.code == "snapshot_cut"
    assert provision.is_empty(replica) and replica.state("cursor") is None
    client.transport = FlakyTransport(lambda *a, **k: False)
    client.sync()
    paged, paged_client = tablet(server, tmp_path / "paged", "pages", monkeypatch)
    paged_client.sync()
    assert contents(replica) == contents(paged)


@pytest.mark.parametrize("change", [_duplicate_a_reading, lambda c: b"{" + c[:100],
                                    lambda c: json.dumps({"format": 2}).encode(),
                                    lambda c: c.replace(b"\n", b"\n[1, 2]\n", 2),
                                    _another_layout, _a_line_lost, _customers_without_ids,
                                    # what the pull's model refuses of a record
                                    lambda c: _first_customer(c, "id", 12),
                                    lambda c: _first_customer(c, "version", "seven"),
                                    lambda c: _first_customer(c, "version", 7.5)])
def test_a_snapshot_that_does_not_fit_falls_back_to_pages(server: ServerProcess,
                                                         tmp_path: Path, monkeypatch, change):
    paged, paged_client = tablet(server, tmp_path / "paged", "pages", monkeypatch)
    paged_client.sync()
    replica, client = tablet(server, tmp_path / "tablet", "snapshot", monkeypatch,
                             Tampering(change))
    client.sync()
    assert contents(replica) == contents(paged)


def test_an_office_account_pulls_by_cursor(server: ServerProcess, tmp_path: Path, monkeypatch):
    monkeypatch.setenv(provision.FIRST_SYNC_ENV, "snapshot")
    replica = Replica.open(tmp_path / "tablet")
    client = SyncClient(replica, server.url, transport=FlakyTransport(lambda *a, **k: False))
    client.login("dispatcher", PASSWORD)
    client.sync()
    assert "/sync/snapshot" in paths(client)  # asked, answered 409, pulled by pages
    assert {r["id"] for r in replica.db.query("SELECT id FROM customers")} == {
        "cust-1", "cust-2", "cust-3"}


def test_a_restore_between_the_epoch_and_the_snapshot_starts_the_sync_over(
        server: ServerProcess, tmp_path: Path, monkeypatch):
    replica, client = tablet(server, tmp_path / "tablet", "snapshot", monkeypatch)
    restore_now, changed = restore_during(server, "pull")  # just before the snapshot
    report = client.sync(progress=restore_now)
    assert changed and report.server_restored
    assert replica.state(EPOCH_KEY) == "f00d"
    assert paths(client).count("/sync/snapshot") == 2  # the first one's history was left
    assert replica.find("customers", "cust-2") is not None
    assert replica.state("cursor") == str(server.scalar("SELECT max(seq) FROM changes"))

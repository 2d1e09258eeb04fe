"""A tablet that synced after a server backup meets the server restored from that backup:
it is told, pulls its scope again from 0 and resends what the server lost (files and
changes), so nothing it captured is lost, nothing is applied twice, and the office's
changes after the restore reach it. Real server processes, a real replica."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from PIL import Image

from fieldapp.sync.client import Progress, SyncClient
from fieldapp.sync.resend import EPOCH_KEY, RESTORED_KEY
from fieldapp.wire import PROTOCOL_VERSION
from sync_server.storage.backup import MANIFEST
from tests.conftest import ServerProcess, synced_tablet
from tests.server.test_audit_anchor import verify_cli
from tests.server.test_backup import cli, sqlite_only
from tests.server.test_sync_api import login, mutation, office_push, push, version
from tests.sync.test_deletes import add_reading
from tests.world import start_checklist

EPOCH_ROW = "SELECT value FROM server_state WHERE key = 'sync.epoch'"


def restore_during(server: ServerProcess, phase: str
                   ) -> tuple[Callable[[Progress], None], list[Progress]]:
    """A progress callback that gives the server a new epoch (as a restore does) the first
    time a sync reports ``phase``, and the list that report is kept in."""
    changed: list[Progress] = []

    def restore_now(progress: Progress) -> None:
        if progress.phase == phase and not changed:
            server.query("UPDATE server_state SET value = 'f00d' WHERE key = 'sync.epoch'"
                         " RETURNING key")
            changed.append(progress)

    return restore_now, changed


def epoch_of(server: ServerProcess) -> str | None:
    found = server.query(EPOCH_ROW)
    return found[0]["value"] if found else None


def office_phone(server: ServerProcess, phone: str) -> dict:
    """The office corrects cust-1's phone (a change the tablet must pull)."""
    old = server.scalar("SELECT phone FROM customers WHERE id = 'cust-1'")
    return office_push(server, "admin", [mutation(
        "customers", "cust-1", {"phone": phone}, {"phone": old},
        base_version=version(server, "customers", "cust-1"))])[0]


def captured(server: ServerProcess, sub_id: str) -> dict[str, object]:
    """What the tablet's work left on a server, to compare before and after the restore."""
    return {
        "readings": server.query("SELECT id, value FROM readings WHERE source = 'tablet'"
                                 " ORDER BY id"),
        "answers": server.query("SELECT question, value, note FROM answers"
                                " WHERE submission_id = ? ORDER BY question", [sub_id]),
        "attachments": server.query("SELECT id, sha256 FROM attachments ORDER BY id"),
        "history": server.query("SELECT to_status FROM job_status_history"
                                " WHERE job_id = 'job-1' AND by_user = 'tech01'"
                                " ORDER BY to_status"),
        "status": server.scalar("SELECT status FROM jobs WHERE id = 'job-1'"),
        # A mutation logged more than once would be work applied twice.
        "twice": server.query("SELECT mutation_id FROM changes WHERE mutation_id IS NOT NULL"
                              " GROUP BY mutation_id HAVING count(*) > 1"),
    }


@sqlite_only
@pytest.mark.usefixtures("first_sync")
def test_a_tablet_that_synced_after_the_backup_resends_what_the_restored_server_lost(
        tmp_path: Path, server: ServerProcess) -> None:
    replica, client = synced_tablet(server, tmp_path / "tablet")
    first_reading = add_reading(replica, 1200.0)
    replica.jobs.transition("job-1", "accepted")
    client.sync()
    first_epoch = replica.state(EPOCH_KEY)
    assert first_epoch and first_epoch == epoch_of(server)

    made = cli("backup", "--data", str(server.data_dir), "--to", str(tmp_path / "bk"))
    assert made.returncode == 0, made.stderr
    manifest = json.loads((tmp_path / "bk" / MANIFEST).read_text())
    assert manifest["database"]["epoch"] == first_epoch

    # After the backup: a reading, the service started, an answer and a photo, all synced.
    later_reading = add_reading(replica, 1234.5)
    replica.jobs.transition("job-1", "in_service")
    sub_id = start_checklist(replica, "job-1")
    replica.submissions.answer(sub_id, "leak_test_joints", "fail", "接头处有气泡")
    photo = tmp_path / "meter.png"
    Image.new("RGB", (640, 480), (30, 60, 90)).save(photo)
    replica.evidence.add_photo("job-1", photo)
    client.sync()
    assert replica.outbox.counts()["pending"] == 0
    before = captured(server, sub_id)
    assert len(before["readings"]) == 2 and before["answers"] and before["attachments"]
    assert before["twice"] == []
    sha = before["attachments"][0]["sha256"]
    old_cursor = int(replica.state("cursor") or 0)
    server.stop()

    restored = tmp_path / "restored"
    done = cli("restore", "--from", str(tmp_path / "bk"), "--data", str(restored))
    assert done.returncode == 0, done.stderr
    again = ServerProcess(restored)
    again.start()
    try:
        new_epoch = epoch_of(again)
        assert new_epoch and new_epoch != first_epoch
        assert again.query("SELECT id FROM readings WHERE id = ?", [later_reading]) == []
        assert again.query("SELECT 1 FROM blobs WHERE sha256 = ?", [sha]) == []
        # The office changes something before the tablet comes back: logged at a sequence
        # number the tablet's old cursor had already passed, so it would be skipped.
        assert office_phone(again, "13900000001")["status"] == "applied"
        assert again.scalar("SELECT max(seq) FROM changes") <= old_cursor

        client = SyncClient(replica, again.url)  # same replica, same token: the server moved
        report = client.sync()
        assert report.server_restored and report.resent >= 5
        assert replica.state(EPOCH_KEY) == new_epoch and replica.state(RESTORED_KEY)
        assert replica.outbox.counts() == {"pending": 0, "done": report.resent, "conflict": 0,
                                           "rejected": 0, "parked": 0}
        after = captured(again, sub_id)
        assert after == before  # everything back, nothing twice
        assert (restored / "attachments" / sha[:2] / sha).is_file()
        assert replica.find("customers", "cust-1")["phone"] == "13900000001"
        # The replica now holds the restored server's versions, not the lost history's.
        for table, record_id in (("readings", later_reading), ("readings", first_reading),
                                 ("jobs", "job-1")):
            assert replica.get(table, record_id)["version"] == version(again, table, record_id)
        assert int(replica.state("cursor") or 0) <= again.scalar("SELECT max(seq) FROM changes")

        # From now on the cursor counts in the restored history: an office change arrives,
        # and the next sync resends nothing.
        assert office_phone(again, "13900000002")["status"] == "applied"
        quiet = client.sync()
        assert not quiet.server_restored and quiet.pushed == {}
        assert replica.find("customers", "cust-1")["phone"] == "13900000002"
        assert captured(again, sub_id) == before
    finally:
        again.stop()
        replica.close()
    checked = verify_cli(again)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_tablet_from_before_epochs_is_not_disrupted_on_first_sight(
        tmp_path: Path, server: ServerProcess) -> None:
    replica, client = synced_tablet(server, tmp_path / "tablet")
    add_reading(replica, 1200.0)
    client.sync()
    replica.set_state(EPOCH_KEY, None)  # as a replica synced before servers had epochs
    cursor = int(replica.state("cursor") or 0)
    add_reading(replica, 1300.0)

    report = client.sync()
    assert not report.server_restored and report.resent == 0
    assert report.pushed == {"applied": 1}  # the new reading only: nothing resent
    assert replica.state(EPOCH_KEY) == epoch_of(server)
    assert int(replica.state("cursor") or 0) >= cursor and replica.state(RESTORED_KEY) is None
    replica.close()


def test_resending_acknowledged_mutations_in_a_new_batch_gets_their_stored_outcome(
        server: ServerProcess) -> None:
    headers = login(server, "tech01", "pad-resend")
    reading = mutation("readings", "rd-resend-1", {
        "customer_id": "cust-1", "meter_id": "meter-1", "read_at": "2026-12-04T08:00:00+08:00",
        "value": 1500.0, "source": "tablet"}, op="insert")
    first = push(server, headers, "pad-resend", [reading])
    assert first.status_code == 200, first.text
    logged = server.scalar("SELECT count(*) FROM changes")
    again = push(server, headers, "pad-resend", [reading])  # a new batch id, same mutation
    assert again.status_code == 200, again.text
    assert again.json()["results"] == first.json()["results"]
    assert again.json()["epoch"] == first.json()["epoch"] == epoch_of(server)
    assert server.scalar("SELECT count(*) FROM changes") == logged


def test_a_forged_or_absent_epoch_never_makes_the_server_fail(
        tmp_path: Path, server: ServerProcess) -> None:
    headers = login(server, "tech01", "pad-hostile")
    url = server.url + "/api/v1"
    epoch = epoch_of(server)
    assert epoch
    # A client cannot tell the server its history: an epoch it sends is not read.
    pulled = requests.get(f"{url}/sync/pull", headers=headers, timeout=10,
                          params={"cursor": 0, "epoch": "x" * 5000})
    assert pulled.status_code == 200 and pulled.json()["epoch"] == epoch
    forged = requests.post(f"{url}/sync/push", headers=headers, timeout=10, json={
        "protocol": PROTOCOL_VERSION, "schema_version": 1, "device_id": "pad-hostile",
        "batch_id": "b-forged", "mutations": [], "epoch": {"not": "a string"}})
    assert forged.status_code == 422, forged.text
    asked = requests.get(f"{url}/sync/epoch", headers=headers, timeout=10)
    assert asked.status_code == 200
    assert asked.json() == {"epoch": epoch, "restored_seq": None, "restored_at": None}
    assert requests.get(f"{url}/sync/epoch", timeout=10).status_code == 401

    # A server whose state lost its epoch, or holds a damaged restore note: no 5xx, and a
    # tablet that knew an epoch is not sent into a resend by the absence of one.
    replica, client = synced_tablet(server, tmp_path / "tablet")
    server.query("DELETE FROM server_state WHERE key = 'sync.epoch' RETURNING key")
    server.query("INSERT INTO server_state(key, value) VALUES ('sync.epoch.restored', ?)"
                 " RETURNING key", ['{"last_seq": "many", "restored_at": 5'])
    for method, path in (("GET", "/sync/epoch"), ("GET", "/sync/pull")):
        resp = requests.request(method, url + path, headers=headers, timeout=10)
        assert resp.status_code == 200 and resp.json()["epoch"] is None, resp.text
    add_reading(replica, 1400.0)
    report = client.sync()
    assert not report.server_restored and report.pushed == {"applied": 1}
    assert replica.state(EPOCH_KEY) == epoch
    server.query("UPDATE server_state SET value = ? WHERE key = 'sync.epoch.restored'"
                 " RETURNING key", ['{"last_seq": 12, "restored_at": "2026-12-04T08:00:00+00:00"}'])
    asked = requests.get(f"{url}/sync/epoch", headers=headers, timeout=10)
    assert asked.status_code == 200 and asked.json()["restored_seq"] == 12
    replica.close()


def new_epoch_cli(server: ServerProcess) -> None:
    """``python -m sync_server new-epoch``, as after a PostgreSQL pg_restore (README)."""
    extra = ["--database-url", server.database_url] if server.database_url else []
    done = cli("new-epoch", "--data", str(server.data_dir), *extra)
    assert done.returncode == 0, done.stderr


def test_a_new_epoch_on_a_server_that_lost_nothing_resends_without_applying_twice(
        tmp_path: Path, server: ServerProcess) -> None:
    """The resend is safe against a server that has every change: each is answered from its
    stored result. (On PostgreSQL this is the step after pg_restore.)"""
    replica, client = synced_tablet(server, tmp_path / "tablet")
    add_reading(replica, 1200.0)
    replica.jobs.transition("job-1", "accepted")
    replica.jobs.transition("job-1", "in_service")
    sub_id = start_checklist(replica, "job-1")
    replica.submissions.answer(sub_id, "leak_test_joints", "pass")
    client.sync()
    before = captured(server, sub_id)
    assert before["answers"]
    old = epoch_of(server)
    new_epoch_cli(server)
    assert epoch_of(server) not in (None, old)

    report = client.sync()
    assert report.server_restored and report.resent >= 3
    assert set(report.pushed) <= {"applied", "merged"}
    assert captured(server, sub_id) == before
    assert replica.outbox.counts()["pending"] == 0
    assert replica.state(EPOCH_KEY) == epoch_of(server)
    replica.close()


def test_an_epoch_that_changes_during_a_sync_restarts_it_in_order(
        tmp_path: Path, server: ServerProcess) -> None:
    """Restored between the client's question and its push: the push's answer says so, and
    the sync starts over (files, every acknowledged change, a pull from 0)."""
    replica, client = synced_tablet(server, tmp_path / "tablet")
    add_reading(replica, 1200.0)
    client.sync()
    pending = add_reading(replica, 1300.0)
    restore_now, changed = restore_during(server, "push")
    report = client.sync(progress=restore_now)
    assert changed and report.server_restored
    assert replica.state(EPOCH_KEY) == "f00d"
    assert replica.outbox.counts()["pending"] == 0
    assert server.scalar("SELECT count(*) FROM readings WHERE id = ?", [pending]) == 1
    assert server.query("SELECT mutation_id FROM changes WHERE mutation_id IS NOT NULL"
                        " GROUP BY mutation_id HAVING count(*) > 1") == []
    replica.close()

"""Deletes are tombstones with their own HLC: the deleted row is kept whole, every tablet
drops it, and a delete never beats a later concurrent edit, whichever arrives first."""

from __future__ import annotations

import html
import json
import time
from pathlib import Path

import pytest

from fieldapp.errors import InvalidInput
from fieldapp.local_time import now_iso
from fieldapp.replica import Replica
from fieldapp.sync.client import SyncClient
from tests.conftest import ServerProcess, synced_tablet
from tests.server.test_conflict_review import office_session
from tests.server.test_sync_api import login, mutation, office_push, push
from tests.world import complete_inspection


def add_reading(replica: Replica, value: float) -> str:
    with replica.transaction():
        return replica.insert("readings", {"customer_id": "cust-1", "meter_id": "meter-1",
                                           "read_at": now_iso(), "value": value,
                                           "source": "tablet"})


def hlc(offset_ms: int) -> str:
    return f"{int(time.time() * 1000) + offset_ms:018d}:00000:office-1"


def office_edit(server: ServerProcess, reading_id: str, value: float, offset_ms: int,
                base_version: int) -> dict:
    return office_push(server, "admin", [
        mutation("readings", reading_id, {"value": value}, {"value": 1234.5},
                 base_version=base_version, hlc=hlc(offset_ms))])[0]


def deleted_offline(server: ServerProcess,
                    tmp_path: Path) -> tuple[Replica, SyncClient, str, int]:
    """A synced reading, then deleted on the tablet (not pushed yet), and the version the
    tablet had seen of it."""
    replica, client = synced_tablet(server, tmp_path / "a")
    reading_id = add_reading(replica, 1234.5)
    client.sync()
    version = replica.get("readings", reading_id)["version"]
    with replica.transaction():
        replica.delete("readings", reading_id)
    return replica, client, reading_id, version


@pytest.mark.usefixtures("first_sync")
def test_a_delete_leaves_every_tablet_and_keeps_the_row(server: ServerProcess, tmp_path: Path):
    first, first_client = synced_tablet(server, tmp_path / "a")
    reading_id = add_reading(first, 1234.5)
    first_client.sync()
    second, second_client = synced_tablet(server, tmp_path / "b")
    assert second.find("readings", reading_id) is not None

    with first.transaction():
        first.delete("readings", reading_id)
    assert first.find("readings", reading_id) is None
    first_client.sync()
    assert server.query("SELECT * FROM readings WHERE id = ?", [reading_id]) == []
    [tomb] = server.query("SELECT * FROM tombstones WHERE record_id = ?", [reading_id])
    assert (json.loads(tomb["row"])["value"], tomb["by_user"]) == (1234.5, "tech01")
    assert server.scalar("SELECT op FROM changes WHERE record_id = ? ORDER BY seq DESC",
                         [reading_id]) == "delete"
    second_client.sync()
    assert second.find("readings", reading_id) is None
    first_client.sync()  # a replay of the delete changes nothing
    assert server.scalar("SELECT count(*) FROM tombstones WHERE record_id = ?",
                         [reading_id]) == 1


def test_a_later_edit_already_on_the_server_beats_the_delete(server: ServerProcess,
                                                             tmp_path: Path):
    replica, client, reading_id, version = deleted_offline(server, tmp_path)
    assert office_edit(server, reading_id, 1240.0, 5_000, version)["status"] == "applied"

    client.sync()
    [problem] = replica.outbox.problems()
    assert problem["reason"] == "edited_after_delete"
    assert replica.get("readings", reading_id)["value"] == 1240.0  # back on the tablet
    [kept] = server.query("SELECT * FROM conflicts WHERE record_id = ?", [reading_id])
    assert (kept["field"], json.loads(kept["preserved"]), kept["preserved_by"]) == (
        None, "deleted", "tech01")
    page = html.unescape(office_session(server, "supervisor").get(
        server.url + "/office/conflicts", timeout=10).text)
    assert "删除晚于别处的修改到达" in page and '"value": 1240.0' in page


def test_a_later_edit_arriving_after_the_delete_brings_the_record_back(
        server: ServerProcess, tmp_path: Path):
    replica, client, reading_id, version = deleted_offline(server, tmp_path)
    client.sync()
    assert server.query("SELECT id FROM readings WHERE id = ?", [reading_id]) == []

    result = office_edit(server, reading_id, 1240.0, 5_000, version)  # made before it knew
    assert result["status"] == "merged"  # onto the restored record, which others had moved
    assert server.scalar("SELECT value FROM readings WHERE id = ?", [reading_id]) == 1240.0
    assert server.scalar("SELECT reason FROM conflicts WHERE record_id = ?",
                         [reading_id]) == "delete_overridden_by_later_edit"
    client.sync()
    assert replica.get("readings", reading_id)["value"] == 1240.0


def test_an_earlier_edit_of_a_deleted_record_is_refused_and_kept(server: ServerProcess,
                                                                 tmp_path: Path):
    replica, client, reading_id, version = deleted_offline(server, tmp_path)
    client.sync()
    result = office_edit(server, reading_id, 1240.0, -30_000, version)
    assert (result["status"], result["reason"]) == ("rejected", "record_deleted")
    assert server.query("SELECT id FROM readings WHERE id = ?", [reading_id]) == []
    [kept] = server.query("SELECT field, preserved FROM conflicts WHERE record_id = ?",
                          [reading_id])
    assert (kept["field"], json.loads(kept["preserved"])) == ("value", 1240.0)


def test_captured_answers_cannot_be_deleted(server: ServerProcess, tmp_path: Path):
    replica, _ = synced_tablet(server, tmp_path / "a")
    with pytest.raises(InvalidInput) as refused, replica.transaction():
        replica.delete("answers", "any")
    assert refused.value.code == "not_deletable"
    tech = login(server, "tech01", "pad-9")
    forged = push(server, tech, "pad-9", [mutation("jobs", "job-1", {}, op="delete")])
    assert forged.json()["results"][0]["reason"] == "forbidden"
    assert server.scalar("SELECT count(*) FROM jobs WHERE id = 'job-1'") == 1


def test_evidence_of_a_completed_job_is_not_deleted_by_a_technician(server: ServerProcess,
                                                                    tmp_path: Path):
    replica, client = synced_tablet(server, tmp_path / "a")
    complete_inspection(replica, "job-1", tmp_path / "photo.jpg")
    client.sync()
    photo = server.query("SELECT id, version FROM attachments WHERE job_id = 'job-1'"
                         " AND kind = 'photo'")[0]
    tech = login(server, "tech01", "pad-9")
    result = push(server, tech, "pad-9", [mutation("attachments", photo["id"], {}, op="delete",
                                                   base_version=photo["version"])])
    assert result.json()["results"][0]["reason"] == "job_closed"
    assert server.scalar("SELECT count(*) FROM attachments WHERE id = ?", [photo["id"]]) == 1

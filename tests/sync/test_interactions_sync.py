"""A technician's notes and calls reach the server with their job, and come back to
another tablet of theirs; a technician cannot write notes on another's job."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ServerProcess, synced_tablet
from tests.server.test_conflict_review import office_session
from tests.server.test_sync_api import login, mutation, push


def test_notes_sync_to_the_server_and_to_the_next_tablet(server: ServerProcess,
                                                         tmp_path: Path) -> None:
    first, client = synced_tablet(server, tmp_path / "first")
    first.interactions.add("job-1", "note", "门口有狗，先电话联系")
    first.interactions.add("job-1", "call", "13905170123")
    report = client.sync()
    assert report.pushed == {"applied": 2}
    rows = server.query("SELECT kind, text, by_user, job_id FROM interactions ORDER BY kind")
    assert rows == [{"kind": "call", "text": "13905170123", "by_user": "tech01",
                     "job_id": "job-1"},
                    {"kind": "note", "text": "门口有狗，先电话联系", "by_user": "tech01",
                     "job_id": "job-1"}]
    office = office_session(server, "dispatcher")
    page = office.get(server.url + "/office/jobs/job-1", timeout=30).text
    assert "门口有狗，先电话联系" in page and "电话" in page  # the office sees them on the job
    second, _ = synced_tablet(server, tmp_path / "second")
    assert [h["text"] for h in second.interactions.for_job("job-1")
            if h["source"] == "interaction"] == ["13905170123", "门口有狗，先电话联系"]


def test_a_note_on_another_technicians_job_is_refused(server: ServerProcess) -> None:
    other = login(server, "tech02", "pad-2")
    customer = server.scalar("SELECT customer_id FROM jobs WHERE id = 'job-1'")
    resp = push(server, other, "pad-2", [mutation("interactions", "note-x", {
        "job_id": "job-1", "customer_id": customer, "kind": "note", "text": "不是我的工单",
        "at": "2026-11-30T09:00:00+08:00", "by_user": "tech02", "device_id": "pad-2"},
        op="insert")])
    [result] = resp.json()["results"]
    assert (result["status"], result["reason"]) == ("rejected", "out_of_scope")
    assert server.scalar("SELECT count(*) FROM interactions") == 0

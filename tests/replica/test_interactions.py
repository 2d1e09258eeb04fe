"""Notes and calls: stored with their outbox entry, refused when empty or too long, shown as
one history with the job's status changes and in the customer's log."""

from __future__ import annotations

import pytest

from fieldapp.domain.navigation import navigation_url, phone_url
from fieldapp.errors import InvalidInput
from fieldapp.replica import Replica
from fieldapp.replica.interactions import MAX_NOTE
from tests.world import seed_replica


@pytest.fixture
def replica(fresh_replica: Replica) -> Replica:
    seed_replica(fresh_replica)
    return fresh_replica


def test_notes_and_calls_make_one_history_with_the_status_changes(replica: Replica) -> None:
    replica.jobs.transition("job-1", "accepted")
    replica.interactions.add("job-1", "note", "  用户要求下午六点后上门 ")
    replica.interactions.add("job-1", "call", "13905170123")
    history = replica.interactions.for_job("job-1")
    assert [(h["source"], h["kind"]) for h in history][:3] == [
        ("interaction", "call"), ("interaction", "note"), ("status", "accepted")]
    assert history[1]["text"] == "用户要求下午六点后上门" and history[1]["by_user"] == "tech01"
    queued = replica.db.execute("SELECT count(*) FROM outbox WHERE tbl = 'interactions'"
                                " AND op = 'insert'").fetchone()[0]
    assert queued == 2
    customer = replica.get("jobs", "job-1")["customer_id"]
    log = replica.interactions.for_customer(customer)
    assert [r["kind"] for r in log] == ["call", "note"] and log[0]["job_number"]
    assert replica.customers.view360(customer)["interactions"] == log


@pytest.mark.parametrize(("kind", "text", "code"), [
    ("note", "   ", "empty_note"),
    ("note", "长" * (MAX_NOTE + 1), "note_too_long"),
    ("visit", "x", "unknown_interaction"),
])
def test_bad_notes_are_refused_and_nothing_is_stored(replica: Replica, kind: str, text: str,
                                                     code: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        replica.interactions.add("job-1", kind, text)
    assert raised.value.code == code
    assert replica.db.execute("SELECT count(*) FROM interactions").fetchone()[0] == 0


def test_links_out_of_the_app() -> None:
    url = navigation_url(32.0415, 118.7841, "张秀英 中华路88号")
    assert url == ("https://uri.amap.com/marker?position=118.784100%2C32.041500"
                   "&name=%E5%BC%A0%E7%A7%80%E8%8B%B1%20%E4%B8%AD%E5%8D%8E%E8%B7%AF88%E5%8F%B7"
                   "&coordinate=wgs84&callnative=1")
    assert navigation_url(None, 118.0, "x") is None
    assert phone_url("025-8456 1234") == "tel:02584561234"
    assert phone_url("+86 139 0517 0123") == "tel:+8613905170123"
    assert phone_url("") is None and phone_url("110") is None

"""The inspection report's data: gathered from the replica or a server-style database, hashed."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from fieldapp.errors import NotFound
from fieldapp.records import TABLES
from fieldapp.replica import Replica
from fieldapp.reports.report_data import InspectionReport, from_replica, from_sqlite
from fieldapp.sync.apply import apply_changes
from fieldapp.wire import RecordChange
from tests.reports.reportkit import FAILED, rich_inspection, v2_draft


@pytest.fixture
def inspected(fresh_replica: Replica, tmp_path: Path) -> tuple[Replica, str]:
    return fresh_replica, rich_inspection(fresh_replica, "job-1", tmp_path)


def test_report_holds_the_whole_inspection(inspected: tuple[Replica, str]) -> None:
    replica, sub_id = inspected
    report = from_replica(replica, sub_id)
    assert (report.report_id, report.form_code, report.form_version) == (
        sub_id, "household_inspection", 1)
    assert report.form_title == "居民户内燃气安全检查"
    assert (report.customer.name, report.customer.account_no) == ("陈桂芳", "320100000001")
    assert report.job.number == "GD202611240001"
    assert (report.inspector, report.inspector_name) == ("tech01", "王建国")
    assert report.device_id == replica.device_id
    assert report.state == "submitted" and report.inspected_at == report.submitted_at

    assert len(report.answers) == 26
    failed = {a.path: a for a in report.answers if a.outcome == "fail"}
    assert {p: a.note for p, a in failed.items()} == FAILED
    assert failed["hose_age"].label == "软管未超期使用（橡胶管≤18个月）"
    assert failed["hose_age"].text == "不合格"
    assert all(a.by_user == "tech01" and a.answered_at for a in report.answers)
    assert report.counts() == {"pass": 22, "fail": 3, "na": 1, "unanswered": 0}


def test_hazards_carry_level_and_deadline_most_urgent_first(
        inspected: tuple[Replica, str]) -> None:
    replica, sub_id = inspected
    report = from_replica(replica, sub_id)
    inspected_at = datetime.fromisoformat(report.inspected_at)
    assert [(h.path, h.level, h.level_label, h.deadline_days) for h in report.hazards] == [
        ("water_heater_flue", "critical", "重大隐患", 1),
        ("hose_age", "serious", "较大隐患", 7),
        ("alarm_present", "general", "一般隐患", 30),
    ]
    for h in report.hazards:
        assert datetime.fromisoformat(h.due_at) == inspected_at + timedelta(days=h.deadline_days)
        assert h.note == FAILED[h.path]


def test_photos_and_signature_are_the_stored_files(inspected: tuple[Replica, str]) -> None:
    replica, sub_id = inspected
    report = from_replica(replica, sub_id)
    assert len(report.photos) == 2
    for photo in report.photos:
        assert hashlib.sha256(photo.data).hexdigest() == photo.sha256
        assert photo.data[:2] == b"\xff\xd8"  # the watermarked JPEG as stored
    assert report.photos[0].caption.startswith("热水器烟道安装规范、无脱节 · ")
    signature = report.signature
    assert signature is not None and signature.signer == "陈桂芳"
    assert signature.png[:8] == b"\x89PNG\r\n\x1a\n"
    assert hashlib.sha256(signature.png).hexdigest() == signature.sha256


def test_a_damaged_file_is_not_shown_but_the_hash_stays(inspected: tuple[Replica, str]) -> None:
    replica, sub_id = inspected
    before = from_replica(replica, sub_id)
    path = replica.evidence.blob_path(before.photos[0].sha256)
    path.write_bytes(b"not the photo")
    after = from_replica(replica, sub_id)
    assert after.photos[0].data is None and after.photos[1].data is not None
    assert after.content_hash == before.content_hash  # a re-synced file restores the copy
    path.unlink()
    assert from_replica(replica, sub_id).photos[0].data is None


def _pulled(replica: Replica, table: str, record_id: str, **fields: object) -> RecordChange:
    """A record as a pull brings it: the stored row with ``fields`` changed by the office."""
    row = {**(replica.find(table, record_id) or {}), **fields}
    return RecordChange(table=table, record_id=record_id, version=99,
                        row={c: row.get(c) for c in TABLES[table].columns})


def test_office_steps_after_the_visit_leave_the_report_alone(
        inspected: tuple[Replica, str]) -> None:
    replica, sub_id = inspected
    before = from_replica(replica, sub_id)
    assert [(h.from_status, h.to_status) for h in before.history] == [
        ("dispatched", "accepted"), ("accepted", "in_service"), ("in_service", "completed")]
    with replica.transaction() as db:  # the visit was pushed: nothing local is pending
        db.execute("UPDATE outbox SET state = 'done' WHERE state = 'pending'")
    apply_changes(replica, [
        _pulled(replica, "job_status_history", "h-follow", job_id="job-1", customer_id="cust-1",
                from_status="completed", to_status="followed_up",
                at="2099-01-01T10:00:00+08:00", by_user="dispatcher"),
        _pulled(replica, "jobs", "job-1", status="followed_up", summary="回访：用户满意"),
        _pulled(replica, "customers", "cust-1", phone="13900000000"),
    ])
    assert replica.get("jobs", "job-1")["status"] == "followed_up"
    after = from_replica(replica, sub_id)
    assert after.history == before.history
    assert after.content_hash == before.content_hash


def test_hash_is_stable_and_follows_every_printed_answer(fresh_replica: Replica) -> None:
    sub_id = v2_draft(fresh_replica, "job-1")
    first = from_replica(fresh_replica, sub_id)
    assert from_replica(fresh_replica, sub_id).content_hash == first.content_hash
    assert len(first.content_hash) == 64
    fresh_replica.submissions.answer(sub_id, "remarks", "厨房窗户常关")
    second = from_replica(fresh_replica, sub_id)
    assert second.content_hash != first.content_hash
    fresh_replica.submissions.answer(sub_id, "stove_flameout", "fail", "灶具无熄火保护")
    assert from_replica(fresh_replica, sub_id).content_hash != second.content_hash


def test_nested_form_lines_name_their_section_and_instance(fresh_replica: Replica) -> None:
    report = from_replica(fresh_replica, v2_draft(fresh_replica, "job-1"))
    assert report.form_version == 2 and report.state == "draft"
    lines = {a.path: a for a in report.answers}
    assert lines["visit_outcome"].text == "已入户检查"
    assert lines["location"].text == "32.02010, 118.80020 ±6m"
    assert lines["meter_reading"].text == "1250.5 m³"
    assert lines["meter_reading"].section == "燃气表与抄表"
    assert lines["appliances[1].appliance_kind"].text == "燃气热水器"
    assert lines["appliances[1].appliance_kind"].section == "燃气具（每台一项） 第2项"
    assert lines["customer_briefed"].text == "是"
    assert lines["leak_test_joints"].text == "未填"
    assert "nobody_home_note" not in lines  # another visit outcome's question: not relevant
    assert "previous_reading" not in lines and "gas_used" not in lines
    assert [(h.path, h.level) for h in report.hazards] == [("stove_flameout", "serious")]
    assert report.counts()["fail"] == 1 and report.counts()["unanswered"] == 26


def test_a_server_style_database_gives_the_same_report(inspected: tuple[Replica, str],
                                                        tmp_path: Path) -> None:
    """The server's tables have the replica's columns, plus users with display names."""
    replica, sub_id = inspected
    # the replica and its files are encrypted: plain copies, as the server keeps them
    attachments = tmp_path / "attachments"
    for (sha,) in replica.db.execute("SELECT sha256 FROM blobs"):
        (attachments / sha[:2]).mkdir(parents=True, exist_ok=True)
        (attachments / sha[:2] / sha).write_bytes(replica.evidence.read_blob(sha))
    replica.db.execute("ATTACH DATABASE ? AS plain KEY ''", [str(tmp_path / "server.sqlite3")])
    replica.db.execute("SELECT sqlcipher_export('plain')")
    replica.db.execute("DETACH DATABASE plain")
    copy = sqlite3.connect(tmp_path / "server.sqlite3")
    copy.execute("CREATE TABLE users (username TEXT PRIMARY KEY, display_name TEXT NOT NULL)")
    copy.execute("INSERT INTO users VALUES ('tech01', '王建国')")
    server = from_sqlite(copy, sub_id, attachments)
    tablet = from_replica(replica, sub_id)
    assert server == tablet
    assert server.content_hash == tablet.content_hash
    copy.close()


def test_unknown_submission(fresh_replica: Replica) -> None:
    with pytest.raises(NotFound) as caught:
        from_replica(fresh_replica, "no-such-submission")
    assert caught.value.code == "unknown_record"


def test_report_is_plain_data(inspected: tuple[Replica, str]) -> None:
    report = from_replica(*inspected)
    assert isinstance(report, InspectionReport)
    canonical = report.canonical()
    assert "definition" not in canonical
    assert all("data" not in p for p in canonical["photos"])
    assert "png" not in canonical["signature"]


def test_a_line_and_an_area_print_as_their_points_and_measure() -> None:
    from fieldapp.forms.loader import load_definition
    from fieldapp.reports.lines import answer_text

    d = load_definition({"code": "dig", "version": 1, "title": {"zh": "开挖"}, "items": [
        {"key": "route", "type": "geotrace", "label": {"zh": "管线走向"}},
        {"key": "dig", "type": "geoshape", "label": {"zh": "开挖范围"}}]})
    route = [{"lat": 32.0, "lon": 118.78}, {"lat": 32.01, "lon": 118.78}]
    square = [{"lat": 32.0, "lon": 118.78}, {"lat": 32.0002, "lon": 118.78},
              {"lat": 32.0002, "lon": 118.78024}, {"lat": 32.0, "lon": 118.78024}]
    assert answer_text(d.by_key["route"], route) == "2 个点，全长约 1,113 米"
    assert answer_text(d.by_key["dig"], square) == "4 个点，面积约 504 平方米"
    assert answer_text(d.by_key["dig"], None) == answer_text(d.by_key["route"], [])

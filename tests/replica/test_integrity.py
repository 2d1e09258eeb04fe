"""The start-up check: a sound tablet passes; a damaged database or a photo damaged or lost
before its upload is found, and the unsent work is saved aside first, as far as it can be
read; the user is told in words."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from fieldapp.replica import Replica, integrity
from tests.world import seed_replica


def tablet_with_unsent_work(data_dir: Path) -> tuple[str, int]:
    """A replica with a job accepted and a photo taken, nothing sent; the photo's sha256."""
    replica = Replica.open(data_dir)
    seed_replica(replica)
    replica.jobs.transition("job-1", "accepted")
    photo = data_dir / "meter.jpg"
    Image.new("RGB", (640, 480), (100, 120, 140)).save(photo)
    attachment = replica.evidence.add_photo("job-1", photo)
    sha = replica.get("attachments", attachment)["sha256"]
    pending = replica.outbox.counts()["pending"]
    replica.close()
    return sha, pending


def test_a_sound_tablet_passes(tmp_path: Path) -> None:
    _, pending = tablet_with_unsent_work(tmp_path)
    report = integrity.check(tmp_path)
    assert report.ok and report.unsent == pending > 0
    assert integrity.check(tmp_path / "new-tablet").ok  # nothing there yet


def test_a_damaged_photo_is_found_and_the_work_saved_aside(tmp_path: Path) -> None:
    sha, pending = tablet_with_unsent_work(tmp_path)
    blob = tmp_path / "blobs" / sha[:2] / sha
    blob.write_bytes(blob.read_bytes()[:-100] + b"\0" * 100)
    report = integrity.check(tmp_path)
    assert report.problems == [("file_damaged", sha)]

    folder = integrity.rescue(tmp_path)
    saved = json.loads((folder / "unsent.json").read_text("utf-8"))
    assert len(saved["changes"]) == pending
    assert {c["tbl"] for c in saved["changes"]} >= {"jobs", "job_status_history", "attachments"}
    [photo] = [c for c in saved["changes"] if c["tbl"] == "attachments"]
    assert photo["record"]["sha256"] == sha
    assert saved["files"] == [{"sha256": sha, "intact": False}]
    assert (folder / "files" / sha).read_bytes() == blob.read_bytes()

    blob.unlink()
    assert integrity.check(tmp_path).problems == [("file_missing", sha)]


def test_a_damaged_database_is_found_and_what_can_be_read_is_saved(tmp_path: Path) -> None:
    tablet_with_unsent_work(tmp_path)
    db = tmp_path / "replica.sqlite3"
    data = bytearray(db.read_bytes())
    page = 4096
    for n in range(2, len(data) // page, 3):  # scribble over every third page
        data[n * page + 100:n * page + 400] = b"\xde\xad" * 150
    db.write_bytes(bytes(data))

    report = integrity.check(tmp_path)
    assert report.problems and report.problems[0][0] in ("database_damaged",
                                                         "database_unopenable")
    folder = integrity.rescue(tmp_path)  # does not raise, whatever it meets
    saved = json.loads((folder / "unsent.json").read_text("utf-8"))
    assert isinstance(saved["changes"], list) and isinstance(saved["unreadable"], list)


def test_the_user_is_told_where_the_work_went(tmp_path: Path) -> None:
    from fieldapp.ui import i18n
    from fieldapp.ui.app import check_data

    sha, _ = tablet_with_unsent_work(tmp_path)
    assert check_data(tmp_path) is None
    (tmp_path / "blobs" / sha[:2] / sha).unlink()
    i18n.set_language("zh")
    message = check_data(tmp_path)
    assert message is not None and f"待上传的文件 {sha[:12]}… 丢失" in message
    assert str(tmp_path / "rescue") in message and "请联系系统管理员" in message

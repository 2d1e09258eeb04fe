"""One inspection from an offline tablet to the back office, through the real server."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from fieldapp.demo.barcodes import write_barcode_png
from fieldapp.errors import ServerUnreachable
from fieldapp.position import Position
from fieldapp.replica import Replica
from fieldapp.sync.client import SyncClient
from tests.conftest import ServerProcess
from tests.server.test_conflict_review import office_session
from tests.world import CHECKLIST, PASSWORD, start_checklist

STROKES = [[[0, 0, 0, 0.4], [40, 10, 16, 0.6], [80, 0, 33, 0.5]],
           [[10, 30, 400, 0.5], [70, 35, 420, 0.5]]]


@pytest.mark.usefixtures("first_sync")
def test_offline_inspection_reaches_the_back_office(server: ServerProcess, tmp_path: Path):
    data_dir = tmp_path / "tablet"
    replica = Replica.open(data_dir)
    client = SyncClient(replica, server.url)
    client.login("tech01", PASSWORD, device_name="pad-7")
    first = client.sync()
    assert first.pulled > 0
    device_id = replica.device_id
    assert [j["id"] for j in replica.jobs.today()] == ["job-1", "job-2"]

    server.stop()  # -- offline from here on ------------------------------------------
    with pytest.raises(ServerUnreachable):
        client.sync()

    replica.jobs.transition("job-1", "accepted")
    scan = replica.evidence.scan_image(write_barcode_png("GM0000000001", tmp_path / "m.png"),
                                       job_id="job-1")
    assert scan["match"]["customer"]["id"] == "cust-1"
    replica.jobs.transition("job-1", "in_service")
    sub_id = start_checklist(replica, "job-1")
    definition = replica.submissions.definition(*CHECKLIST)
    for item in definition["items"][:10]:
        replica.submissions.answer(sub_id, item["key"], "pass")
    replica.close()  # -- quit the client mid-checklist and start it again ---------------

    replica = Replica.open(data_dir)
    client = SyncClient(replica, server.url)
    assert replica.device_id == device_id
    assert len(replica.submissions.answers(sub_id)) == 10
    for item in definition["items"][10:]:
        replica.submissions.answer(sub_id, item["key"], "pass")
    replica.submissions.answer(sub_id, "hose_age", "fail", "橡胶软管已龟裂")
    replica.submissions.submit(sub_id)
    photo = tmp_path / "hose.jpg"
    Image.new("RGB", (640, 480), (180, 90, 30)).save(photo, quality=90)
    here = Position(32.0201, 118.8002, 6.0, datetime.now(UTC), "nmea", 1.5)
    replica.evidence.add_photo("job-1", photo, question="hose_age", position=here)
    replica.evidence.add_signature("job-1", STROKES, "陈桂芳")
    replica.jobs.transition("job-1", "completed")
    assert replica.outbox.counts()["pending"] > 30

    server.start()  # -- back online ----------------------------------------------------
    progress = []
    report = client.sync(progress=progress.append)
    assert report.uploaded_files == 2
    assert {p.phase for p in progress} == {"upload", "push", "pull"}
    assert replica.outbox.counts()["pending"] == 0
    assert replica.outbox.problems() == []

    assert server.scalar("SELECT status FROM jobs WHERE id = 'job-1'") == "completed"
    history = server.query("SELECT from_status, to_status, by_user, device_id, at FROM"
                           " job_status_history WHERE job_id = 'job-1' ORDER BY at")
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        ("dispatched", "accepted"), ("accepted", "in_service"), ("in_service", "completed")]
    assert all(h["by_user"] == "tech01" and h["device_id"] == device_id and h["at"]
               for h in history)
    answers = {r["question"]: (json.loads(r["value"]), r["note"], r["by_user"], r["device_id"])
               for r in server.query("SELECT * FROM answers WHERE submission_id = ?",
                                     [sub_id])}
    assert len(answers) == len(definition["items"])
    assert answers["hose_age"] == ("fail", "橡胶软管已龟裂", "tech01", device_id)
    assert server.scalar("SELECT state FROM submissions WHERE id = ?", [sub_id]) == "submitted"
    [stored] = server.query("SELECT * FROM attachments WHERE job_id = 'job-1'"
                            " AND kind = 'photo'")
    kept = replica.evidence.photos("job-1")[0]  # the watermarked JPEG, not the file given
    assert stored["sha256"] == kept["sha256"] != hashlib.sha256(photo.read_bytes()).hexdigest()
    assert (stored["lat"], stored["lon"], stored["accuracy_m"], stored["fix_age_s"]) == \
        (32.0201, 118.8002, 6.0, 1.5)
    assert stored["by_user"] == "tech01" and stored["device_id"] == device_id
    blob = server.data_dir / "attachments" / stored["sha256"][:2] / stored["sha256"]
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == stored["sha256"]
    [signature] = server.query("SELECT * FROM signatures WHERE job_id = 'job-1'")
    assert json.loads(signature["strokes"]) == STROKES
    assert signature["signer_name"] == "陈桂芳" and signature["device_id"] == device_id
    [scan_row] = server.query("SELECT * FROM scans WHERE job_id = 'job-1'")
    assert (scan_row["code"], scan_row["matched_customer_id"], scan_row["by_user"]) == \
        ("GM0000000001", "cust-1", "tech01")
    assert scan_row["scanned_at"] and scan_row["device_id"] == device_id

    office = office_session(server, "dispatcher")
    listing = office.get(server.url + "/office/", timeout=10)
    assert listing.status_code == 200 and "GD2026112400" in listing.text
    page = office.get(f"{server.url}/office/reports/{sub_id}", timeout=10).text
    assert "橡胶软管已龟裂" in page and "陈桂芳" in page and "已完成" in page
    photo_url = f"{server.url}/office/files/{stored['sha256']}"
    assert photo_url.removeprefix(server.url) in page
    assert office.get(photo_url, timeout=10).content == \
        replica.evidence.read_blob(kept["sha256"])

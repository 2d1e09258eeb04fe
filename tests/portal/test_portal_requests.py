"""Requests from the portal become jobs in dispatch; their progress follows the office and
the technician's synced work; bad photos and bad choices store nothing."""

from __future__ import annotations

import io
import re
import struct
import zlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests
from PIL import Image

from fieldapp.local_time import LOCAL_ZONE
from fieldapp.replica import Replica
from sync_server.clock import ServerClock
from sync_server.services import dispatch, kpis
from sync_server.services.auth import Principal
from sync_server.storage.db import open_database
from tests.conftest import ServerProcess, synced_tablet
from tests.portal.conftest import Inbox, csrf, sign_in
from tests.reports.reportkit import HERE, REPAIR_ANSWERS, scene_photo
from tests.world import STROKES


def jpeg(size: tuple[int, int] = (640, 480), colour: tuple[int, int, int] = (30, 90, 160)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=85)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims a huge picture: an image bomb."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))


def form_of(s: requests.Session, server: ServerProcess, kind: str) -> tuple[str, str]:
    """The request form's CSRF token and its first bookable day."""
    page = s.get(f"{server.url}/portal/requests/new/{kind}", timeout=10).text
    return csrf(page), re.search(r'<option value="(\d{4}-\d\d-\d\d)"', page)[1]  # type: ignore[index]


def transfer(s: requests.Session, server: ServerProcess, id_card: bytes,
             deed: bytes) -> requests.Response:
    token, day = form_of(s, server, "transfer")
    return s.post(f"{server.url}/portal/requests/new/transfer", timeout=30, data={
        "csrf": token, "new_owner": "张小明", "new_phone": "13655556666", "day": day,
        "slot": "pm"}, files={"id_card": ("id.jpg", id_card, "image/jpeg"),
                              "deed": ("deed.jpg", deed, "image/jpeg")})


def test_a_transfer_with_two_photos_becomes_a_job_for_dispatch(portal: ServerProcess,
                                                               inbox: type[Inbox]) -> None:
    s = sign_in(portal, inbox)
    done = transfer(s, portal, jpeg(), jpeg(colour=(200, 200, 180)))
    assert "/portal/requests/" in done.url and "审核中" in done.text
    job = portal.query("SELECT * FROM jobs WHERE id = (SELECT job_id FROM portal_requests)")[0]
    assert (job["kind"], job["status"], job["customer_id"]) == ("meter_reading", "pending",
                                                                 "cust-1")
    assert "新户主 张小明" in job["summary"] and job["number"] in done.text
    assert datetime.fromisoformat(job["due_at"]).astimezone(LOCAL_ZONE).hour == 14
    uploads = portal.query("SELECT role, mime, width, sha256 FROM portal_uploads ORDER BY id")
    assert [(u["role"], u["mime"], u["width"]) for u in uploads] == [
        ("id_card", "image/jpeg", 640), ("deed", "image/jpeg", 640)]
    # The dispatcher sees the photos on the job's page.
    from tests.server.test_conflict_review import office_session

    office = office_session(portal, "dispatcher")
    page = office.get(f"{portal.url}/office/jobs/{job['id']}", timeout=10).text
    assert "网上营业厅申请" in page and all(u["sha256"] in page for u in uploads)
    photo = office.get(f"{portal.url}/office/files/{uploads[0]['sha256']}", timeout=10)
    assert photo.headers["content-type"] == "image/jpeg" and photo.content[:2] == b"\xff\xd8"


def test_bad_photos_are_named_and_nothing_is_stored(portal: ServerProcess,
                                                    inbox: type[Inbox]) -> None:
    s = sign_in(portal, inbox)
    cases = {
        "不是图片或已损坏": (b"%PDF-1.4 not a photo", jpeg()),
        "超过 5 MB": (jpeg() + b"\0" * (5 * 1024 * 1024), jpeg()),
        "尺寸过大": (png_claiming(30000, 30000), jpeg()),
        "已损坏": (jpeg((1600, 1200))[:5000], jpeg()),
    }
    for words, (id_card, deed) in cases.items():
        refused = transfer(s, portal, id_card, deed)
        assert refused.status_code == 422 and words in refused.text, words
        assert "新户主身份证照片" in refused.text and 'value="张小明"' in refused.text
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    refused = transfer(s, portal, gif.getvalue(), b"")
    assert "应为 JPG、PNG 或 WebP" in refused.text and "请选择房产证或租赁合同照片" in refused.text
    huge = s.post(f"{portal.url}/portal/requests/new/transfer", timeout=30,
                  data={"csrf": "x"}, files={"id_card": ("a.jpg", b"\0" * (13 * 1024 * 1024))})
    assert huge.status_code == 413 and "没有保存任何内容" in huge.text
    token, _ = form_of(s, portal, "repair")
    empty = s.post(f"{portal.url}/portal/requests/new/repair", timeout=10,
                   data={"csrf": token, "day": "2020-01-01", "slot": "night"})
    assert empty.status_code == 422 and "请描述故障情况" in empty.text
    assert "上门日期应在明天到 30 天内" in empty.text
    for table in ("portal_requests", "portal_uploads", "blobs"):
        assert portal.scalar(f"SELECT count(*) FROM {table}") == 0, table
    assert portal.scalar("SELECT count(*) FROM jobs WHERE kind = 'meter_reading'") == 0


def test_progress_follows_dispatch_and_the_tablet_then_the_rating_counts(
        portal: ServerProcess, inbox: type[Inbox], tmp_path: Path) -> None:
    s = sign_in(portal, inbox)
    token, day = form_of(s, portal, "repair")
    made = s.post(f"{portal.url}/portal/requests/new/repair", timeout=10, data={
        "csrf": token, "description": "热水器打不着火，有燃气味", "day": day, "slot": "am"})
    url = made.url.split("?")[0]
    job_id = portal.scalar("SELECT job_id FROM portal_requests")
    assert portal.scalar("SELECT priority FROM jobs WHERE id = ?", [job_id]) == 2  # gas smell

    def step() -> str:
        return re.search(r'<span id="step">(\w+)</span>', s.get(url, timeout=10).text)[1]  # type: ignore[index]

    assert step() == "审核中"
    db = open_database(portal.data_dir, portal.database_url)
    with db.write() as conn:
        dispatch.assign(conn, Principal("dispatcher", "赵敏", "dispatcher", None, "web"),
                        ServerClock(), job_id, "tech01", "就近")
    assert step() == "待上门"
    replica, client = synced_tablet(portal, tmp_path / "tablet")
    replica.jobs.transition(job_id, "accepted")
    replica.jobs.transition(job_id, "en_route")
    client.sync()
    assert step() == "待上门" and "王师傅" in s.get(url, timeout=10).text
    replica.jobs.transition(job_id, "in_service")
    client.sync()
    assert step() == "服务中"
    early = s.post(url + "/rate", data={"csrf": token, "stars": 5}, timeout=10)
    assert early.status_code == 409 and "完成后才能评价" in early.text
    fill_repair_report(replica, job_id, tmp_path)  # rated 4 on the tablet
    replica.jobs.transition(job_id, "completed")
    client.sync()
    page = s.get(url, timeout=10).text
    assert step() == "已完成" and 'id="rating"' in page and "师傅已出发" in page
    rated = s.post(url + "/rate", data={"csrf": token, "stars": 2, "comment": "等了很久"},
                   timeout=10)
    assert "★★☆☆☆" in rated.text and "等了很久" in rated.text
    twice = s.post(url + "/rate", data={"csrf": token, "stars": 5}, timeout=10)
    assert twice.status_code == 409 and portal.scalar("SELECT rating FROM portal_requests") == 2
    today = datetime.now(LOCAL_ZONE).date()
    with db.read() as conn:
        figures = kpis.figures(conn, kpis.Period(today - timedelta(days=1), today),
                               datetime.now(UTC))
    db.close()
    # The customer's own rating counts, not the one given on the technician's tablet.
    assert (figures.satisfaction, figures.ratings) == (2.0, 1)
    replica.close()


def fill_repair_report(replica: Replica, job_id: str, folder: Path) -> None:
    """The repair report of a job in service, filled, photographed, signed and submitted."""
    sub_id = replica.forms.start(job_id)
    for path, value in REPAIR_ANSWERS:
        replica.submissions.answer(sub_id, path, value)
    replica.submissions.answer(sub_id, "leak_retest", "pass")
    for n, question in enumerate(("before_photos", "after_photos")):
        photo = folder / f"{question}.jpg"
        scene_photo(800, 600, seed=n).save(photo, quality=85)
        replica.evidence.add_photo(job_id, photo, question=question, position=HERE)
    replica.evidence.add_signature(job_id, STROKES, "陈桂芳")
    replica.forms.submit(sub_id)


def test_booking_an_inspection_moves_the_planned_one(portal: ServerProcess,
                                                     inbox: type[Inbox]) -> None:
    s = sign_in(portal, inbox)
    planned = portal.scalar("SELECT due_at FROM jobs WHERE id = 'job-1'")
    count = "SELECT count(*) FROM jobs WHERE kind = 'inspection' AND customer_id = 'cust-1'"
    before = portal.scalar(count)
    token, day = form_of(s, portal, "inspection")
    moved = s.post(f"{portal.url}/portal/requests/new/inspection", timeout=10,
                   data={"csrf": token, "day": day, "slot": "pm"})
    assert "已按您的选择改约" in moved.text
    due = datetime.fromisoformat(portal.scalar("SELECT due_at FROM jobs WHERE id = 'job-1'"))
    assert due.astimezone(LOCAL_ZONE).date() == date.fromisoformat(day) and due.hour == 14
    assert portal.scalar("SELECT job_id FROM portal_requests") == "job-1"
    assert portal.scalar(count) == before  # moved, not booked a second time
    assert planned != portal.scalar("SELECT due_at FROM jobs WHERE id = 'job-1'")


def test_a_customer_submits_at_most_five_requests_a_day(portal: ServerProcess,
                                                        inbox: type[Inbox]) -> None:
    s = sign_in(portal, inbox)
    token, day = form_of(s, portal, "installation")
    answers = []
    for n in range(6):
        answers.append(s.post(f"{portal.url}/portal/requests/new/installation", timeout=10,
                              data={"csrf": token, "description": f"燃气灶 {n}", "day": day,
                                    "slot": "am"}))
    assert [a.status_code for a in answers[:5]] == [200] * 5
    assert answers[5].status_code == 429 and "24 小时内最多在网上提交 5 项业务" in answers[5].text
    assert portal.scalar("SELECT count(*) FROM jobs WHERE kind = 'installation'") == 5


def test_a_form_that_is_not_multipart_or_has_too_many_files_is_refused_in_words(
        portal: ServerProcess, inbox: type[Inbox]) -> None:
    s = sign_in(portal, inbox)
    token, day = form_of(s, portal, "repair")
    many = s.post(f"{portal.url}/portal/requests/new/repair", timeout=10,
                  data={"csrf": token, "description": "x", "day": day, "slot": "am"},
                  files=[("fault", (f"{n}.jpg", jpeg((8, 8)), "image/jpeg")) for n in range(5)])
    assert many.status_code == 400 and "文件过多" in many.text
    assert portal.scalar("SELECT count(*) FROM portal_requests") == 0

"""Files in the back office: served inline only when their bytes are an image, as the type the
bytes are; anything else a download; another district's files unknown to a district account."""

from __future__ import annotations

import hashlib
import io

import pytest
import requests
from PIL import Image

from fieldapp.file_kinds import sniff
from fieldapp.ids import new_id
from fieldapp.local_time import now_iso
from sync_server.services.auth import add_user
from sync_server.services.records import insert_records
from sync_server.storage.db import open_database
from tests.conftest import ServerProcess
from tests.server.test_conflict_review import office_session
from tests.server.test_sync_api import login, mutation, push
from tests.world import PASSWORD

HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def png(size: tuple[int, int] = (32, 24)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 90, 40)).save(out, "PNG")
    return out.getvalue()


def upload(server: ServerProcess, headers: dict, data: bytes) -> str:
    """The bytes through the tablet's upload door, whole in one chunk; their sha256."""
    sha = hashlib.sha256(data).hexdigest()
    resp = requests.put(f"{server.url}/api/v1/attachments/{sha}", data=data, headers=headers,
                        params={"offset": 0, "total": len(data)}, timeout=30)
    assert resp.status_code == 200 and resp.json()["complete"], resp.text
    return sha


def push_photo(server: ServerProcess, headers: dict, device: str, data: bytes,
               job: str = "job-1", customer: str = "cust-1", mime: str = "image/jpeg") -> str:
    """A tablet's photo of ``job``: its bytes uploaded, then its record pushed; the sha256."""
    sha = upload(server, headers, data)
    result = push(server, headers, device, [mutation("attachments", new_id(), {
        "sha256": sha, "job_id": job, "customer_id": customer, "kind": "photo",
        "mime": mime, "size": len(data), "captured_at": now_iso()},
        op="insert")]).json()["results"][0]
    assert result["status"] == "applied", result
    return sha


def stored_before_sniffing(server: ServerProcess, sha: str, customer: str, mime: str) -> None:
    """An attachment record as one stored before records were allow-listed by content
    (the push door now refuses it): the office must still never render it."""
    db = open_database(server.data_dir, server.database_url)
    try:
        with db.write() as conn:
            insert_records(conn, "attachments", [{
                "id": new_id(), "sha256": sha, "job_id": "job-1", "customer_id": customer,
                "kind": "photo", "mime": mime, "size": len(HTML), "by_user": "tech01"}])
    finally:
        db.close()


@pytest.mark.parametrize(("head", "kind"), [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"), (png(), "image/png"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"), (b"%PDF-1.7\n", "application/pdf"),
    (HTML, None), (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None), (b"GIF89a", None),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", "audio/wav"), (b"", None), (b"\xff\xd8", None)],
    ids=["jpeg", "png", "webp", "pdf", "html", "svg", "gif", "wav", "empty", "cut-jpeg"])
def test_sniff_knows_only_the_accepted_kinds(head: bytes, kind: str | None):
    assert sniff(head) == kind


def test_only_images_are_shown_and_as_what_they_are(server: ServerProcess):
    tech = login(server, "tech01", "pad-1")
    photo = png()
    photo_sha = push_photo(server, tech, "pad-1", photo, mime="image/jpeg")  # declared wrong
    html_sha = upload(server, tech, HTML)
    stored_before_sniffing(server, html_sha, "cust-1", "image/jpeg")
    pdf = b"%PDF-1.4\n% a delivery note\n"
    pdf_sha = upload(server, tech, pdf)
    stored_before_sniffing(server, pdf_sha, "cust-1", "application/pdf")

    office = office_session(server, "dispatcher")
    shown = office.get(f"{server.url}/office/files/{photo_sha}", timeout=10)
    assert shown.status_code == 200 and shown.content == photo
    assert shown.headers["content-type"] == "image/png"  # what the bytes are
    assert "content-disposition" not in shown.headers
    assert shown.headers["x-content-type-options"] == "nosniff"

    for sha, data, ext in ((html_sha, HTML, "bin"), (pdf_sha, pdf, "pdf")):
        got = office.get(f"{server.url}/office/files/{sha}", timeout=10)
        assert got.status_code == 200 and got.content == data
        assert got.headers["content-type"] == "application/octet-stream"
        assert got.headers["content-disposition"] == \
            f'attachment; filename="fieldapp-{sha[:16]}.{ext}"'
        assert got.headers["x-content-type-options"] == "nosniff"


def test_a_district_account_gets_no_file_of_another_district(server: ServerProcess):
    db = open_database(server.data_dir, server.database_url)
    with db.write() as conn:
        add_user(conn, "gulou_dispatch", "鼓楼调度", "dispatcher", PASSWORD, "鼓楼区")
        add_user(conn, "qinhuai_super", "秦淮主管", "supervisor", PASSWORD, "秦淮区")
    db.close()
    qinhuai_photo = push_photo(server, login(server, "tech01", "pad-1"), "pad-1", png())
    gulou_photo = push_photo(server, login(server, "tech02", "pad-2"), "pad-2",
                             png((40, 30)), job="job-3", customer="cust-3")
    # A customer of 鼓楼区 sent a photo with a portal request.
    portal_photo = upload(server, login(server, "tech02", "pad-2"), png((50, 20)))
    db = open_database(server.data_dir, server.database_url)
    with db.write() as conn:
        conn.execute("INSERT INTO portal_uploads(request_id, customer_id, role, sha256, mime,"
                     " size, width, height, created_at) VALUES ('req-1', 'cust-3', 'fault',"
                     " ?, 'image/png', 100, 50, 20, ?)", [portal_photo, now_iso()])
    db.close()

    gulou = office_session(server, "gulou_dispatch")
    qinhuai = office_session(server, "qinhuai_super")
    everyone = office_session(server, "supervisor")  # no district: every file
    unknown = "f" * 64

    def status(session: requests.Session, sha: str) -> tuple[int, str | None]:
        resp = session.get(f"{server.url}/office/files/{sha}", timeout=10)
        return resp.status_code, resp.json()["error"] if resp.status_code != 200 else None

    assert status(gulou, gulou_photo) == (200, None)
    assert status(gulou, portal_photo) == (200, None)
    assert status(gulou, qinhuai_photo) == status(gulou, unknown) == (404, "unknown_file")
    assert status(qinhuai, qinhuai_photo) == (200, None)
    assert status(qinhuai, gulou_photo) == (404, "unknown_file")
    assert status(qinhuai, portal_photo) == (404, "unknown_file")
    assert {status(everyone, s) for s in (qinhuai_photo, gulou_photo, portal_photo)} == {
        (200, None)}

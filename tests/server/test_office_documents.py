"""The back office hands out each form's report and the rectification notice as PDFs, the
same bytes the tablet renders offline from the same synced data."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from PIL import Image

from fieldapp.local_time import LOCAL_ZONE
from fieldapp.position import Position
from fieldapp.reports import inspection_pdf, rectification_pdf, repair_pdf
from fieldapp.reports.report_data import from_replica
from sync_server.storage.db import open_database
from tests.conftest import ServerProcess, synced_tablet
from tests.portal.test_portal_requests import png_claiming
from tests.reports.reportkit import page_count, qr_codes, repair_done, text_of, write
from tests.server.test_conflict_review import office_session
from tests.server.test_office_files import push_photo
from tests.server.test_sync_api import login
from tests.world import complete_inspection, inspect_household


def test_report_and_notice_pdfs_match_the_tablets(server: ServerProcess, tmp_path: Path):
    replica, client = synced_tablet(server, tmp_path / "tablet")
    sub_id = complete_inspection(replica, "job-1", tmp_path / "photo.jpg")
    client.sync()

    office = office_session(server, "dispatcher")
    page = office.get(f"{server.url}/office/reports/{sub_id}", timeout=10).text
    assert f"/office/reports/{sub_id}/report.pdf" in page
    assert f"/office/reports/{sub_id}/notice.pdf" in page
    report = office.get(f"{server.url}/office/reports/{sub_id}/report.pdf", timeout=30)
    notice = office.get(f"{server.url}/office/reports/{sub_id}/notice.pdf", timeout=30)
    assert report.headers["content-type"] == "application/pdf"
    assert "filename*=UTF-8''GD" in report.headers["content-disposition"]

    on_tablet = from_replica(replica, sub_id)
    assert report.content == inspection_pdf.render(on_tablet)
    assert notice.content == rectification_pdf.render(on_tablet)
    text = text_of(write(notice.content, tmp_path / "notice.pdf"))
    assert "隐患整改通知书" in text and "橡胶软管已龟裂" in text
    assert page_count(write(report.content, tmp_path / "report.pdf")) >= 1

    missing = office.get(f"{server.url}/office/reports/nope/report.pdf", timeout=10)
    assert (missing.status_code, missing.json()["error"]) == (404, "unknown_report")
    unknown = office.get(f"{server.url}/office/reports/{sub_id}/other.pdf", timeout=10)
    assert unknown.status_code == 404


def test_a_repair_report_is_served_in_its_own_layout(server: ServerProcess, tmp_path: Path):
    replica, client = synced_tablet(server, tmp_path / "tech02", "tech02")
    sub_id = repair_done(replica, "job-3", tmp_path)
    client.sync()

    office = office_session(server, "supervisor")
    report = office.get(f"{server.url}/office/reports/{sub_id}/report.pdf", timeout=30)
    assert report.status_code == 200
    assert report.content == repair_pdf.render(from_replica(replica, sub_id))
    assert quote("维修工单报告.pdf") in report.headers["content-disposition"]
    assert "维修记录" in text_of(write(report.content, tmp_path / "repair.pdf"))
    notice = office.get(f"{server.url}/office/reports/{sub_id}/notice.pdf", timeout=30)
    assert (notice.status_code, notice.json()["error"]) == (404, "no_hazards")


def test_the_utility_named_by_the_server_heads_every_document(server: ServerProcess,
                                                              tmp_path: Path):
    server.stop()
    server.start(FIELDAPP_UTILITY_NAME="江宁港华燃气有限公司")
    replica, client = synced_tablet(server, tmp_path / "tablet")
    assert replica.get("org_settings", "utility_name")["value"] == "江宁港华燃气有限公司"
    sub_id = complete_inspection(replica, "job-1", tmp_path / "photo.jpg")
    client.sync()

    on_tablet = from_replica(replica, sub_id)
    assert on_tablet.utility == "江宁港华燃气有限公司"
    office = office_session(server, "dispatcher")
    report = office.get(f"{server.url}/office/reports/{sub_id}/report.pdf", timeout=30)
    assert report.content == inspection_pdf.render(on_tablet)
    assert "江宁港华燃气有限公司" in text_of(write(report.content, tmp_path / "report.pdf"))
    # Restarting with the same name publishes nothing new.
    published = server.scalar("SELECT count(*) FROM changes WHERE tbl = 'org_settings'")
    server.stop()
    server.start(FIELDAPP_UTILITY_NAME="江宁港华燃气有限公司")
    assert server.scalar("SELECT count(*) FROM changes WHERE tbl = 'org_settings'") == published


def test_the_report_page_shows_any_form_version(server: ServerProcess, tmp_path: Path):
    replica, client = synced_tablet(server, tmp_path / "tablet")
    sub_id = inspect_household(replica, "job-1", tmp_path, {"hose_age": "软管老化开裂"})
    door = tmp_path / "door.jpg"
    Image.new("RGB", (640, 480), (90, 90, 90)).save(door)
    replica.evidence.add_photo("job-1", door, position=Position(
        32.0203, 118.8, 6.0, datetime.now(UTC), "nmea"))  # ~33 m north of the address
    client.sync()

    office = office_session(server, "dispatcher")
    page = office.get(f"{server.url}/office/reports/{sub_id}", timeout=10)
    assert page.status_code == 200
    assert 'id="photo-map"' in page.text and "距登记地址约 33 m" in page.text
    html = page.text
    assert "居民户内燃气安全检查 · GD2026112400" in html and "v2" in html
    assert 'data-path="appliances[0].appliance_kind"' in html and "燃气灶" in html
    assert "燃气具（每台一项） 第1项" in html  # the repeat instance's section row
    assert 'id="hazards"' in html and "软管老化开裂" in html
    assert f"/office/reports/{sub_id}/notice.pdf" in html


def test_reports_are_found_by_customer_technician_kind_day_and_hazard(
        server: ServerProcess, tmp_path: Path):
    replica, client = synced_tablet(server, tmp_path / "tablet")
    with_hazard = complete_inspection(replica, "job-1", tmp_path / "photo.jpg")
    clean = inspect_household(replica, "job-2", tmp_path)
    client.sync()
    office = office_session(server, "dispatcher")

    def found(**params: str) -> set[str]:
        page = office.get(f"{server.url}/office/", params=params, timeout=10).text
        return {s for s in (with_hazard, clean) if f"/office/reports/{s}" in page}

    assert found() == {with_hazard, clean}
    assert found(hazards="yes") == {with_hazard}
    assert found(hazards="no") == {clean}
    assert found(q="陈桂芳") == {with_hazard} and found(q="320100000002") == {clean}
    assert found(q="中华路") == {clean}  # part of the address
    assert found(technician="王建国") == {with_hazard, clean}
    assert found(technician="tech02") == set()
    assert found(kind="repair") == set()
    today = datetime.now(LOCAL_ZONE).date()
    assert found(since=today.isoformat()) == {with_hazard, clean}
    assert found(until=(today - timedelta(days=1)).isoformat()) == set()


def test_a_printed_report_is_verified_from_its_qr_code(server: ServerProcess, tmp_path: Path):
    replica, client = synced_tablet(server, tmp_path / "tablet")
    sub_id = complete_inspection(replica, "job-1", tmp_path / "photo.jpg")
    client.sync()
    office = office_session(server, "supervisor")
    pdf = write(office.get(f"{server.url}/office/reports/{sub_id}/report.pdf",
                           timeout=30).content, tmp_path / "printed.pdf")
    [code] = qr_codes(pdf, 1, tmp_path / "scan")

    def verdict(text: str) -> str:
        page = office.get(f"{server.url}/office/verify", params={"code": text}, timeout=30)
        return re.search(r'id="verdict">([^<]*)', page.text)[1]

    assert verdict(code).startswith("一致")
    db = open_database(server.data_dir, server.database_url)
    with db.write() as conn:  # the record changed after printing (here: behind our back)
        conn.execute("UPDATE answers SET note = '改过' WHERE submission_id = ?"
                     " AND question = 'hose_age'", [sub_id])
    db.close()
    assert verdict(code).startswith("不一致")
    assert verdict("hello").startswith("无法识别")
    assert verdict(code.replace(sub_id, "no-such-report")).startswith("系统中没有报告")


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status)[1]) / 1024


def test_oversized_or_broken_photos_print_as_placeholders(server: ServerProcess,
                                                           tmp_path: Path):
    replica, client = synced_tablet(server, tmp_path / "tablet")
    sub_id = complete_inspection(replica, "job-1", tmp_path / "photo.jpg")
    client.sync()
    # Three more photos of the job, sent by a tablet through the sync door as bytes and
    # records: a real 8000×8000 PNG (64 megapixels, 600 MB to decode and print), a PNG whose
    # header claims 20000×20000 (400 megapixels: Pillow's own bomb limit), a cut-off PNG.
    out = io.BytesIO()
    Image.new("L", (8000, 8000), 40).save(out, "PNG")
    huge = out.getvalue()
    assert len(huge) < 2 * 1024 * 1024  # one upload chunk
    ok = io.BytesIO()
    Image.effect_noise((600, 400), 60).convert("RGB").save(ok, "PNG")
    tech = login(server, "tech01", "pad-docs")
    for data in (huge, png_claiming(20000, 20000), ok.getvalue()[:5000]):
        push_photo(server, tech, "pad-docs", data)
    before = _peak_rss_mb(server.proc.pid)

    office = office_session(server, "dispatcher")
    report = office.get(f"{server.url}/office/reports/{sub_id}/report.pdf", timeout=60)
    assert report.status_code == 200 and report.headers["content-type"] == "application/pdf"
    text = text_of(write(report.content, tmp_path / "report.pdf"))
    assert text.count("照片过大，未显示") == 2 and text.count("照片无法读取") == 1
    # None of them was decoded: the server's peak memory did not grow by the 190 MB that
    # even one decoded 8000×8000 picture takes.
    assert _peak_rss_mb(server.proc.pid) - before < 100
    assert office.get(f"{server.url}/office/reports/{sub_id}", timeout=30).status_code == 200

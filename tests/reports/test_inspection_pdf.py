"""The inspection report PDF, read back with poppler: text, pages, images, fonts, QR, pixels."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from reportlab.pdfbase import pdfmetrics

from fieldapp.local_time import local_text
from fieldapp.replica import Replica
from fieldapp.reports import inspection_pdf
from fieldapp.reports.pdf_common import font, verify_uri
from fieldapp.reports.report_data import InspectionReport, from_replica
from tests.reports.reportkit import (
    FAILED,
    fonts,
    images,
    info,
    page_count,
    qr_codes,
    render_page,
    rich_inspection,
    squash,
    text_of,
    v2_draft,
    write,
)

ROOT = Path(__file__).resolve().parents[2]
FAIL_FILL = (0xFD, 0xE2, 0xE1)


@pytest.fixture
def inspected(fresh_replica: Replica, tmp_path: Path) -> tuple[InspectionReport, Path]:
    report = from_replica(fresh_replica, rich_inspection(fresh_replica, "job-1", tmp_path))
    return report, write(inspection_pdf.render(report), tmp_path / "report.pdf")


def test_text_has_header_answers_hazards_and_hash(
        inspected: tuple[InspectionReport, Path]) -> None:
    report, pdf = inspected
    text = squash(text_of(pdf))
    for expected in ["金陵城市燃气有限公司", "居民户内燃气安全检查报告", "GD202611240001",
                     "陈桂芳", "320100000001", "秦淮区龙蟠中路218号金陵小区3栋2单元502室",
                     "王建国（tech01）", "已提交", "扫码核验",
                     "检查项目共26项：合格22项，不合格3项，不适用1项；发现安全隐患3处",
                     "接口处漏气检测（肥皂水/检漏仪）", "已向用户宣传安全用气知识",
                     "一、检查结果", "二、安全隐患及整改期限", "三、现场照片", "四、用户签字确认",
                     "签字人：陈桂芳", "五、工单状态记录", "服务中→已完成",
                     f"内容校验码SHA-256{report.content_hash}", f"报告编号{report.report_id}"]:
        assert expected in text, expected
    assert text.count("不合格") == 4  # three rows and the summary
    assert text.count("不适用") == 2
    for note in FAILED.values():
        assert squash(note) in text
    for hazard in report.hazards:
        row = f"{hazard.label}{hazard.level_label}{squash(local_text(hazard.due_at))}前"
        assert squash(row) in text, row
    assert "第1页/共2页" in text and "第2页/共2页" in text


def test_pages_images_and_metadata(inspected: tuple[InspectionReport, Path]) -> None:
    report, pdf = inspected
    assert page_count(pdf) == 2
    found = images(pdf)
    photos = [i for i in found if i["enc"] == "jpeg"]
    assert [(i["width"], i["height"], i["color"]) for i in photos] == [("1600", "1200", "rgb")] * 2
    [signature] = [i for i in found if i["enc"] != "jpeg"]
    assert (signature["width"], signature["height"], signature["color"]) == ("800", "300", "gray")
    meta = info(pdf)
    assert meta["Page size"].strip().startswith("595.276 x 841.89")
    assert meta["Title"].strip() == "居民户内燃气安全检查报告 GD202611240001"
    assert meta["Author"].strip() == "金陵城市燃气有限公司"


def test_every_character_has_a_glyph_in_the_embedded_font(
        inspected: tuple[InspectionReport, Path]) -> None:
    _, pdf = inspected
    listed = fonts(pdf).splitlines()[2:]
    assert listed and all("WenQuanYiMicroHei" in line for line in listed)
    assert all(line.split()[-5:-2] == ["yes", "yes", "yes"] for line in listed)  # emb sub uni
    glyphs = pdfmetrics.getFont(font()).face.charToGlyph
    missing = {c for c in text_of(pdf) if not c.isspace() and glyphs.get(ord(c), 0) == 0}
    assert not missing, f"tofu for {sorted(missing)}"


def test_qr_code_holds_report_id_and_hash(inspected: tuple[InspectionReport, Path],
                                          tmp_path: Path) -> None:
    report, pdf = inspected
    decoded = qr_codes(pdf, 1, tmp_path / "qr")
    assert decoded == [verify_uri("inspection", report.report_id, report.content_hash)]
    assert report.content_hash in decoded[0] and report.report_id in decoded[0]


def test_first_page_renders_with_failed_rows_highlighted(
        inspected: tuple[InspectionReport, Path], tmp_path: Path) -> None:
    _, pdf = inspected
    png = render_page(pdf, 1, tmp_path / "p1")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(png) as page:
        assert page.size == (662, 936)  # A4 at 80 dpi
        pixels = np.asarray(page.convert("RGB")).astype(int)
    dark = int((pixels.sum(axis=2) < 200).sum())
    assert dark > 5000  # text, grid and the QR code, not a blank page
    highlighted = int((np.abs(pixels - FAIL_FILL).max(axis=2) <= 3).sum())
    assert highlighted > 3 * 300  # three failed rows, each a long, thin band


def test_same_data_gives_the_same_bytes(fresh_replica: Replica, tmp_path: Path) -> None:
    sub_id = rich_inspection(fresh_replica, "job-1", tmp_path)
    first = inspection_pdf.render(from_replica(fresh_replica, sub_id))
    assert inspection_pdf.render(from_replica(fresh_replica, sub_id)) == first
    # Another process: nothing from this one's font registration or caches leaks in.
    code = ("import sys\n"
            "from fieldapp.replica import Replica\n"
            "from fieldapp.reports.inspection_pdf import render\n"
            "from fieldapp.reports.report_data import from_replica\n"
            "r = Replica.open(sys.argv[1])\n"
            "sys.stdout.buffer.write(render(from_replica(r, sys.argv[2])))\n"
            "r.close()\n")
    other = subprocess.run([sys.executable, "-c", code, str(fresh_replica.data_dir), sub_id],
                           cwd=ROOT, capture_output=True, check=True).stdout
    assert other == first
    # The creation date is the inspection's own time, not the moment of rendering.
    report = from_replica(fresh_replica, sub_id)
    raw = info(write(first, tmp_path / "r.pdf"), "-rawdates")["CreationDate"].strip()
    moment = datetime.fromisoformat(report.inspected_at)
    assert raw == moment.strftime("D:%Y%m%d%H%M%S+08'00'")


def test_no_photos_and_no_signature_still_renders(fresh_replica: Replica,
                                                  tmp_path: Path) -> None:
    sub_id = rich_inspection(fresh_replica, "job-1", tmp_path, photos=0, sign=False,
                             complete=False)
    report = from_replica(fresh_replica, sub_id)
    assert report.photos == () and report.signature is None
    pdf = write(inspection_pdf.render(report), tmp_path / "unsigned.pdf")
    text = squash(text_of(pdf))
    assert "无现场照片" in text
    assert "未签名" in text and "签字人" not in text
    assert images(pdf) == []


def test_a_missing_photo_file_leaves_a_marked_gap(fresh_replica: Replica,
                                                  tmp_path: Path) -> None:
    sub_id = rich_inspection(fresh_replica, "job-1", tmp_path)
    report = from_replica(fresh_replica, sub_id)
    fresh_replica.evidence.blob_path(report.photos[0].sha256).unlink()
    pdf = write(inspection_pdf.render(from_replica(fresh_replica, sub_id)), tmp_path / "gap.pdf")
    assert f"照片文件缺失{report.photos[0].sha256[:12]}" in squash(text_of(pdf))
    assert len([i for i in images(pdf) if i["enc"] == "jpeg"]) == 1


def test_nested_form_draft_runs_over_pages(fresh_replica: Replica, tmp_path: Path) -> None:
    report = from_replica(fresh_replica, v2_draft(fresh_replica, "job-2"))
    pdf = write(inspection_pdf.render(report), tmp_path / "v2.pdf")
    text = squash(text_of(pdf))
    for expected in ["草稿（未提交）", "燃气具（每台一项）第2项", "燃气热水器", "1250.5m³",
                     "32.02010,118.80020±6m", "灶具具有熄火保护装置不合格灶具无熄火保护装置",
                     "未填26项"]:
        assert expected in text, expected
    pages = page_count(pdf)
    assert pages >= 2
    assert squash(text_of(pdf, 1)).count("燃气表与抄表") == 1  # the table starts on page 1
    assert "序号检查项目结果备注记录时间" in squash(text_of(pdf, 2))  # header row repeats


def test_a_visit_that_could_not_inspect_says_so(fresh_replica: Replica, tmp_path: Path) -> None:
    """到访不遇: no item counts, no "no hazards found", no signature box, just what was done."""
    fresh_replica.jobs.transition("job-2", "accepted")
    fresh_replica.jobs.transition("job-2", "in_service")
    sub_id = fresh_replica.forms.start("job-2")
    for path, value in [("visit_outcome", "nobody_home"), ("visit_time", "10:05"),
                        ("notice_left", "yes"), ("nobody_home_note", "邻居说户主白天上班")]:
        fresh_replica.forms.answer(sub_id, path, value)
    door = tmp_path / "door.jpg"
    Image.new("RGB", (800, 600), (150, 120, 90)).save(door)
    fresh_replica.evidence.add_photo("job-2", door, question="door_photo")
    fresh_replica.forms.submit(sub_id)

    pdf = write(inspection_pdf.render(from_replica(fresh_replica, sub_id)), tmp_path / "n.pdf")
    text = squash(text_of(pdf))
    assert "入户情况：到访不遇，未能入户检查" in text
    assert "邻居说户主白天上班" in text and "门牌/入户门照片" in text
    for absent in ("检查项目共", "未发现安全隐患", "安全隐患及整改期限", "用户签字确认"):
        assert absent not in text, absent
    assert "二、现场照片" in text and "三、工单状态记录" in text  # numbered without gaps
    assert len([i for i in images(pdf) if i["enc"] == "jpeg"]) == 1

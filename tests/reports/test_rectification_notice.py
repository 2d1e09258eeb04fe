"""The rectification notice PDF: the hazards, deadlines and checks, signed by the customer."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from fieldapp.errors import InvalidInput
from fieldapp.local_time import local_text
from fieldapp.replica import Replica
from fieldapp.reports import rectification_pdf
from fieldapp.reports.pdf_common import verify_uri
from fieldapp.reports.report_data import InspectionReport, from_replica
from tests.reports.reportkit import (
    FAILED,
    images,
    page_count,
    qr_codes,
    render_page,
    rich_inspection,
    squash,
    text_of,
    write,
)


@pytest.fixture
def notice(fresh_replica: Replica, tmp_path: Path) -> tuple[InspectionReport, Path]:
    report = from_replica(fresh_replica, rich_inspection(fresh_replica, "job-1", tmp_path))
    return report, write(rectification_pdf.render(report), tmp_path / "notice.pdf")


def test_notice_lists_hazards_deadlines_and_checks(
        notice: tuple[InspectionReport, Path]) -> None:
    report, pdf = notice
    text = squash(text_of(pdf))
    for expected in ["燃气安全隐患整改通知书", "陈桂芳用户：", "发现存在以下3项燃气安全隐患",
                     "GD202611240001", "320100000001", "一、隐患内容及整改期限", "二、复查安排",
                     "三、安全提示", "四、用户签收", "签字人：陈桂芳", "安检员：王建国",
                     "签发单位：金陵城市燃气有限公司", f"内容校验码SHA-256{report.content_hash}",
                     "第1页/共1页"]:
        assert expected in text, expected
    for hazard in report.hazards:
        row = f"{hazard.label}{hazard.level_label}{local_text(hazard.due_at)}前"
        assert squash(row) in text, row
        assert squash(FAILED[hazard.path]) in text
        assert squash(f"{local_text(hazard.due_at, '%Y-%m-%d')}{hazard.label}") in text
    assert page_count(pdf) == 1
    [signature] = images(pdf)  # the customer's signature; site photos are in the report
    assert (signature["width"], signature["height"]) == ("800", "300")


def test_notice_qr_names_the_notice_with_the_inspection_hash(
        notice: tuple[InspectionReport, Path], tmp_path: Path) -> None:
    report, pdf = notice
    decoded = qr_codes(pdf, 1, tmp_path / "qr")
    assert decoded == [verify_uri("notice", report.report_id, report.content_hash)]
    assert decoded[0] != verify_uri("inspection", report.report_id, report.content_hash)


def test_notice_page_renders(notice: tuple[InspectionReport, Path], tmp_path: Path) -> None:
    report, pdf = notice
    with Image.open(render_page(pdf, 1, tmp_path / "p1")) as page:
        assert page.size == (662, 936)
    assert rectification_pdf.render(report) == pdf.read_bytes()


def test_unsigned_notice_says_so(fresh_replica: Replica, tmp_path: Path) -> None:
    sub_id = rich_inspection(fresh_replica, "job-1", tmp_path, photos=0, sign=False,
                             complete=False)
    pdf = write(rectification_pdf.render(from_replica(fresh_replica, sub_id)), tmp_path / "n.pdf")
    text = squash(text_of(pdf))
    assert "未签名" in text and "签字人" not in text
    assert images(pdf) == []


def test_no_hazards_no_notice(fresh_replica: Replica, tmp_path: Path) -> None:
    sub_id = rich_inspection(fresh_replica, "job-1", tmp_path, photos=0, failed={})
    report = from_replica(fresh_replica, sub_id)
    assert report.hazards == ()
    with pytest.raises(InvalidInput) as caught:
        rectification_pdf.render(report)
    assert caught.value.code == "no_hazards"

"""The repair report PDF: record, parts with quantities, before/after photos, rating, signature."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldapp.replica import Replica
from fieldapp.reports import repair_pdf
from fieldapp.reports.pdf_common import verify_uri
from fieldapp.reports.report_data import InspectionReport, from_replica
from tests.reports.reportkit import (
    images,
    page_count,
    qr_codes,
    repair_done,
    squash,
    text_of,
    write,
)
from tests.world import seed_replica


@pytest.fixture
def technician(tmp_path: Path) -> Iterator[Replica]:
    """tech02's tablet: the repair job of the test world is theirs."""
    replica = Replica.open(tmp_path / "tech02")
    seed_replica(replica, "tech02")
    yield replica
    replica.close()


@pytest.fixture
def repaired(technician: Replica, tmp_path: Path) -> tuple[InspectionReport, Path]:
    report = from_replica(technician, repair_done(technician, "job-3", tmp_path))
    return report, write(repair_pdf.render(report), tmp_path / "repair.pdf")


def test_repair_report_text(repaired: tuple[InspectionReport, Path]) -> None:
    report, pdf = repaired
    assert report.form_code == "repair_report" and report.hazards == ()
    text = squash(text_of(pdf))
    for expected in ["维修工单报告", "GD202611240003", "周强", "320100000003",
                     "维修工李秀英（tech02）", "用户评价★★★★☆4分", "一、维修记录",
                     "故障类别漏气", "现场可燃气体浓度3.5%LEL", "故障原因软管老化",
                     "处理措施更换软管、紧固接口", "修复后检漏合格", "二、领用配件",
                     "1P-HOSE-15金属波纹管1.5米1根", "2P-CLAMP软管卡箍2个", "3—聚四氟乙烯生料带1",
                     "三、维修前后照片", "维修前照片·", "维修后照片·", "签字人：周强",
                     f"内容校验码SHA-256{report.content_hash}"]:
        assert expected in text, expected
    assert "领用配件第1项" not in text  # parts are a table of their own, not record rows
    assert "遗留安全隐患" not in text
    assert page_count(pdf) == 2
    found = images(pdf)
    assert [i["enc"] for i in found].count("jpeg") == 2
    assert [(i["width"], i["height"]) for i in found if i["enc"] != "jpeg"] == [("800", "300")]


def test_repair_qr_and_determinism(repaired: tuple[InspectionReport, Path],
                                   tmp_path: Path) -> None:
    report, pdf = repaired
    decoded = qr_codes(pdf, 1, tmp_path / "qr")
    assert decoded == [verify_uri("repair", report.report_id, report.content_hash)]
    assert repair_pdf.render(report) == pdf.read_bytes()


def test_failed_leak_retest_shows_the_hazard_left_behind(technician: Replica,
                                                          tmp_path: Path) -> None:
    sub_id = repair_done(technician, "job-3", tmp_path,
                         retest=("fail", "接口复检仍有微漏，已关闭表前阀"))
    report = from_replica(technician, sub_id)
    assert [(h.path, h.level) for h in report.hazards] == [("leak_retest", "critical")]
    text = squash(text_of(write(repair_pdf.render(report), tmp_path / "r.pdf")))
    assert "遗留安全隐患" in text
    assert "修复后检漏重大隐患" in text and "接口复检仍有微漏，已关闭表前阀" in text


def test_an_emergency_repair_prints_its_shut_off_and_restoration(technician: Replica,
                                                                tmp_path: Path) -> None:
    technician.db.execute("UPDATE jobs SET priority = 1 WHERE id = 'job-3'")
    record = [("safety_measures", ["ventilate", "evacuate"]), ("shut_off_done", "yes"),
              ("shut_off_valve", "riser_valve"), ("shut_off_at", "10:10"),
              ("supply_restored", "yes"), ("tightness_test", "pass"), ("purge", "pass"),
              ("ignition_test", "pass"), ("customer_informed", "yes"),
              ("restored_at", "11:00")]
    sub_id = repair_done(technician, "job-3", tmp_path, extra=record,
                         photos=("shut_off_photos",))
    report = from_replica(technician, sub_id)
    text = squash(text_of(write(repair_pdf.render(report), tmp_path / "e.pdf")))
    for expected in ["关阀断气", "现场安全措施开窗通风、疏散人员", "关闭的阀门立管阀",
                     "关阀时间10:10", "关阀人李秀英", "恢复供气", "严密性试验（保压检漏）合格",
                     "置换放散合格", "恢复供气时间11:00", "关阀照片·"]:
        assert expected in text, expected
    assert "job_priority" not in text and "technician" not in text

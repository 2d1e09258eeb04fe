"""照片与扫码: photos attached through the op, refused files, and checking the meter."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from pytestqt.qtbot import QtBot

from fieldapp.demo.barcodes import write_barcode_png
from fieldapp.replica import Replica
from fieldapp.ui.demo_seed import Seeded
from fieldapp.ui.evidence_view import EvidenceView
from fieldapp.ui.i18n import tr
from fieldapp.ui.main_window import MainWindow
from tests.ui.ui_helpers import open_tab, tap


@pytest.fixture
def evidence(qtbot: QtBot, window: MainWindow, seeded: Seeded) -> EvidenceView:
    window.open_job(seeded.job_ids[0])
    open_tab(qtbot, window, window.job_page.evidence)
    return window.job_page.evidence


def test_a_photo_is_stored_and_shown(evidence: EvidenceView, window: MainWindow, seeded: Seeded,
                                     tmp_path: Path, check: Replica) -> None:
    photo = tmp_path / "hose.png"
    Image.new("RGB", (1600, 1200), (180, 120, 60)).save(photo)

    assert evidence.attach_file(photo)

    photos = check.evidence.photos(seeded.job_ids[0])
    assert [p["filename"] for p in photos] == ["hose.png"]
    assert check.evidence.blob_path(photos[0]["sha256"]).read_bytes() == photo.read_bytes()
    assert evidence.photos.count() == 1
    icon = evidence.photos.item(0).icon()
    assert not icon.isNull()
    assert evidence.photo_count.text() == tr("evidence.photo_count", n=1)
    assert window.toast.last_text == tr("evidence.photo_added")


def test_a_corrupt_file_is_refused_in_words(evidence: EvidenceView, window: MainWindow,
                                            seeded: Seeded, tmp_path: Path,
                                            check: Replica) -> None:
    broken = tmp_path / "IMG_0001.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")

    assert not evidence.attach_file(broken)

    assert window.toast.last_text == tr("error.not_an_image") == "这个文件不是可读取的图片"
    assert check.evidence.photos(seeded.job_ids[0]) == []
    assert evidence.photos.count() == 0


@pytest.mark.parametrize(("customer", "verdict", "key"), [
    ("cust-001", "match", "evidence.match_ok"),
    ("cust-002", "other", "evidence.match_other"),
])
def test_meter_scan_says_whether_it_belongs_to_the_job(
        evidence: EvidenceView, seeded: Seeded, tmp_path: Path, check: Replica,
        customer: str, verdict: str, key: str) -> None:
    code = seeded.barcodes[customer]
    outcome = evidence.scan_file(write_barcode_png(code, tmp_path / f"{code}.png"))

    assert outcome is not None and outcome.verdict == verdict
    names = {"cust-001": "张秀英", "cust-002": "李国强"}
    assert evidence.result.text() == tr(key, code=code, name=names[customer])
    scans = check.evidence.scans(seeded.job_ids[0])
    assert [(s["code"], s["matched_customer_id"]) for s in scans] == [(code, customer)]


def test_typed_meter_code_is_recorded_as_manual(qtbot: QtBot, evidence: EvidenceView,
                                                seeded: Seeded, check: Replica) -> None:
    qtbot.keyClicks(evidence.code, "GM9999999999")
    tap(qtbot, evidence.record)

    assert evidence.result.text() == tr("evidence.match_none", code="GM9999999999", name="")
    scans = check.evidence.scans(seeded.job_ids[0])
    assert [(s["code"], s["source"], s["matched_customer_id"]) for s in scans] == [
        ("GM9999999999", "manual", None)]
    assert evidence.scan_rows.count() == 1

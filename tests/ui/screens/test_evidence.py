"""照片与扫码: photos attached through the op, refused files, and checking the meter."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import piexif
import pytest
from PIL import Image
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from pytestqt.qtbot import QtBot

from fieldapp.capture.gps import SimulatedSource
from fieldapp.demo.barcodes import write_barcode_png
from fieldapp.replica import Replica
from fieldapp.ui import ops
from fieldapp.ui.app import build_main_window
from fieldapp.ui.demo_seed import Seeded
from fieldapp.ui.i18n import tr
from fieldapp.ui.main_window import MainWindow
from fieldapp.ui.screens.evidence_view import EvidenceView
from tests.ui.ui_helpers import finished, open_tab, tap


@pytest.fixture
def evidence(qtbot: QtBot, window: MainWindow, seeded: Seeded) -> EvidenceView:
    window.open_job(seeded.job_ids[0])
    open_tab(qtbot, window, window.job_page.evidence)
    return window.job_page.evidence


def test_a_photo_is_stored_and_shown(evidence: EvidenceView, window: MainWindow, seeded: Seeded,
                                     tmp_path: Path, check: Replica) -> None:
    photo = tmp_path / "hose.png"
    Image.new("RGB", (1600, 1200), (180, 120, 60)).save(photo)

    assert finished(evidence.attach_file(photo))

    photos = check.evidence.photos(seeded.job_ids[0])
    assert [(p["filename"], p["mime"]) for p in photos] == [("hose.jpg", "image/jpeg")]
    kept = check.evidence.read_blob(photos[0]["sha256"])
    assert kept != photo.read_bytes()  # the watermarked JPEG is kept, never the original
    assert hashlib.sha256(kept).hexdigest() == photos[0]["sha256"]
    assert evidence.photos.count() == 1
    icon = evidence.photos.item(0).icon()
    assert not icon.isNull()
    assert evidence.photo_count.text() == tr("evidence.photo_count", n=1)
    assert window.toast.last_text == tr("evidence.photo_added")


def test_a_mistaken_photo_is_deleted_with_two_taps(qtbot: QtBot, evidence: EvidenceView,
                                                   seeded: Seeded, tmp_path: Path,
                                                   check: Replica) -> None:
    photo = tmp_path / "thumb.png"
    Image.new("RGB", (800, 600), (20, 20, 20)).save(photo)
    assert finished(evidence.attach_file(photo))
    assert not evidence.delete_photo.isEnabled()  # nothing selected yet
    evidence.photos.item(0).setSelected(True)
    assert evidence.delete_photo.isEnabled()

    tap(qtbot, evidence.delete_photo)
    assert evidence.delete_photo.text() == tr("evidence.delete_confirm")
    assert len(check.evidence.photos(seeded.job_ids[0])) == 1  # one tap deletes nothing
    tap(qtbot, evidence.delete_photo)

    assert check.evidence.photos(seeded.job_ids[0]) == []
    assert evidence.photos.count() == 0
    assert evidence.delete_photo.text() == tr("evidence.delete_photo")
    [queued] = list(check.db.query("SELECT op, old FROM outbox WHERE tbl = 'attachments'"
                                   " AND op = 'delete'"))
    assert '"kind": "photo"' in queued["old"]  # the whole row travels with the delete


def test_a_corrupt_file_is_refused_in_words(evidence: EvidenceView, window: MainWindow,
                                            seeded: Seeded, tmp_path: Path,
                                            check: Replica) -> None:
    broken = tmp_path / "IMG_0001.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")

    assert not finished(evidence.attach_file(broken))

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
    outcome = evidence.scan_file(write_barcode_png(code, tmp_path / f"{code}.png")).wait()

    assert outcome.verdict == verdict
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


# -- GPS on photos ---------------------------------------------------------------------------

NMEA_FIX = ("$GNRMC,061530.00,A,3202.4907,N,11846.6880,E,0.3,87.2,241126,,,A*78\n"
            "$GNGGA,061530.00,3202.4907,N,11846.6880,E,1,14,0.8,12.0,M,2.1,M,,*7B\n")


@pytest.fixture(autouse=True)
def _default_gps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts on the default (simulated) source, whatever the shell says."""
    monkeypatch.delenv("FIELDAPP_GPS", raising=False)


def _photo(tmp_path: Path) -> Path:
    path = tmp_path / "meter.jpg"
    Image.new("RGB", (2400, 1800), (150, 160, 170)).save(path, quality=90)
    return path


def test_a_photo_carries_the_simulated_fix_by_default(evidence: EvidenceView, seeded: Seeded,
                                                      tmp_path: Path, check: Replica) -> None:
    assert finished(evidence.attach_file(_photo(tmp_path)))

    photo = check.evidence.photos(seeded.job_ids[0])[0]
    assert (photo["lat"], photo["lon"], photo["accuracy_m"]) == (32.0415, 118.7781, 5.0)
    assert evidence.gps.text() == "GPS 32.04150, 118.77810 ±5米（模拟定位）"
    data = check.evidence.read_blob(photo["sha256"])
    with Image.open(io.BytesIO(data)) as img:
        assert img.size == (1920, 1440)
    assert piexif.load(data)["GPS"][piexif.GPSIFD.GPSProcessingMethod].endswith(b"SIM")


def test_no_fix_still_saves_and_says_so(evidence: EvidenceView, window: MainWindow,
                                        seeded: Seeded, tmp_path: Path, check: Replica) -> None:
    window.ctx.gps = SimulatedSource([])  # indoors, no sky

    assert finished(evidence.attach_file(_photo(tmp_path)))

    assert evidence.gps.text() == "无GPS定位" and evidence.gps.objectName() == "problem"
    assert window.toast.last_text == tr("evidence.photo_added_no_gps") == "照片已保存（无GPS定位）"
    photo = check.evidence.photos(seeded.job_ids[0])[0]
    assert photo["lat"] is None and photo["fix_age_s"] is None
    assert piexif.load(check.evidence.read_blob(photo["sha256"]))["GPS"] == {}


def test_the_gps_source_comes_from_fieldapp_gps(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch,
                                                data_dir: Path, seeded: Seeded,
                                                unreachable_url: str, tmp_path: Path,
                                                check: Replica) -> None:
    track = tmp_path / "gnss.nmea"
    track.write_text(NMEA_FIX)
    monkeypatch.setenv("FIELDAPP_GPS", f"nmea:{track}")
    win = build_main_window(data_dir, unreachable_url)
    qtbot.addWidget(win)
    try:
        win.open_job(seeded.job_ids[0])
        view = win.job_page.evidence
        assert finished(view.attach_file(_photo(tmp_path)))
        photo = check.evidence.photos(seeded.job_ids[0])[0]
        assert (round(photo["lat"], 5), round(photo["lon"], 5), photo["accuracy_m"]) == \
            (32.04151, 118.77813, 4.0)
        assert view.gps.text() == "GPS 32.04151, 118.77813 ±4米"
    finally:
        win.shutdown()


def test_an_unknown_gps_setting_means_no_fix_not_a_made_up_one(
        monkeypatch: pytest.MonkeyPatch, check: Replica) -> None:
    monkeypatch.setenv("FIELDAPP_GPS", "glonass-please")
    assert ops.position_source(check).current() is None


def test_todays_map_saved_as_a_web_page_is_handed_to_the_browser(
        qtbot: QtBot, window: MainWindow, data_dir: Path) -> None:
    opened: list[QUrl] = []

    class Browser(QObject):
        @Slot(QUrl)
        def open(self, url: QUrl) -> None:
            opened.append(url)

    browser = Browser()
    QDesktopServices.setUrlHandler("file", browser, "open")
    try:
        tap(qtbot, window.today.map)  # the map page, inside the app
        assert window.stack.currentWidget() is window.map_page
        tap(qtbot, window.map_page.export)
        window.ctx.tasks.wait_idle()  # drawn in the background, then handed on
    finally:
        QDesktopServices.unsetUrlHandler("file")
    path = data_dir / "maps" / "today.html"
    assert [Path(u.toLocalFile()) for u in opened] == [path]
    page = path.read_text(encoding="utf-8")
    assert "我的位置" in page and "cdn.jsdelivr" not in page
    assert window.toast.last_text == tr("today.map_saved", path=str(path))

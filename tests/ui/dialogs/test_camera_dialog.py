"""The live camera in the app, fed from a folder of frames: 扫码找客户 opens the job whose
meter comes into view; 拍照 attaches the frame watermarked and leaves no plain copy; with no
camera it says so and the file picker is one tap away."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from fieldapp.capture.camera import CAMERA_ENV
from fieldapp.replica import Replica
from fieldapp.ui.demo_seed import Seeded
from fieldapp.ui.dialogs.camera_dialog import CameraDialog
from fieldapp.ui.main_window import MainWindow
from tests.capture.test_camera import blank_frame, meter_frame
from tests.ui.ui_helpers import open_row, open_tab, tap


def test_scanning_opens_the_job_of_the_meter_in_view(qtbot: QtBot, window: MainWindow,
                                                      seeded: Seeded, check: Replica,
                                                      tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    blank_frame(tmp_path)
    meter_frame(tmp_path, seeded.barcodes["cust-002"])
    monkeypatch.setenv(CAMERA_ENV, f"file:{tmp_path / 'frames'}")
    dialog = window.today.scan_with_camera()
    with qtbot.waitSignal(dialog.finished, timeout=10_000):
        pass
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert (dialog.code, dialog.symbology) == (seeded.barcodes["cust-002"], "CODE128")
    assert window.stack.currentWidget() is window.job_page
    assert window.job_page.job["customer_id"] == "cust-002"
    [scan] = check.db.query("SELECT code, source FROM scans")
    assert scan == {"code": seeded.barcodes["cust-002"], "source": "camera"}


def test_a_photo_is_taken_from_the_live_frame(qtbot: QtBot, window: MainWindow,
                                              seeded: Seeded, check: Replica, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    meter_frame(tmp_path)
    monkeypatch.setenv(CAMERA_ENV, f"file:{tmp_path / 'frames'}")
    open_row(qtbot, window, 1)
    evidence = window.job_page.evidence
    open_tab(qtbot, window, evidence)
    dialog = evidence.photo_with_camera()
    qtbot.waitUntil(dialog.shutter.isEnabled, timeout=10_000)
    assert not dialog.preview.pixmap().isNull()  # the frame is on screen
    with qtbot.waitSignal(dialog.finished, timeout=5_000):
        tap(qtbot, dialog.shutter)
    window.ctx.tasks.wait_idle()  # the photo is developed in the background
    taken = dialog.photo_path
    assert taken is not None and not taken.exists() and not taken.parent.exists()
    [photo] = check.evidence.photos(window.job_page.job["id"])
    kept = check.evidence.read_blob(photo["sha256"])
    assert kept[:2] == b"\xff\xd8" and photo["size"] == len(kept)


def test_without_a_camera_it_says_so_and_offers_a_file(qtbot: QtBot, window: MainWindow,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CAMERA_ENV, "9")
    dialog = CameraDialog(window.ctx, CameraDialog.SCAN, window)
    dialog.open()
    qtbot.waitUntil(lambda: dialog.preview.text() != "", timeout=10_000)
    assert dialog.preview.text() == "未找到可用的相机（可能被其他程序占用）"
    assert dialog.hint.text() == "可以改为从图片选择"
    with qtbot.waitSignal(dialog.finished, timeout=5_000):
        tap(qtbot, dialog.from_file)
    assert dialog.result() == CameraDialog.FROM_FILE


def test_a_form_question_is_answered_by_the_camera(qtbot: QtBot, window: MainWindow,
                                                   seeded: Seeded, check: Replica,
                                                   tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QPushButton

    job_id = seeded.job_ids[0]
    check.jobs.transition(job_id, "accepted")
    check.jobs.transition(job_id, "in_service")
    customer = check.jobs.get(job_id)["customer_id"]
    meter_frame(tmp_path, seeded.barcodes[customer])
    monkeypatch.setenv(CAMERA_ENV, f"file:{tmp_path / 'frames'}")
    window.open_job(job_id)
    form = window.job_page.form
    tap(qtbot, form.rows["visit_outcome"].findChild(QPushButton,
                                                    "field_visit_outcome_inspected"))
    tap(qtbot, form.rows["meter_barcode"].findChild(QPushButton, "field_meter_barcode_scan"))
    dialog = window.findChild(CameraDialog)
    with qtbot.waitSignal(dialog.finished, timeout=10_000):
        pass
    qtbot.waitUntil(lambda: window.toast.last_text.startswith("✓"), timeout=5_000)
    sub = check.forms.for_job(job_id)
    assert check.submissions.answers(sub["id"])["meter_barcode"]["value"] == \
        seeded.barcodes[customer]
    assert [(s["source"], s["symbology"]) for s in check.evidence.scans(job_id)] == [
        ("camera", "CODE128")]

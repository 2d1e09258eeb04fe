"""Whole inspection visits through the real widgets (inspected, nobody home), and what stops a
job or its form from being finished."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QLabel, QPushButton
from pytestqt.qtbot import QtBot

from fieldapp.demo.barcodes import write_barcode_png
from fieldapp.replica import Replica
from fieldapp.ui.demo_seed import Seeded
from fieldapp.ui.i18n import tr
from fieldapp.ui.main_window import MainWindow
from fieldapp.ui.screens.form_view import FormView
from tests.ui.ui_helpers import finished, move_button, open_row, open_tab, tap, type_text
from tests.world import answer_checklist

FAIL_ITEM = "hose_age"
FAIL_NOTE = "橡胶软管已使用3年，已告知用户更换"


def draw_signature(qtbot: QtBot, pad: object) -> None:
    """Two strokes with the mouse: press, a few moves, release."""
    for y in (90, 150):
        qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(60, y))
        for x in range(80, 400, 40):
            qtbot.mouseMove(pad, QPoint(x, y + (x % 80) // 4))
        qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(420, y + 10))


def choose(qtbot: QtBot, form: FormView, path: str, value: str) -> None:
    tap(qtbot, form.rows[path].findChild(QPushButton, f"field_{path}_{value}"))


def fill(form: FormView, path: str, text: str) -> None:
    edit = form.rows[path].input
    type_text(edit, text)
    edit.editingFinished.emit()


def photo(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.jpg"
    Image.new("RGB", (800, 600), (120, 130, 140)).save(path, quality=85)
    return path


def test_a_full_inspection_visit(qtbot: QtBot, window: MainWindow, seeded: Seeded,
                                 check: Replica, tmp_path: Path) -> None:
    job_id = seeded.job_ids[0]
    open_row(qtbot, window, 0)
    page = window.job_page
    assert page.job["id"] == job_id

    tap(qtbot, move_button(window, "accepted"))
    assert page.status.text() == "已接单"
    assert set(page.move_buttons) == {"en_route", "in_service"}
    tap(qtbot, move_button(window, "in_service"))
    assert page.status.text() == "服务中"

    # The household inspection form: what is asked follows the visit's outcome.
    open_tab(qtbot, window, page.form)
    form = page.form
    assert form.title.text() == "居民户内燃气安全检查"
    assert "meter_reading" not in form.rows
    choose(qtbot, form, "visit_outcome", "inspected")
    assert "meter_reading" in form.rows and "door_photo" not in form.rows
    tap(qtbot, form.rows["visit_time"].findChild(QPushButton, "field_visit_time_now"))
    fill(form, "meter_barcode", seeded.barcodes[page.job["customer_id"]])
    assert window.toast.last_text.startswith("✓")  # typed, checked against the job's customer
    previous = form.rows["meter_reading"].field.previous
    assert previous is not None  # the meter's last reading, prefilled
    fill(form, "meter_reading", str(previous + 42))
    form.attach_photo("meter_photo", photo(tmp_path, "meter")).wait()
    tap(qtbot, form.rows["appliances"].findChild(QPushButton, "field_appliances_add"))
    choose(qtbot, form, "appliances[0].appliance_kind", "stove")
    assert "stove_flameout" in form.rows and "water_heater_flue" not in form.rows
    while open_items := [path for path, row in form.rows.items() if path != FAIL_ITEM
                         and row.field.type == "pass_fail_na" and row.field.value is None]:
        choose(qtbot, form, open_items[0], "pass")  # "alarm works" is asked once there is one
    items = [path for path, row in form.rows.items() if row.field.type == "pass_fail_na"]
    # A failed item asks for its note at once, then a photo.
    choose(qtbot, form, FAIL_ITEM, "fail")
    assert form.focusWidget() is form.rows[FAIL_ITEM].note
    type_text(form.rows[FAIL_ITEM].note, FAIL_NOTE)
    form.rows[FAIL_ITEM].note.editingFinished.emit()
    form.attach_photo(FAIL_ITEM, photo(tmp_path, "hose")).wait()
    assert form.failed.text() == tr("checklist.failed", n=1)
    choose(qtbot, form, "customer_briefed", "yes")
    fill(form, "signer_name", "张秀英")

    # Submitting before the customer signs names the missing signature.
    tap(qtbot, form.submit)
    assert form.banner.text().startswith(tr("checklist.problems_title", n=1))
    assert form.banner.text().endswith("用户签字确认 " + tr("checklist.problem.required"))

    # The customer signs with the "finger" (mouse events), the technician confirms.
    open_tab(qtbot, window, page.signature)
    view = page.signature
    assert not view.confirm.isEnabled()
    draw_signature(qtbot, view.pad)
    strokes = view.pad.strokes()
    assert len(strokes) == 2 and all(len(s) >= 5 for s in strokes)
    assert all(len(p) == 4 for s in strokes for p in s)
    assert view.signer.text() == "张秀英"
    tap(qtbot, view.confirm)
    assert view.saved.isVisible() and not view.drawing.isVisible()
    assert view.saved_image.pixmap() is not None and not view.saved_image.pixmap().isNull()

    open_tab(qtbot, window, page.form)
    tab = page.tabs.tabText(page.tabs.indexOf(page.form))
    done, total = (int(n) for n in tab.split()[-1].split("/"))
    assert done == total and total > len(items)
    tap(qtbot, form.submit)
    assert not form.submit.isVisible()
    assert window.toast.last_text == tr("form.submitted")
    # the failed item is a hazard: the banner says what was scheduled for it
    banner = form.banner.text()
    assert "发现隐患 1 处" in banner and "1 个整改复查工单" in banner
    assert form.documents["report"].isVisible() and form.documents["notice"].isVisible()

    tap(qtbot, move_button(window, "completed"))
    confirming = page.confirming  # 核对后完成: what the job carries, once more
    assert confirming.isVisible() and page.status.text() == "服务中"
    assert confirming.values["complete.hazards"] == "1 项"
    assert confirming.values["complete.photos"] == "2 项"
    assert confirming.values["complete.signature"] == "张秀英"
    assert confirming.values["complete.form"].startswith("已提交")
    tap(qtbot, confirming.confirm)
    assert page.status.text() == "已完成"
    assert page.move_buttons == {}

    # What the replica holds, read over a second connection.
    job = check.jobs.get(job_id)
    assert job["status"] == "completed"
    assert [h["to_status"] for h in check.jobs.history(job_id)] == [
        "accepted", "in_service", "completed"]
    sub = check.forms.for_job(job_id)
    assert (sub["state"], sub["form_version"]) == ("submitted", 2)
    answers = check.submissions.answers(sub["id"])
    assert answers[FAIL_ITEM]["value"] == "fail" and answers[FAIL_ITEM]["note"] == FAIL_NOTE
    assert answers["meter_reading"]["value"] == previous + 42
    assert answers["appliances[0].appliance_kind"]["value"] == "stove"
    photos = {p["question"] for p in check.evidence.photos(job_id)}
    assert photos == {"meter_photo", FAIL_ITEM}
    [hazard] = check.submissions.hazards(job_id)
    assert hazard["question"] == FAIL_ITEM
    signatures = check.evidence.signatures(job_id)
    assert len(signatures) == 1 and signatures[0]["signer_name"] == "张秀英"
    assert len(json.loads(signatures[0]["strokes"])) == 2
    assert check.outbox.counts()["pending"] > 0
    assert window.top_bar.pending.text() == tr("top.pending", n=check.outbox.counts()["pending"])


def test_nobody_home_is_recorded_with_a_door_photo(qtbot: QtBot, window: MainWindow,
                                                   seeded: Seeded, check: Replica,
                                                   tmp_path: Path) -> None:
    """到访不遇: no checklist and no signature, but the door photographed and the notice left."""
    job_id = seeded.job_ids[1]
    check.jobs.transition(job_id, "accepted")
    check.jobs.transition(job_id, "in_service")
    window.open_job(job_id)
    page = window.job_page
    form = page.form
    assert page.tabs.currentWidget() is form
    choose(qtbot, form, "visit_outcome", "nobody_home")
    assert "door_photo" in form.rows and "leak_test_joints" not in form.rows
    tap(qtbot, form.rows["visit_time"].findChild(QPushButton, "field_visit_time_now"))
    choose(qtbot, form, "notice_left", "yes")
    tap(qtbot, form.submit)
    assert form.banner.text().startswith(tr("checklist.problems_title", n=1))
    form.attach_photo("door_photo", photo(tmp_path, "door")).wait()
    assert form.rows["door_photo"].field.count == 1
    tap(qtbot, form.submit)
    assert window.toast.last_text == tr("form.submitted")
    assert not form.documents["notice"].isVisible()  # nothing found, nothing to rectify

    tap(qtbot, move_button(window, "completed"))
    tap(qtbot, page.confirming.back)  # 返回修改: nothing happens
    assert check.jobs.get(job_id)["status"] == "in_service"
    tap(qtbot, move_button(window, "completed"))
    assert page.confirming.values["complete.signature"] == "未签名"
    tap(qtbot, page.confirming.confirm)
    assert check.jobs.get(job_id)["status"] == "completed"
    assert check.submissions.hazards(job_id) == []
    assert check.evidence.signatures(job_id) == []


def test_completing_without_a_signature_is_refused_in_words(
        qtbot: QtBot, window: MainWindow, seeded: Seeded, check: Replica) -> None:
    job_id = seeded.job_ids[0]
    replica = window.ctx.replica
    replica.submissions.submit(answer_checklist(replica, job_id))
    window.open_job(job_id)
    page = window.job_page

    tap(qtbot, move_button(window, "completed"))

    expected = tr("error.completion_requirements", missing=tr("error.missing.signature"))
    assert window.toast.last_text == expected == "还不能完成工单：缺少客户签名"
    assert window.toast.isVisible()
    assert page.tabs.currentWidget() is page.signature
    assert check.jobs.get(job_id)["status"] == "in_service"
    assert page.status.text() == "服务中"


def test_the_form_waits_for_the_service_to_start(qtbot: QtBot, window: MainWindow,
                                                seeded: Seeded, check: Replica) -> None:
    window.open_job(seeded.job_ids[1])
    page = window.job_page
    open_tab(qtbot, window, page.form)
    assert page.form.banner.text() == tr("checklist.start_service_first")
    assert page.form.rows == {} and not page.form.submit.isVisible()
    assert check.forms.for_job(seeded.job_ids[1]) is None
    tap(qtbot, move_button(window, "accepted"))
    tap(qtbot, move_button(window, "in_service"))
    assert "visit_outcome" in page.form.rows and page.form.submit.isVisible()
    assert not page.form.banner.isVisible()


def test_submit_lists_what_is_missing(qtbot: QtBot, window: MainWindow, seeded: Seeded,
                                      check: Replica) -> None:
    check.jobs.transition(seeded.job_ids[1], "accepted")
    check.jobs.transition(seeded.job_ids[1], "in_service")
    window.open_job(seeded.job_ids[1])
    form = window.job_page.form
    choose(qtbot, form, "visit_outcome", "inspected")
    choose(qtbot, form, "leak_test_joints", "fail")
    tap(qtbot, form.submit)

    missing = window.toast.last_text
    n = int("".join(ch for ch in missing if ch.isdigit()))
    assert missing == tr("error.incomplete_form", n=n) and n > 25
    assert form.banner.text().startswith(tr("checklist.problems_title", n=n))
    assert "到达时间 " + tr("checklist.problem.required") in form.banner.text()
    assert form.rows["leak_test_joints"].findChild(QLabel, "problem").text() == \
        tr("checklist.problem.note_required")
    assert check.forms.for_job(seeded.job_ids[1])["state"] == "draft"


def test_answers_are_saved_at_once_and_restored(qtbot: QtBot, window: MainWindow,
                                                seeded: Seeded, check: Replica) -> None:
    job_id = seeded.job_ids[2]
    check.jobs.transition(job_id, "accepted")
    check.jobs.transition(job_id, "in_service")
    window.open_job(job_id)
    page = window.job_page
    choose(qtbot, page.form, "visit_outcome", "inspected")
    choose(qtbot, page.form, "ventilation", "na")
    # Durable right after the tap, no save button involved.
    sub = check.forms.for_job(job_id)
    assert check.submissions.answers(sub["id"])["ventilation"]["value"] == "na"

    tap(qtbot, page.back)
    window.open_job(seeded.job_ids[0])
    assert page.form.rows == {}  # not in service: nothing of the other job is left
    window.open_job(job_id)
    row = page.form.rows["ventilation"]
    checked = row.input.checkedButton()
    assert checked.property("answer") == "na"
    # back where it was left: the last answer is on screen, far down the form
    scroll = page.form.scroll
    qtbot.waitUntil(lambda: scroll.verticalScrollBar().value() > 0, timeout=2000)
    top = row.mapTo(scroll.widget(), row.rect().topLeft()).y() - scroll.verticalScrollBar().value()
    assert 0 <= top < scroll.viewport().height()
    assert page.form.counts.text() == tr("form.progress", done=2, total=page.form.screen.total)


def test_a_draft_on_the_first_version_is_finished_on_it(qtbot: QtBot, window: MainWindow,
                                                        seeded: Seeded, check: Replica) -> None:
    """A checklist begun on the flat v1 before the new version synced keeps its version."""
    job_id = seeded.job_ids[0]
    replica = window.ctx.replica
    answer_checklist(replica, job_id, {FAIL_ITEM: FAIL_NOTE})
    window.open_job(job_id)
    form = window.job_page.form
    assert len([r for r in form.rows.values() if r.field.type == "pass_fail_na"]) == 26
    assert form.rows[FAIL_ITEM].note.text() == FAIL_NOTE
    assert "visit_outcome" not in form.rows
    assert check.forms.for_job(job_id)["form_version"] == 1


def test_opening_a_job_creates_nothing(window: MainWindow, seeded: Seeded,
                                       check: Replica) -> None:
    window.open_job(seeded.job_ids[0])
    assert check.forms.for_job(seeded.job_ids[0]) is None
    assert check.outbox.counts()["pending"] == 0


def test_the_documents_of_a_submitted_form_open_as_pdfs(
        qtbot: QtBot, window: MainWindow, seeded: Seeded, tmp_path: Path) -> None:
    job_id = seeded.job_ids[0]
    replica = window.ctx.replica
    answer_checklist(replica, job_id, {FAIL_ITEM: FAIL_NOTE})
    replica.evidence.add_photo(job_id, photo(tmp_path, "hose"), question=FAIL_ITEM)
    window.open_job(job_id)
    form = window.job_page.form
    assert not form.documents["report"].isVisible()  # a draft has no documents yet
    tap(qtbot, form.submit)
    assert form.documents["report"].isVisible() and form.documents["notice"].isVisible()

    opened: list[QUrl] = []

    class Viewer(QObject):
        @Slot(QUrl)
        def open(self, url: QUrl) -> None:
            opened.append(url)

    viewer = Viewer()
    QDesktopServices.setUrlHandler("file", viewer, "open")
    try:
        tap(qtbot, form.documents["notice"])
        window.ctx.tasks.wait_idle()  # rendered in the background, then handed on
    finally:
        QDesktopServices.unsetUrlHandler("file")
    [url] = opened
    pdf = Path(url.toLocalFile())
    assert pdf.parent == replica.data_dir / "documents" and pdf.name.endswith("整改通知书.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")


def test_the_meter_barcode_is_scanned_from_a_photo_of_its_label(
        qtbot: QtBot, window: MainWindow, seeded: Seeded, check: Replica,
        tmp_path: Path) -> None:
    job_id = seeded.job_ids[0]
    check.jobs.transition(job_id, "accepted")
    check.jobs.transition(job_id, "in_service")
    window.open_job(job_id)
    form = window.job_page.form
    choose(qtbot, form, "visit_outcome", "inspected")
    assert form.rows["meter_barcode"].findChild(QPushButton, "field_meter_barcode_scan")
    customer = check.jobs.get(job_id)["customer_id"]
    other = next(c for c in seeded.barcodes if c != customer)

    not_an_image = tmp_path / "label.png"
    not_an_image.write_bytes(b"not a picture")
    assert not finished(form.scan_barcode_image("meter_barcode", not_an_image))
    assert window.toast.last_text == tr("error.not_an_image")
    assert finished(form.scan_barcode_image(
        "meter_barcode", write_barcode_png(seeded.barcodes[other], tmp_path / "o.png")))
    assert window.toast.last_text.startswith("✗")  # another customer's meter: said, kept
    assert finished(form.scan_barcode_image(
        "meter_barcode", write_barcode_png(seeded.barcodes[customer], tmp_path / "m.png")))
    assert window.toast.last_text.startswith("✓")

    sub = check.forms.for_job(job_id)
    assert check.submissions.answers(sub["id"])["meter_barcode"]["value"] == \
        seeded.barcodes[customer]
    assert form.rows["meter_barcode"].input.text() == seeded.barcodes[customer]
    assert [s["source"] for s in check.evidence.scans(job_id)] == ["image", "image"]

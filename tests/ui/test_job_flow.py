"""A whole inspection visit through the real widgets, and what stops a job from completing."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from pytestqt.qtbot import QtBot

from fieldapp.replica import Replica
from fieldapp.ui.demo_seed import Seeded
from fieldapp.ui.i18n import tr
from fieldapp.ui.main_window import MainWindow
from tests.ui.ui_helpers import move_button, open_row, open_tab, tap, type_text
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


def test_a_full_inspection_visit(qtbot: QtBot, window: MainWindow, seeded: Seeded,
                                 check: Replica) -> None:
    job_id = seeded.job_ids[0]
    open_row(qtbot, window, 0)
    page = window.job_page
    assert page.job["id"] == job_id

    tap(qtbot, move_button(window, "accepted"))
    assert page.status.text() == "已接单"
    assert set(page.move_buttons) == {"en_route", "in_service"}
    tap(qtbot, move_button(window, "in_service"))
    assert page.status.text() == "服务中"

    # The checklist: every item answered by tapping, one failure with its note.
    open_tab(qtbot, window, page.checklist)
    rows = page.checklist.rows
    assert len(rows) == 26
    for key, row in rows.items():
        tap(qtbot, row.buttons["fail" if key == FAIL_ITEM else "pass"])
    failed = rows[FAIL_ITEM]
    assert failed.note.isVisible() and failed.hazard.isVisible()
    type_text(failed.note, FAIL_NOTE)
    assert page.checklist.counts.text() == tr("checklist.progress", done=26, total=26)
    assert page.tabs.tabText(page.tabs.indexOf(page.checklist)).endswith("26/26")
    tap(qtbot, page.checklist.submit)
    assert not page.checklist.submit.isVisible()
    assert window.toast.last_text == tr("checklist.submitted_ok")
    # the failed item is a hazard: the banner says what was scheduled for it
    banner = page.checklist.banner.text()
    assert "发现隐患 1 处" in banner and "1 个整改复查工单" in banner

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

    tap(qtbot, move_button(window, "completed"))
    assert page.status.text() == "已完成"
    assert page.move_buttons == {}

    # What the replica holds, read over a second connection.
    job = check.jobs.get(job_id)
    assert job["status"] == "completed"
    assert [h["to_status"] for h in check.jobs.history(job_id)] == [
        "accepted", "in_service", "completed"]
    sub = check.inspections.for_job(job_id)
    assert sub["state"] == "submitted"
    answers = check.inspections.answers(sub["id"])
    assert len(answers) == 26
    assert answers[FAIL_ITEM]["value"] == "fail" and answers[FAIL_ITEM]["note"] == FAIL_NOTE
    signatures = check.evidence.signatures(job_id)
    assert len(signatures) == 1 and signatures[0]["signer_name"] == "张秀英"
    assert len(json.loads(signatures[0]["strokes"])) == 2
    assert check.outbox.counts()["pending"] > 0
    assert window.top_bar.pending.text() == tr("top.pending", n=check.outbox.counts()["pending"])


def test_completing_without_a_signature_is_refused_in_words(
        qtbot: QtBot, window: MainWindow, seeded: Seeded, check: Replica) -> None:
    job_id = seeded.job_ids[0]
    replica = window.ctx.replica
    replica.inspections.submit(answer_checklist(replica, job_id))
    window.open_job(job_id)
    page = window.job_page

    tap(qtbot, move_button(window, "completed"))

    expected = tr("error.completion_requirements", missing=tr("error.missing.signature"))
    assert window.toast.last_text == expected == "还不能完成工单：缺少客户签名"
    assert window.toast.isVisible()
    assert page.tabs.currentWidget() is page.signature
    assert check.jobs.get(job_id)["status"] == "in_service"
    assert page.status.text() == "服务中"


def test_checklist_waits_for_the_service_to_start(qtbot: QtBot, window: MainWindow,
                                                 seeded: Seeded, check: Replica) -> None:
    window.open_job(seeded.job_ids[1])
    page = window.job_page
    open_tab(qtbot, window, page.checklist)
    rows = page.checklist.rows
    assert page.checklist.banner.text() == tr("checklist.start_service_first")
    assert not rows["leak_test_joints"].buttons["pass"].isEnabled()
    assert check.inspections.for_job(seeded.job_ids[1]) is None
    tap(qtbot, move_button(window, "accepted"))
    tap(qtbot, move_button(window, "in_service"))
    assert rows["leak_test_joints"].buttons["pass"].isEnabled()
    assert not page.checklist.banner.isVisible()


def test_submit_lists_what_is_missing(qtbot: QtBot, window: MainWindow, seeded: Seeded,
                                      check: Replica) -> None:
    check.jobs.transition(seeded.job_ids[1], "accepted")
    check.jobs.transition(seeded.job_ids[1], "in_service")
    window.open_job(seeded.job_ids[1])
    page = window.job_page
    open_tab(qtbot, window, page.checklist)
    rows = page.checklist.rows
    tap(qtbot, rows["leak_test_joints"].buttons["fail"])
    tap(qtbot, rows["meter_condition"].buttons["pass"])
    tap(qtbot, page.checklist.submit)

    assert window.toast.last_text == tr("error.incomplete_form", n=25)
    assert rows["leak_test_joints"].problem.text() == tr("checklist.problem.note_required")
    assert rows["meter_seal"].problem.text() == tr("checklist.problem.required")
    assert not rows["meter_condition"].problem.isVisible()
    assert page.checklist.banner.text() == tr("checklist.problems_title", n=25)
    assert check.inspections.for_job(seeded.job_ids[1])["state"] == "draft"


def test_answers_are_saved_at_once_and_restored(qtbot: QtBot, window: MainWindow,
                                                seeded: Seeded, check: Replica) -> None:
    job_id = seeded.job_ids[2]
    check.jobs.transition(job_id, "accepted")
    check.jobs.transition(job_id, "in_service")
    window.open_job(job_id)
    page = window.job_page
    open_tab(qtbot, window, page.checklist)
    tap(qtbot, page.checklist.rows["ventilation"].buttons["na"])
    # Durable right after the tap, no save button involved.
    sub = check.inspections.for_job(job_id)
    assert check.inspections.answers(sub["id"])["ventilation"]["value"] == "na"

    tap(qtbot, page.back)
    window.open_job(seeded.job_ids[0])
    assert not any(r.group.checkedButton() for r in page.checklist.rows.values())
    window.open_job(job_id)
    row = page.checklist.rows["ventilation"]
    assert row.group.checkedButton() is row.buttons["na"]
    assert page.checklist.counts.text() == tr("checklist.progress", done=1, total=26)


def test_opening_a_job_creates_nothing(window: MainWindow, seeded: Seeded,
                                       check: Replica) -> None:
    window.open_job(seeded.job_ids[0])
    assert check.inspections.for_job(seeded.job_ids[0]) is None
    assert check.outbox.counts()["pending"] == 0


def test_the_documents_of_a_submitted_checklist_open_as_pdfs(
        qtbot: QtBot, window: MainWindow, seeded: Seeded) -> None:
    job_id = seeded.job_ids[0]
    replica = window.ctx.replica
    answer_checklist(replica, job_id, {FAIL_ITEM: FAIL_NOTE})
    window.open_job(job_id)
    page = window.job_page
    open_tab(qtbot, window, page.checklist)
    assert not page.checklist.report_pdf.isVisible()  # a draft has no documents yet
    tap(qtbot, page.checklist.submit)
    assert page.checklist.report_pdf.isVisible() and page.checklist.notice_pdf.isVisible()

    opened: list[QUrl] = []

    class Viewer(QObject):
        @Slot(QUrl)
        def open(self, url: QUrl) -> None:
            opened.append(url)

    viewer = Viewer()
    QDesktopServices.setUrlHandler("file", viewer, "open")
    try:
        tap(qtbot, page.checklist.notice_pdf)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    [url] = opened
    pdf = Path(url.toLocalFile())
    assert pdf.parent == replica.data_dir / "documents" and pdf.name.endswith("整改通知书.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")

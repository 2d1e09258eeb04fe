"""表单: the generic form view draws any definition, follows relevance and repeats as
answers are tapped in, refuses a wrong value in words, and lists what a submit lacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from fieldapp.replica import Replica
from fieldapp.ui.demo_seed import Seeded, seed
from fieldapp.ui.i18n import tr
from fieldapp.ui.main_window import MainWindow
from fieldapp.ui.screens.form_view import FormView
from tests.ui.ui_helpers import open_tab, tap, type_text
from tests.world import answer_checklist


@pytest.fixture
def seeded(data_dir: Path) -> Seeded:
    """The richer demo day (a repair and a meter reading besides the inspections); the
    shared ``window`` fixture opens on it."""
    replica = Replica.open(data_dir)
    try:
        return seed(replica, rich=True)
    finally:
        replica.close()


def open_form(qtbot: QtBot, window: MainWindow, job_id: str) -> FormView:
    replica = window.ctx.replica
    replica.jobs.transition(job_id, "accepted")
    replica.jobs.transition(job_id, "in_service")
    window.open_job(job_id)
    page = window.job_page
    assert page.tabs.currentWidget() is page.form
    open_tab(qtbot, window, page.form)
    return page.form


def test_a_repair_report_is_filled_by_taps(qtbot: QtBot, window: MainWindow,
                                           check: Replica) -> None:
    form = open_form(qtbot, window, "job-004")
    assert form.title.text() == "维修工单报告"
    assert "gas_concentration" not in form.rows

    tap(qtbot, form.rows["fault_category"].findChild(object, "field_fault_category_leak"))
    assert "gas_concentration" in form.rows  # relevant once the fault is a leak
    edit = form.rows["gas_concentration"].input
    type_text(edit, "150")
    edit.editingFinished.emit()
    # in the form's own words
    assert window.toast.last_text == "浓度应在 0–100 %LEL 之间：未保存"
    sub_id = check.forms.for_job("job-004")["id"]
    assert "gas_concentration" not in check.submissions.answers(sub_id)  # refused, not saved
    edit = form.rows["gas_concentration"].input
    type_text(edit, "35")
    edit.editingFinished.emit()
    assert check.submissions.answers(sub_id)["gas_concentration"]["value"] == 35.0

    tap(qtbot, form.rows["parts_used"].findChild(object, "field_parts_used_yes"))
    tap(qtbot, form.rows["parts"].findChild(object, "field_parts_add"))
    assert "parts[0].part" in form.rows
    first_part = form.rows["parts[0].part"].input.buttons()[0]
    tap(qtbot, first_part)
    assert check.submissions.answers(sub_id)["parts[0].part"]["value"] == \
        first_part.property("answer")

    tap(qtbot, form.submit)
    assert form.banner.isVisible()
    assert tr("checklist.problems_title", n=1).split("1")[0] in form.banner.text()
    assert "到达时间" in form.banner.text()
    assert check.get("submissions", sub_id)["state"] == "draft"


def test_a_meter_reading_shows_the_previous_reading(qtbot: QtBot, window: MainWindow) -> None:
    form = open_form(qtbot, window, "job-005")
    tap(qtbot, form.rows["meter_accessible"].findChild(object, "field_meter_accessible_yes"))
    row = form.rows["reading_group.reading"] if "reading_group.reading" in form.rows else \
        form.rows["reading"]
    assert "上次读数" in " ".join(w.text() for w in row.findChildren(type(form.title)))


def test_a_rectification_check_takes_a_note_for_what_is_still_not_fixed(
        qtbot: QtBot, window: MainWindow, check: Replica) -> None:
    replica = window.ctx.replica
    replica.submissions.submit(answer_checklist(replica, "job-001",
                                                {"hose_age": "橡胶软管老化"}))
    [job] = [j["id"] for j in replica.db.query(
        "SELECT id FROM jobs WHERE kind = 'rectification_check'")]
    form = open_form(qtbot, window, job)
    assert form.title.text() == "隐患整改复查"

    tap(qtbot, form.rows["visit_outcome"].findChild(object, "field_visit_outcome_checked"))
    assert "hazards[0].rectified" in form.rows
    tap(qtbot, form.rows["hazards[0].rectified"].findChild(
        object, "field_hazards[0].rectified_fail"))
    row = form.rows["hazards[0].rectified"]
    type_text(row.note, "用户未更换软管")
    row.note.editingFinished.emit()
    check_sub = check.forms.for_job(job)["id"]
    saved = check.submissions.answers(check_sub)["hazards[0].rectified"]
    assert (saved["value"], saved["note"]) == ("fail", "用户未更换软管")
    assert form.rows["hazards[0].rectified"].findChild(
        object, "field_hazards[0].rectified_photo") is not None


def test_typing_keeps_the_form_in_place(qtbot: QtBot, window: MainWindow,
                                        check: Replica) -> None:
    """Saving typed text must not rebuild the rows: the next field the technician taps
    would vanish from under the finger."""
    form = open_form(qtbot, window, "job-004")
    row = form.rows["fault_description"]
    type_text(row.input, "表前阀接头漏气")
    row.input.editingFinished.emit()
    assert form.rows["fault_description"] is row  # same widgets
    sub_id = check.forms.for_job("job-004")["id"]
    assert check.submissions.answers(sub_id)["fault_description"]["value"] == "表前阀接头漏气"
    queued = check.outbox.counts()["pending"]
    row.input.editingFinished.emit()  # leaving the field again saves nothing new
    assert check.outbox.counts()["pending"] == queued
    tap(qtbot, form.rows["fault_category"].findChild(object, "field_fault_category_leak"))
    assert form.rows["fault_description"] is not row  # a new question appeared: redrawn


def test_an_entry_is_removed_with_two_taps(qtbot: QtBot, window: MainWindow,
                                           check: Replica) -> None:
    form = open_form(qtbot, window, "job-004")
    tap(qtbot, form.rows["parts_used"].findChild(object, "field_parts_used_yes"))
    for i in range(2):
        tap(qtbot, form.rows["parts"].findChild(object, "field_parts_add"))
        tap(qtbot, form.rows[f"parts[{i}].part"].input.buttons()[i])
    chosen = [form.rows[f"parts[{i}].part"].field.value for i in range(2)]
    assert form.rows["parts[1]"].title.text() == "领用配件 2"

    remove = form.rows["parts[0]"].remove
    tap(qtbot, remove)
    assert remove.text() == tr("evidence.delete_confirm")  # armed, nothing removed yet
    assert "parts[1].part" in form.rows
    tap(qtbot, remove)

    assert "parts[1]" not in form.rows and "parts[1].part" not in form.rows
    assert form.rows["parts[0].part"].field.value == chosen[1]
    sub_id = check.forms.for_job("job-004")["id"]
    answers = check.submissions.answers(sub_id)
    assert answers["parts[0].part"]["value"] == chosen[1]
    assert answers["parts[1].part"]["value"] is None

    # An entry added but not filled in goes away without touching the replica.
    tap(qtbot, form.rows["parts"].findChild(object, "field_parts_add"))
    queued = check.outbox.counts()["pending"]
    tap(qtbot, form.rows["parts[1]"].remove)
    tap(qtbot, form.rows["parts[1]"].remove)
    assert "parts[1]" not in form.rows
    assert check.outbox.counts()["pending"] == queued


def test_a_fault_opens_the_knowledge_base_on_its_article(qtbot: QtBot,
                                                         window: MainWindow) -> None:
    from fieldapp.ui.screens.kb_view import KnowledgeDialog
    from tests.kb.test_kb_articles import load_demo

    load_demo(window.ctx.replica)
    form = open_form(qtbot, window, "job-004")
    assert form.rows["fault_category"].findChild(object, "kb_fault_category") is None
    tap(qtbot, form.rows["fault_category"].findChild(object, "field_fault_category_valve_fault"))
    look_up = form.rows["fault_category"].findChild(object, "kb_fault_category")
    assert look_up is not None and "阀门故障" in look_up.text()
    tap(qtbot, look_up)
    dialog = window.findChild(KnowledgeDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.query.text() == "阀门故障" and dialog.results.count() >= 2
    opened = dialog.results.item(0).data(Qt.ItemDataRole.UserRole)
    assert dialog.article_id == opened  # the best match is open already

    edit = form.rows["fault_description"].input
    type_text(edit, "表显示E02，阀门打不开")
    edit.editingFinished.emit()
    tap(qtbot, form.rows["fault_description"].findChild(object, "kb_fault_description"))
    assert dialog.query.text() == "E02" and dialog.results.count() == 1
    assert "IC卡表故障代码" in dialog.article.text() and "<img" in dialog.article.text()

    tap(qtbot, dialog.findChild(object, "kbCategory_操作指南"))  # browse a category
    assert dialog.query.text() == "E02" and dialog.results.count() == 0  # E02 is not there
    dialog.query.clear()
    dialog.search()
    assert dialog.results.count() == 4 and not dialog.empty.isVisible()  # its 4 articles
    dialog.close()


def test_an_audio_question_takes_a_recording_from_a_file(qtbot: QtBot, window: MainWindow,
                                                          check: Replica, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """An audio question's row: its count, and 添加录音 choosing a file the tablet's own
    recorder made, which is kept on the job for that question."""
    from PySide6.QtWidgets import QFileDialog, QPushButton

    from fieldapp.replica.filling import Field
    from fieldapp.ui.screens.form_row import FieldRow
    from tests.server.test_recordings import tone

    form = open_form(qtbot, window, "job-004")
    row = FieldRow(form, Field(path="hiss", key="hiss", type="audio", label="漏气声录音",
                               depth=0, count=0))
    qtbot.addWidget(row)
    add = row.findChild(QPushButton, "field_hiss_add")
    assert add is not None and add.text() == tr("evidence.add_audio") == "添加录音"
    wav = tone(tmp_path / "漏气声.wav")
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(wav), "")))
    tap(qtbot, add)
    qtbot.waitUntil(lambda: bool(list(check.db.query(
        "SELECT 1 FROM attachments WHERE job_id = 'job-004' AND kind = 'audio'"
        " AND question = 'hiss'"))), timeout=10_000)


def test_a_date_and_time_question_is_typed_or_taken_from_the_clock(
        qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    """An XLSForm's dateTime (the shut-off's time on a leak): typed as the placeholder
    shows, or 现在 fills in the tablet's local date and time."""
    import re

    from PySide6.QtWidgets import QLineEdit, QPushButton

    from fieldapp.local_time import now_iso
    from fieldapp.replica.filling import Field
    from fieldapp.ui.screens.form_row import FieldRow

    form = open_form(qtbot, window, "job-004")
    saved: list[tuple[str, object]] = []
    monkeypatch.setattr(form, "save", lambda path, value, note=None: saved.append(
        (path, value)) is None)
    row = FieldRow(form, Field(path="shut_at", key="shut_at", type="datetime",
                               label="关阀时间", depth=0))
    qtbot.addWidget(row)
    edit = row.findChild(QLineEdit, "field_shut_at")
    assert edit is not None and edit.placeholderText() == "2026-11-24 09:30"
    before = now_iso()
    tap(qtbot, row.findChild(QPushButton, "field_shut_at_now"))
    path, value = saved[-1]
    assert path == "shut_at" and isinstance(value, str)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", value)
    assert before[:10] <= value[:10] <= now_iso()[:10]
    edit.clear()
    type_text(edit, "2026-11-24 21:05")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert saved[-1] == ("shut_at", "2026-11-24 21:05")


def test_a_pipe_route_is_walked_point_by_point(qtbot: QtBot, window: MainWindow,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A geotrace's row: 记录此点 adds the current fix to the line, its length is shown as
    the points grow, 清除 empties it; no fix says so and adds nothing."""
    from datetime import UTC, datetime

    from PySide6.QtWidgets import QLabel, QPushButton

    from fieldapp.position import Position
    from fieldapp.replica.filling import Field
    from fieldapp.ui.screens.form_row import FieldRow

    form = open_form(qtbot, window, "job-004")
    saved: list[object] = []
    monkeypatch.setattr(form, "save", lambda path, value, note=None: saved.append(
        value) is None)
    fixes = iter([Position(32.0, 118.78, 3.0, datetime.now(UTC), "sim", 0.0), None])
    monkeypatch.setattr(window.ctx, "position", lambda: next(fixes))
    route = [{"lat": 31.99, "lon": 118.78, "accuracy": 4.0}]
    row = FieldRow(form, Field(path="route", key="route", type="geotrace", label="管线走向",
                               depth=0, value=route))
    qtbot.addWidget(row)
    assert any(w.text() == "共 1 个点" for w in row.findChildren(QLabel))
    tap(qtbot, row.findChild(QPushButton, "field_route_here"))
    assert saved[-1] == [*route, {"lat": 32.0, "lon": 118.78, "accuracy": 3.0}]
    tap(qtbot, row.findChild(QPushButton, "field_route_here"))  # no fix now
    assert len(saved) == 1 and window.toast.last_text == tr("form.no_position")
    longer = FieldRow(form, Field(path="route", key="route", type="geotrace", label="管线走向",
                                  depth=0, value=saved[-1]))
    qtbot.addWidget(longer)
    assert any(w.text() == "共 2 个点，全长约 1,113 米" for w in longer.findChildren(QLabel))
    tap(qtbot, longer.findChild(QPushButton, "field_route_clear"))
    assert saved[-1] is None

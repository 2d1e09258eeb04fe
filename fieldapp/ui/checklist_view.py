"""安检表: a generic view of a checklist form definition; every tap is saved at once.

The rows are built from the definition's items, so a new form version needs no new code.
Answers and notes go straight to the replica (no "save" button to forget); the view only
mirrors what the replica holds, so reopening a job shows exactly what was saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from fieldapp.changes import Changes
from fieldapp.errors import FieldAppError
from fieldapp.ui import ops
from fieldapp.ui.context import AppContext
from fieldapp.ui.controls import Card, button, label, set_prop
from fieldapp.ui.formatting import stamp
from fieldapp.ui.i18n import pick, tr
from fieldapp.ui.messages import describe_problem

ANSWERS = ("pass", "fail", "na")
NOTE_SAVE_DELAY_MS = 700  # typing pauses this long before the note is saved


class ItemRow(QFrame):
    """One checklist item: label, 合格/不合格/不适用 toggles, and a note when it fails."""

    answered = Signal(str, str)  # question, value
    note_edited = Signal(str)  # question

    def __init__(self, number: int, item: dict[str, Any], definition: dict[str, Any]) -> None:
        super().__init__()
        self.item = item
        self.key = item["key"]
        self.hazard_levels = definition.get("hazard_levels", {})
        self.answer_labels = definition.get("answers", {})
        self.setObjectName("card")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(18, 6, 14, 6)
        outer.setSpacing(6)
        row = QHBoxLayout()
        row.setSpacing(10)
        num = label(f"{number}.", name="muted")
        num.setFixedWidth(34)
        self.text = label(wrap=True)
        self.hazard = label(name="hazardLevel")
        row.addWidget(num)
        row.addWidget(self.text, 1)
        row.addWidget(self.hazard)
        self.group = QButtonGroup(self)
        self.buttons: dict[str, Any] = {}
        for i, value in enumerate(ANSWERS):
            btn = button(name=f"answer_{self.key}_{value}")
            btn.setProperty("answer", value)
            btn.setCheckable(True)
            self.group.addButton(btn, i)
            self.buttons[value] = btn
            row.addWidget(btn)
        self.group.idClicked.connect(lambda i: self.answered.emit(self.key, ANSWERS[i]))
        outer.addLayout(row)
        self.note = QLineEdit()
        self.note.setObjectName(f"note_{self.key}")
        self.note.textEdited.connect(lambda _text: self.note_edited.emit(self.key))
        self.note.hide()
        outer.addWidget(self.note)
        self.problem = label(name="problem")
        self.problem.hide()
        outer.addWidget(self.problem)
        self.retranslate()

    def retranslate(self) -> None:
        self.text.setText(pick(self.item["label"]))
        for value, btn in self.buttons.items():
            # The form names its own answers; the catalogue covers forms that do not.
            btn.setText(pick(self.answer_labels.get(value)) or tr(f"checklist.answer.{value}"))
        self.note.setPlaceholderText(tr("checklist.note_placeholder"))
        level = self.hazard_levels.get(self.item.get("hazard_level_on_fail") or "", {})
        self.hazard.setText(pick({k: v for k, v in level.items() if k in ("zh", "en")}))

    def show_answer(self, value: str | None, note: str | None) -> None:
        """Mirror the saved answer without emitting anything back."""
        self.group.setExclusive(False)
        for key, btn in self.buttons.items():
            btn.setChecked(key == value)
        self.group.setExclusive(True)
        failed = value == "fail"
        self.note.setVisible(failed)
        self.hazard.setVisible(failed)
        # Never overwrite what the technician is typing right now.
        if not self.note.hasFocus() and self.note.text() != (note or ""):
            self.note.setText(note or "")
        if value is not None and self.problem.isVisible():
            needs_note = failed and not (note or "").strip()
            self.show_problem("note_required" if needs_note else None)

    def show_problem(self, code: str | None) -> None:
        self.problem.setText(describe_problem(code) if code else "")
        self.problem.setVisible(code is not None)
        set_prop(self, "invalid", code is not None)

    def set_editable(self, editable: bool) -> None:
        for btn in self.buttons.values():
            btn.setEnabled(editable)
        self.note.setReadOnly(not editable)


class ChecklistView(QWidget):
    progress_changed = Signal(int, int)  # answered, total

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.job_id: str | None = None
        self.state: ops.ChecklistState | None = None
        self.rows: dict[str, ItemRow] = {}
        self._form_key: tuple[str, int] | None = None
        self._note_timers: dict[str, QTimer] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 0)
        layout.setSpacing(10)

        head = Card()
        top = QHBoxLayout()
        self.title = label(name="cardTitle")
        self.counts = label(name="muted")
        self.failed = label(name="failedCount")
        self.submit = button(role="primary", name="checklistSubmit")
        self.submit.clicked.connect(self.submit_now)
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.counts)
        top.addSpacing(12)
        top.addWidget(self.failed)
        top.addSpacing(12)
        top.addWidget(self.submit)
        # Once submitted: the documents, rendered offline and opened in the PDF viewer.
        self.report_pdf = button(name="reportPdf")
        self.report_pdf.clicked.connect(lambda: self.open_document("report"))
        self.notice_pdf = button(name="noticePdf")
        self.notice_pdf.clicked.connect(lambda: self.open_document("notice"))
        top.addWidget(self.report_pdf)
        top.addWidget(self.notice_pdf)
        head.body.addLayout(top)
        self.bar = QProgressBar()
        self.bar.setObjectName("checklistProgress")
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(12)
        head.body.addWidget(self.bar)
        self.banner = label(name="banner", wrap=True)
        self.banner.hide()
        head.body.addWidget(self.banner)
        head.layout().setContentsMargins(20, 10, 20, 12)
        layout.addWidget(head)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget()
        self.items_layout = QVBoxLayout(inner)
        self.items_layout.setContentsMargins(0, 0, 6, 16)
        self.items_layout.setSpacing(8)
        self.scroll.setWidget(inner)
        layout.addWidget(self.scroll, 1)

        ctx.changes_applied.connect(self._on_changes)
        ctx.language_changed.connect(self.retranslate)
        self.retranslate()

    # -- loading ----------------------------------------------------------------------------
    def set_job(self, job_id: str) -> None:
        self._flush_notes()
        self.job_id = job_id
        for row in self.rows.values():
            row.show_problem(None)
            row.note.clear()  # never carry a half-typed note over to another job
        self.banner.hide()
        self.refresh()
        self.scroll.verticalScrollBar().setValue(0)

    def refresh(self) -> None:
        if self.job_id is None:
            return
        state = self.ctx.run(ops.checklist, job_id=self.job_id)
        if state is None:
            return
        self.state = state
        definition = state.definition
        if self._form_key != (definition["code"], definition["version"]):
            self._build(definition)
        editable = state.state != "submitted" and state.can_start
        for key, row in self.rows.items():
            answer = state.answers.get(key) or {}
            row.show_answer(answer.get("value"), answer.get("note"))
            row.set_editable(editable)
        self._show_counts()
        self.submit.setVisible(editable)
        self.report_pdf.setVisible(state.state == "submitted")
        self.notice_pdf.setVisible(state.state == "submitted" and bool(state.hazards))
        if state.state == "submitted" and state.hazards:
            checks = {h["check_job_id"] for h in state.hazards}
            self._show_banner(tr("checklist.submitted_hazards", time=stamp(state.submitted_at),
                                 n=len(state.hazards), checks=len(checks),
                                 deadline=stamp(min(h["due_at"] for h in state.hazards))),
                              "error")
        elif state.state == "submitted":
            self._show_banner(tr("checklist.submitted", time=stamp(state.submitted_at)), "success")
        elif not state.can_start:
            self._show_banner(tr("checklist.start_service_first"), "info")
        elif self.banner.property("level") == "info":
            self.banner.hide()

    def _build(self, definition: dict[str, Any]) -> None:
        while self.items_layout.count():
            item = self.items_layout.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.rows = {}
        for number, item in enumerate(definition["items"], start=1):
            row = ItemRow(number, item, definition)
            row.answered.connect(self._on_answered)
            row.note_edited.connect(self._on_note_edited)
            self.rows[item["key"]] = row
            self.items_layout.addWidget(row)
        self.items_layout.addStretch(1)
        self._form_key = (definition["code"], definition["version"])
        self.title.setText(pick(definition.get("title")))

    def retranslate(self) -> None:
        self.submit.setText(tr("checklist.submit"))
        self.report_pdf.setText(tr("checklist.report_pdf"))
        self.notice_pdf.setText(tr("checklist.notice_pdf"))
        for row in self.rows.values():
            row.retranslate()
        if self.state is not None:
            self.title.setText(pick(self.state.definition.get("title")))
            self.refresh()

    def _show_counts(self) -> None:
        assert self.state is not None
        done, total = self.state.answered, self.state.total
        self.counts.setText(tr("checklist.progress", done=done, total=total))
        self.failed.setText(tr("checklist.failed", n=self.state.failed))
        self.failed.setVisible(self.state.failed > 0)
        self.bar.setRange(0, total)
        self.bar.setValue(done)
        self.progress_changed.emit(done, total)

    def _show_banner(self, text: str, level: str) -> None:
        self.banner.setText(text)
        set_prop(self.banner, "level", level)
        self.banner.show()

    def _on_changes(self, changes: Changes) -> None:
        if self.job_id and changes.touches("answers", "submissions", "form_definitions", "jobs"):
            self.refresh()

    # -- saving -----------------------------------------------------------------------------
    def _on_answered(self, question: str, value: str) -> None:
        self._save(question, value)

    def _on_note_edited(self, question: str) -> None:
        timer = self._note_timers.get(question)
        if timer is None:
            timer = QTimer(self)
            timer.setSingleShot(True)
            timer.timeout.connect(lambda q=question: self._save_note(q))
            self._note_timers[question] = timer
        timer.start(NOTE_SAVE_DELAY_MS)

    def _save_note(self, question: str) -> None:
        row = self.rows.get(question)
        if row is not None and row.group.checkedButton() is row.buttons["fail"]:
            self._save(question, "fail")

    def _flush_notes(self) -> None:
        """Save notes whose typing pause has not ended yet (before submit or leaving)."""
        for question, timer in self._note_timers.items():
            if timer.isActive():
                timer.stop()
                self._save_note(question)

    def _save(self, question: str, value: str) -> None:
        assert self.job_id is not None
        row = self.rows[question]
        note = (row.note.text().strip() or None) if value == "fail" else None
        result = self.ctx.run(ops.answer_item, job_id=self.job_id, question=question,
                              value=value, note=note)
        if result is None:
            self.refresh()  # put the toggles back to what is really saved
        elif value == "fail" and note is None:
            row.note.setVisible(True)
            row.note.setFocus()

    def submit_now(self) -> None:
        if self.job_id is None:
            return
        self._flush_notes()
        result = self.ctx.run(ops.submit_checklist, job_id=self.job_id, failed=self._on_refused)
        if result is not None:
            for row in self.rows.values():
                row.show_problem(None)
            self.ctx.notify(tr("checklist.submitted_ok"), "success")

    def open_document(self, document: str) -> Path | None:
        """Render the document and hand it to the system's PDF viewer; returns its file."""
        if self.job_id is None:
            return None
        path = self.ctx.run(ops.write_document, job_id=self.job_id, document=document)
        if path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
        return path

    def _on_refused(self, error: FieldAppError) -> None:
        problems = error.params.get("problems") or []
        by_question = {q: code for q, code in problems}
        for key, row in self.rows.items():
            row.show_problem(by_question.get(key))
        if problems:
            self._show_banner(tr("checklist.problems_title", n=len(problems)), "error")
            first = self.rows.get(problems[0][0])
            if first is not None:
                self.scroll.ensureWidgetVisible(first, 0, 40)

    def flush(self) -> None:
        self._flush_notes()

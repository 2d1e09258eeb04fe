"""表单: a generic view of any form definition (household inspection, repair report, meter
reading, rectification check…), drawn from the core's screen model; every answer is saved as
it is given. Once submitted, the form's documents open as PDFs from here.

The view holds no rules: relevance, repeats, required marks, prefilled values and problems
all come from ``replica.forms.screen``, redrawn after each saved answer. Choices are big
toggle buttons (touch first); numbers and text are saved when the field is left.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QProgressBar,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from fieldapp.changes import Changes
from fieldapp.errors import FieldAppError
from fieldapp.replica.filling import FormScreen
from fieldapp.ui import ops
from fieldapp.ui.context import AppContext
from fieldapp.ui.i18n import language, tr
from fieldapp.ui.i18n.messages import describe_problem, scan_verdict
from fieldapp.ui.screens.form_row import CHOICE_TYPES, FieldRow
from fieldapp.ui.taskman import Task
from fieldapp.ui.widgets.controls import Card, button, clear_layout, label, set_prop
from fieldapp.ui.widgets.formatting import stamp


class FormView(QWidget):
    progress_changed = Signal(int, int)  # answered, total
    kb_requested = Signal(str)  # a search for the knowledge base (a fault's code or kind)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.job_id: str | None = None
        self.screen: FormScreen | None = None
        self.extra: dict[str, int] = {}  # empty repeat instances asked for, per repeat path
        self._shape: tuple[Any, ...] | None = None
        self.rows: dict[str, FieldRow] = {}
        self.note_wanted: str | None = None  # a failed item whose note field takes the focus
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 0)
        head = Card()
        top = QHBoxLayout()
        self.title = label(name="cardTitle")
        self.counts = label(name="muted")
        self.submit = button(role="primary", name="formSubmit")
        self.submit.clicked.connect(self.submit_now)
        self.failed = label(name="failedCount")
        self.documents: dict[str, Any] = {}
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.counts)
        top.addWidget(self.failed)
        top.addWidget(self.submit)
        for document in ("report", "notice"):
            btn = button(name=f"{document}Pdf")
            btn.clicked.connect(lambda _=False, d=document: self.open_document(d))
            btn.hide()
            top.addWidget(btn)
            self.documents[document] = btn
        head.body.addLayout(top)
        self.bar = QProgressBar()
        self.bar.setObjectName("formProgress")
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(12)
        head.body.addWidget(self.bar)
        self.banner = label(name="banner", wrap=True)
        self.banner.hide()
        head.body.addWidget(self.banner)
        layout.addWidget(head)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        inner = QWidget()
        self.items = QVBoxLayout(inner)
        self.items.setSpacing(8)
        self.scroll.setWidget(inner)
        layout.addWidget(self.scroll, 1)
        ctx.changes_applied.connect(self._on_changes)
        ctx.language_changed.connect(lambda: self.refresh(rebuild=True))

    def set_job(self, job_id: str) -> None:
        self.job_id, self.extra, self.screen = job_id, {}, None
        self.banner.hide()
        self.refresh()
        self.scroll.verticalScrollBar().setValue(0)
        # Back where the technician left off (the last answer saved), once the page is laid
        # out: the rows have no positions before that.
        QTimer.singleShot(0, self._show_last_answer)

    def _show_last_answer(self) -> None:
        last = self.rows.get(self.screen.last_answered or "") if self.screen else None
        if last is not None:
            self.scroll.ensureWidgetVisible(last, 0, 120)

    def refresh(self, rebuild: bool = False) -> None:
        if self.job_id is None:
            return
        if rebuild:
            self.screen = None
        self.submit.setText(tr("form.submit"))
        self.documents["report"].setText(tr("form.report_pdf"))
        self.documents["notice"].setText(tr("checklist.notice_pdf"))
        screen = self.ctx.run(ops.form_screen, job_id=self.job_id, extra=self.extra,
                              lang=language())
        shape = _shape(screen)
        if screen is not None and self.screen is not None and shape == self._shape:
            # Same questions, same inputs: keep the widgets (and the field being typed in,
            # which a rebuild would take away from under the technician's finger).
            self.screen = screen
            self._show_progress(screen)
            for f in screen.fields:
                if (row := self.rows.get(f.path)) is not None:
                    row.show_texts(f)
            return
        self.screen, self._shape = screen, shape
        clear_layout(self.items)
        self.rows = {}
        for document, btn in self.documents.items():
            btn.setVisible(screen is not None and document in screen.documents)
        if screen is None:  # the service has not started: nothing to fill yet
            self.title.setText("")
            self.counts.setText("")
            self.failed.hide()
            self._show_banner(tr("checklist.start_service_first"), "info")
            self.submit.hide()
            self.progress_changed.emit(0, 0)
            return
        self.title.setText(screen.title)
        self._show_progress(screen)
        editable = screen.state == "draft"
        self.submit.setVisible(editable)
        if screen.hazards:
            checks = {h["check_job_id"] for h in screen.hazards}
            self._show_banner(tr("checklist.submitted_hazards",
                                 time=stamp(screen.submitted_at), n=len(screen.hazards),
                                 checks=len(checks),
                                 deadline=stamp(min(h["due_at"] for h in screen.hazards))),
                              "error")
        elif not editable:
            self._show_banner(tr("form.submitted_at", time=stamp(screen.submitted_at)),
                              "success")
        elif self.banner.property("level") == "info":
            self.banner.hide()
        for f in screen.fields:
            row = FieldRow(self, f)
            row.setEnabled(editable or f.type in ("group", "note"))
            self.rows[f.path] = row
            self.items.addWidget(row)
        self.items.addStretch(1)
        wanted = self.rows.get(self.note_wanted or "")
        self.note_wanted = None
        if wanted is not None and wanted.note is not None and not wanted.note.text():
            wanted.note.setFocus()

    def _show_progress(self, screen: FormScreen) -> None:
        self.counts.setText(tr("form.progress", done=screen.answered, total=screen.total))
        self.failed.setText(tr("checklist.failed", n=screen.failed))
        self.failed.setVisible(screen.failed > 0)
        self.bar.setMaximum(max(screen.total, 1))
        self.bar.setValue(screen.answered)
        self.progress_changed.emit(screen.answered, screen.total)

    def _show_banner(self, text: str, level: str) -> None:
        self.banner.setText(text)
        set_prop(self.banner, "level", level)
        self.banner.show()

    def open_document(self, document: str) -> Task[Path] | None:
        """Render the document in the background and hand it to the system's PDF viewer;
        the task's result is its file."""
        if self.job_id is None:
            return None
        return self.ctx.slow(ops.slow.write_document(self.job_id, document),
                             done=lambda path: QDesktopServices.openUrl(
                                 QUrl.fromLocalFile(str(path))))

    def save(self, path: str, value: Any, note: str | None = None) -> bool:
        """Save one answer; False (and the saved state redrawn) when it was refused."""
        assert self.job_id is not None
        return self.ctx.run(ops.answer_form, job_id=self.job_id, path=path, value=value,
                            note=note, failed=lambda _e: self.refresh(rebuild=True)) is not None

    def add_instance(self, repeat_path: str) -> None:
        self.extra[repeat_path] = self.extra.get(repeat_path, 0) + 1
        self.refresh()

    def remove_instance(self, instance: str) -> None:
        assert self.job_id is not None
        changes = self.ctx.run(ops.remove_form_instance, job_id=self.job_id, instance=instance)
        if changes is not None and not changes:  # nothing saved in it: one empty one fewer
            repeat = instance.rsplit("[", 1)[0]
            if self.extra.get(repeat):
                self.extra[repeat] -= 1
            self.refresh()

    def scan_barcode(self, path: str, code: str, symbology: str | None = None) -> bool:
        """Answer a barcode question from the live camera (``symbology`` given) or a typed
        code, saying whose meter it is; False when it was not saved."""
        assert self.job_id is not None
        outcome = self.ctx.run(ops.scan_form_barcode, job_id=self.job_id, path=path,
                               code=code, symbology=symbology)
        if outcome is None:
            return False
        self._show_scanned(path, outcome)
        return True

    def scan_barcode_image(self, path: str, image: Path) -> Task[ops.ScanOutcome]:
        """Answer a barcode question from a photo of the label, decoded in the background."""
        assert self.job_id is not None
        return self.ctx.slow(ops.slow.scan_image(image, self.job_id, answer=path),
                             done=lambda outcome: self._show_scanned(path, outcome))

    def _show_scanned(self, path: str, outcome: ops.ScanOutcome) -> None:
        row = self.rows.get(path)
        if row is not None:  # typed values do not redraw the row: show the scanned one
            row.field.value = outcome.code
            row.input.setText(outcome.code)
        text, level = scan_verdict(outcome.code, outcome.verdict,
                                   outcome.customer["name"] if outcome.customer else "")
        self.ctx.notify(text, level)

    def attach_photo(self, path: str, file: Path) -> Task[Changes]:
        """A photo for question ``path``, watermarked and stored in the background."""
        assert self.job_id is not None
        return self.ctx.slow(ops.slow.attach_photo(self.job_id, file, self.ctx.position(),
                                                   question=path))

    def attach_recording(self, path: str, file: Path) -> Task[Changes]:
        """An audio or video file for question ``path``, hashed and stored in the background."""
        assert self.job_id is not None
        return self.ctx.slow(ops.slow.attach_recording(self.job_id, file, self.ctx.position(),
                                                       question=path))

    def submit_now(self) -> None:
        if self.job_id is None:
            return
        self.setFocus()  # a field being edited saves first (editingFinished)
        result = self.ctx.run(ops.submit_form, job_id=self.job_id, failed=self._on_refused)
        if result is not None:
            self.ctx.notify(tr("form.submitted"), "success")

    def _on_refused(self, error: FieldAppError) -> None:
        problems = error.params.get("problems") or []
        if problems:
            self._show_banner(tr("checklist.problems_title", n=len(problems)) + "："
                              + "；".join(f"{self._label(p)} {describe_problem(c)}"
                                         for p, c in problems[:6]), "error")
            first = self.rows.get(problems[0][0])
            if first is not None:
                self.scroll.ensureWidgetVisible(first, 0, 40)

    def _label(self, path: str) -> str:
        row = self.rows.get(path)
        return row.field.label if row else path

    def _on_changes(self, changes: Changes) -> None:
        if self.job_id and changes.touches("answers", "submissions", "attachments", "jobs"):
            # A saved answer ends the extra instances it filled; the rest stay asked for.
            if self.screen is not None:
                self.extra = {}
            self.refresh()


def _shape(screen: FormScreen | None) -> tuple[Any, ...] | None:
    """What decides the widgets: the questions shown and how each one's input is built. A
    typed value is not part of it (the widget already shows it), unless it holds a fault
    code to look up; a choice, a failed item's note and photos, counts and problems are."""
    if screen is None:
        return None
    return (screen.state, *(
        (f.path, f.type, f.required, tuple(f.choices), f.count, f.can_add, f.problem, f.text,
         f.kb_query,
         f.value if f.type in CHOICE_TYPES or f.type in ("select_multiple", "gps", "geotrace",
                                                        "geoshape") else None)
        for f in screen.fields))

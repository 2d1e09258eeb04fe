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
    QButtonGroup,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from fieldapp.changes import Changes
from fieldapp.errors import FieldAppError
from fieldapp.forms.filling import Field, FormScreen
from fieldapp.ids import now_iso
from fieldapp.ui import ops
from fieldapp.ui.camera_dialog import CameraDialog, open_camera
from fieldapp.ui.context import AppContext
from fieldapp.ui.controls import Card, button, clear_layout, label, set_prop
from fieldapp.ui.formatting import stamp
from fieldapp.ui.i18n import language, tr
from fieldapp.ui.messages import describe_problem, scan_verdict

CHOICE_TYPES = {"select_one", "yes_no", "pass_fail_na"}
NUMBER_TYPES = {"integer", "decimal", "meter_reading"}
TEXT_TYPES = {"text", "barcode", "date", "time"}
CHOICES_PER_ROW = 5
ARM_MS = 4000  # how long a first tap on "remove" waits for the second


class FieldRow(QFrame):
    """One question: its label, an input made for its type, and its problem if any."""

    def __init__(self, view: FormView, f: Field) -> None:
        super().__init__()
        self.view, self.field = view, f
        self.setObjectName("card" if f.type not in ("group", "note", "instance") else "")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(18 + 24 * f.depth, 6, 14, 6)
        head = QHBoxLayout()
        title = f.label + (" *" if f.required else "")
        self.title = label(title, name="cardTitle" if f.type in ("group", "repeat", "instance")
                           else "", wrap=True)
        head.addWidget(self.title, 1)
        if f.type == "instance" and f.can_remove:
            self.remove = button(tr("form.remove_instance"), name=f"remove_{f.path}")
            self.remove.clicked.connect(self._remove_tapped)
            self._armed = QTimer(self)
            self._armed.setSingleShot(True)
            self._armed.setInterval(ARM_MS)
            self._armed.timeout.connect(lambda: self.remove.setText(tr("form.remove_instance")))
            head.addWidget(self.remove)
        if f.hazard_level:
            head.addWidget(label(f.hazard_level, name="hazardLevel"))
        outer.addLayout(head)
        self.input: Any = None
        self.note: QLineEdit | None = None  # a failed item's note
        body = QHBoxLayout()
        self._build(f, body)
        outer.addLayout(body)
        if f.type == "pass_fail_na" and f.value == "fail":
            self._failed_item(f)
        if f.kb_query:
            look_up = button(tr("form.kb_look_up", query=f.kb_query), role="flat",
                             name=f"kb_{f.path}")
            look_up.clicked.connect(lambda: self.view.kb_requested.emit(f.kb_query))
            outer.addWidget(look_up, 0, Qt.AlignmentFlag.AlignLeft)
        if f.hint:
            outer.addWidget(label(f.hint, name="muted", wrap=True))
        if f.problem:
            outer.addWidget(label(describe_problem(f.problem), name="problem"))

    def _build(self, f: Field, body: QHBoxLayout) -> None:
        name = f"field_{f.path}"
        if f.type in CHOICE_TYPES or f.type == "select_multiple":
            group = QButtonGroup(self)
            group.setExclusive(f.type != "select_multiple")
            chosen = set(f.value or []) if f.type == "select_multiple" else {f.value}
            grid = QGridLayout()  # long lists (the parts catalogue) wrap onto more rows
            for i, (value, text) in enumerate(self._choices(f)):
                btn = button(text, name=f"{name}_{value}")
                btn.setProperty("answer", value)
                btn.setCheckable(True)
                btn.setChecked(value in chosen)
                btn.clicked.connect(lambda _=False, v=value: self._chose(v))
                group.addButton(btn)
                grid.addWidget(btn, i // CHOICES_PER_ROW, i % CHOICES_PER_ROW)
            body.addLayout(grid)
            body.addStretch(1)
            self.input = group
        elif f.type in NUMBER_TYPES or f.type in TEXT_TYPES:
            edit = QLineEdit("" if f.value is None else str(f.value))
            edit.setObjectName(name)
            edit.setPlaceholderText({"date": "2026-11-24", "time": "09:30"}.get(f.type, ""))
            edit.editingFinished.connect(lambda: self._typed(edit.text()))
            body.addWidget(edit, 1)
            if f.unit:
                body.addWidget(label(f.unit, name="muted"))
            if f.type in ("date", "time"):
                now = button(tr("form.now"), name=f"{name}_now")
                now.clicked.connect(lambda: self._typed(
                    now_iso()[:10] if f.type == "date" else now_iso()[11:16]))
                body.addWidget(now)
            if f.previous is not None:
                body.addWidget(label(tr("form.previous", value=f.previous), name="muted"))
            if f.type == "barcode":
                scan = button(tr("evidence.scan_image"), name=f"{name}_scan")
                scan.clicked.connect(self._pick_barcode)
                body.addWidget(scan)
            self.input = edit
        elif f.type == "photo":
            body.addWidget(label(tr("form.photos", n=f.count), name="muted"))
            add = button(tr("evidence.add_photo"), name=f"{name}_add")
            add.clicked.connect(self._pick_photo)
            body.addWidget(add)
            body.addStretch(1)
        elif f.type == "gps":
            shown = (f"{f.value['lat']:.5f}, {f.value['lon']:.5f}" if isinstance(f.value, dict)
                     else tr("form.no_position"))
            body.addWidget(label(shown, name="muted"))
            here = button(tr("form.record_position"), name=f"{name}_here")
            here.clicked.connect(self._record_position)
            body.addWidget(here)
            body.addStretch(1)
        elif f.type == "signature":
            body.addWidget(label(tr("form.signed") if f.count else tr("form.sign_on_tab"),
                                 name="muted", wrap=True))
        elif f.type == "repeat":
            body.addWidget(label(tr("form.instances", n=f.count), name="muted"))
            add = button(tr("form.add_instance"), name=f"{name}_add")
            add.setEnabled(f.can_add)
            add.clicked.connect(lambda: self.view.add_instance(f.path))
            body.addWidget(add)
            body.addStretch(1)
        elif f.type == "note" and f.text:
            body.addWidget(label(f.text, wrap=True))

    def _failed_item(self, f: Field) -> None:
        """A failed item takes a note and photos (the form says which it requires)."""
        extra = QHBoxLayout()
        self.note = QLineEdit(f.note or "")
        self.note.setObjectName(f"note_{f.path}")
        self.note.setPlaceholderText(tr("checklist.note_placeholder"))
        self.note.editingFinished.connect(self._noted)
        extra.addWidget(self.note, 1)
        extra.addWidget(label(tr("form.photos", n=f.count), name="muted"))
        add = button(tr("evidence.add_photo"), name=f"field_{f.path}_photo")
        add.clicked.connect(self._pick_photo)
        extra.addWidget(add)
        self.layout().addLayout(extra)

    def _remove_tapped(self) -> None:
        """Two taps: the first arms the button for a few seconds, the second removes."""
        if not self._armed.isActive():
            self.remove.setText(tr("evidence.delete_confirm"))
            self._armed.start()
            return
        self._armed.stop()
        self.view.remove_instance(self.field.path)

    def _noted(self) -> None:
        assert self.note is not None
        note = self.note.text().strip() or None
        if note != self.field.note and self.view.save(self.field.path, self.field.value, note):
            self.field.note = note

    def _choices(self, f: Field) -> list[tuple[str, str]]:
        if f.type == "yes_no":
            return [("yes", tr("form.yes")), ("no", tr("form.no"))]
        if f.type == "pass_fail_na":
            return [(v, tr(f"checklist.answer.{v}")) for v in ("pass", "fail", "na")]
        return f.choices

    def _chose(self, value: str) -> None:
        if self.field.type == "pass_fail_na" and value == "fail":
            self.view.note_wanted = self.field.path  # the failed item's note comes next
        if self.field.type == "select_multiple":
            chosen = [b.property("answer") for b in self.input.buttons() if b.isChecked()]
            self.view.save(self.field.path, chosen or None)
        else:
            self.view.save(self.field.path, value)

    def _typed(self, text: str) -> None:
        text = text.strip()
        if text == ("" if self.field.value is None else str(self.field.value)):
            return
        value: Any = text or None
        if value is not None and self.field.type == "barcode":
            self.view.scan_barcode(self.field.path, code=text)
            return
        if value is not None and self.field.type in NUMBER_TYPES:
            try:
                value = int(text) if self.field.type == "integer" else float(text)
            except ValueError:
                self.view.ctx.notify(tr("form.not_a_number"), "error")
                return
        if self.view.save(self.field.path, value):
            self.field.value = value  # the row stays: it must know what is saved now

    def _pick_photo(self) -> None:
        self._camera(CameraDialog.PHOTO)

    def _pick_barcode(self) -> None:
        self._camera(CameraDialog.SCAN)

    def _camera(self, mode: str) -> CameraDialog:
        """The live camera for this question; 从图片选择 in it picks a file instead."""
        return open_camera(
            self.view.ctx, mode, self, from_file=lambda: self._pick_file(mode),
            taken=lambda path: self.view.attach_photo(self.field.path, path),
            read=lambda code, symbology: self.view.scan_barcode(self.field.path, code=code,
                                                                symbology=symbology))

    def _pick_file(self, mode: str) -> None:
        photo = mode == CameraDialog.PHOTO
        path, _ = QFileDialog.getOpenFileName(
            self, tr("evidence.add_photo" if photo else "evidence.scan_image"), "",
            tr("today.image_filter"))
        if path and photo:
            self.view.attach_photo(self.field.path, Path(path))
        elif path:
            self.view.scan_barcode(self.field.path, image=Path(path))

    def _record_position(self) -> None:
        fix = self.view.ctx.position()
        if fix is None:
            self.view.ctx.notify(tr("form.no_position"), "error")
            return
        self.view.save(self.field.path, {"lat": fix.lat, "lon": fix.lon,
                                         "accuracy": float(fix.accuracy_m or 0)})


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

    def open_document(self, document: str) -> Path | None:
        """Render the document and hand it to the system's PDF viewer; returns its file."""
        if self.job_id is None:
            return None
        path = self.ctx.run(ops.write_document, job_id=self.job_id, document=document)
        if path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
        return path

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

    def scan_barcode(self, path: str, image: Path | None = None, code: str | None = None,
                     symbology: str | None = None) -> bool:
        """Answer a barcode question from a photo of the label or a typed code, saying whose
        meter it is; False when it was not saved (no barcode found in the image…)."""
        assert self.job_id is not None
        outcome = self.ctx.run(ops.scan_form_barcode, job_id=self.job_id, path=path,
                               image=image, code=code, symbology=symbology)
        if outcome is None:
            return False
        row = self.rows.get(path)
        if row is not None:  # typed values do not redraw the row: show the scanned one
            row.field.value = outcome.code
            row.input.setText(outcome.code)
        text, level = scan_verdict(outcome.code, outcome.verdict,
                                   outcome.customer["name"] if outcome.customer else "")
        self.ctx.notify(text, level)
        return True

    def attach_photo(self, path: str, file: Path) -> None:
        assert self.job_id is not None
        self.ctx.run(ops.attach_form_photo, job_id=self.job_id, question=path, path=file,
                     position=self.ctx.position())

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
         f.value if f.type in CHOICE_TYPES or f.type in ("select_multiple", "gps") else None)
        for f in screen.fields))

"""One question in the form view: its label, an input made for its type, and its problem."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from fieldapp.forms import values
from fieldapp.local_time import now_iso
from fieldapp.replica.filling import Field
from fieldapp.ui.dialogs.camera_dialog import CameraDialog, open_camera
from fieldapp.ui.i18n import tr
from fieldapp.ui.i18n.messages import describe_problem
from fieldapp.ui.widgets.controls import button, label

if TYPE_CHECKING:
    from fieldapp.ui.screens.form_view import FormView

CHOICE_TYPES = {"select_one", "yes_no", "pass_fail_na"}
NUMBER_TYPES = {"integer", "decimal", "meter_reading"}
TEXT_TYPES = {"text", "barcode", "date", "time", "datetime"}
# What "now" fills in, by type (the tablet's local time).
_NOW = {"date": slice(0, 10), "time": slice(11, 16), "datetime": slice(0, 16)}
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
        self.hint: QLabel | None = None
        if f.hint:
            self.hint = label(f.hint, name="muted", wrap=True)
            outer.addWidget(self.hint)
        if f.problem:
            outer.addWidget(label(describe_problem(f.problem), name="problem"))

    def show_texts(self, f: Field) -> None:
        """The label and hint again: one that shows an answer (``${name}``) follows it
        without rebuilding the row under the technician's finger."""
        self.field = f
        self.title.setText(f.label + (" *" if f.required else ""))
        if self.hint is not None:
            self.hint.setText(f.hint)

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
            edit.setPlaceholderText({"date": "2026-11-24", "time": "09:30",
                                     "datetime": "2026-11-24 09:30"}.get(f.type, ""))
            edit.editingFinished.connect(lambda: self._typed(edit.text()))
            body.addWidget(edit, 1)
            if f.unit:
                body.addWidget(label(f.unit, name="muted"))
            if f.type in _NOW:
                now = button(tr("form.now"), name=f"{name}_now")
                now.clicked.connect(lambda: self._typed(
                    now_iso()[_NOW[f.type]].replace("T", " ")))
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
        elif f.type in ("audio", "video"):
            body.addWidget(label(tr("form.recordings", n=f.count), name="muted"))
            add = button(tr(f"evidence.add_{f.type}"), name=f"{name}_add")
            add.clicked.connect(self._pick_recording)
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
        elif f.type in ("geotrace", "geoshape"):
            self._path_row(body, f, name)
        elif f.type == "signature":
            body.addWidget(label(tr("form.signed") if f.count else tr("form.sign_on_tab"),
                                 name="muted", wrap=True))
        elif f.type == "repeat":
            body.addWidget(label(tr("form.instances", n=f.count) if f.wanted is None else
                                 tr("form.instances_wanted", n=f.count, wanted=f.wanted),
                                 name="muted"))
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
            self.view.scan_barcode_image(self.field.path, Path(path))

    def _pick_recording(self) -> None:
        """A recording made with the tablet's own recorder or camera app, chosen as a file
        (kept as recorded: hashed, never re-encoded)."""
        path, _ = QFileDialog.getOpenFileName(
            self, tr(f"evidence.add_{self.field.type}"), "", tr("evidence.recording_filter"))
        if path:
            self.view.attach_recording(self.field.path, Path(path))

    def _path_row(self, body: QHBoxLayout, f: Field, name: str) -> None:
        """A line (a pipe's route) or an area walked point by point: each tap of 记录此点
        adds the current fix; its length or area as ODK's distance() and area() give it."""
        points = f.value if isinstance(f.value, list) else []
        measure = (values.distance(points) if f.type == "geotrace" else values.area(points))
        shown = tr(f"form.{f.type}_points", n=len(points)) + (
            "" if measure is None else tr(f"form.{f.type}_measure", value=f"{measure:,.0f}"))
        body.addWidget(label(shown, name="muted", wrap=True), 1)
        here = button(tr("form.add_point"), name=f"{name}_here")
        here.clicked.connect(lambda: self._add_point(points))
        body.addWidget(here)
        clear = button(tr("form.clear_points"), name=f"{name}_clear")
        clear.setEnabled(bool(points))
        clear.clicked.connect(lambda: self.view.save(self.field.path, None))
        body.addWidget(clear)

    def _add_point(self, points: list[dict[str, Any]]) -> None:
        fix = self.view.ctx.position()
        if fix is None:
            self.view.ctx.notify(tr("form.no_position"), "error")
            return
        self.view.save(self.field.path, [*points, {"lat": fix.lat, "lon": fix.lon,
                                                   "accuracy": float(fix.accuracy_m or 0)}])

    def _record_position(self) -> None:
        fix = self.view.ctx.position()
        if fix is None:
            self.view.ctx.notify(tr("form.no_position"), "error")
            return
        self.view.save(self.field.path, {"lat": fix.lat, "lon": fix.lon,
                                         "accuracy": float(fix.accuracy_m or 0)})

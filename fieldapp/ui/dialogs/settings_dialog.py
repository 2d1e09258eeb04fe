"""设置: the tablet's own settings (fieldapp/replica/settings.py) in one touch-sized form. A
refused value is said next to its field and nothing is stored; what is saved takes effect
at once (language, theme, GPS source, lock, server address of the next sync)."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from fieldapp.errors import FieldAppError
from fieldapp.replica import settings as tablet_settings
from fieldapp.replica.settings import TabletSettings
from fieldapp.ui.context import AppContext
from fieldapp.ui.i18n import tr
from fieldapp.ui.widgets.controls import button, label, set_prop

GPS_KINDS = ("platform", "nmea", "sim", "none")


class SettingsDialog(QDialog):
    saved = Signal(object)  # TabletSettings

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("settingsDialog")
        self.setWindowTitle(tr("settings.title"))
        self.setModal(True)
        self.setMinimumWidth(720)
        current = self.ctx.run(tablet_settings.load) or TabletSettings()
        self.current = current
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 28, 32, 24)
        layout.setSpacing(12)
        layout.addWidget(label(tr("settings.title"), name="screenTitle"))
        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(12)

        self.server = QLineEdit(current.server_url or self.ctx.server_url)
        self.server.setObjectName("settingsServer")
        self.server.setPlaceholderText("https://fieldapp.example.com")
        self.language = _combo([(code, tr(f"settings.lang.{code}"))
                                for code in tablet_settings.LANGUAGES], current.language)
        self.photo_edge = _combo([(str(v), tr("settings.px", n=v))
                                  for v in tablet_settings.PHOTO_EDGES],
                                 str(current.photo_long_edge))
        self.photo_quality = QSpinBox()
        self.photo_quality.setRange(*tablet_settings.QUALITY_RANGE)
        self.photo_quality.setValue(current.photo_quality)
        self.photo_quality.setMinimumHeight(46)
        kind, _, arg = current.gps_source.partition(":")
        self.gps_kind = _combo([(k, tr(f"settings.gps.{k}")) for k in GPS_KINDS],
                               kind if kind in GPS_KINDS else "sim")
        self.gps_arg = QLineEdit(arg)
        self.gps_arg.setObjectName("settingsGpsArg")
        self.gps_arg.setPlaceholderText(tr("settings.gps.arg_hint"))
        gps_row = QHBoxLayout()
        gps_row.addWidget(self.gps_kind)
        gps_row.addWidget(self.gps_arg, 1)
        self.camera = QLineEdit(current.camera_source)
        self.camera.setObjectName("settingsCamera")
        self.camera.setPlaceholderText(tr("settings.camera.hint"))
        self.lock = _combo([(str(m), tr("settings.lock.never") if m == 0
                             else tr("settings.lock.minutes", n=m))
                            for m in tablet_settings.LOCK_MINUTES], str(current.lock_minutes))
        self.high_contrast = QCheckBox(tr("settings.on"))
        self.high_contrast.setChecked(current.high_contrast)
        self.high_contrast.setMinimumHeight(46)
        self.report_position = QCheckBox(tr("settings.report_position.on"))
        self.report_position.setObjectName("settingsReportPosition")
        self.report_position.setChecked(current.report_position)
        self.report_position.setMinimumHeight(46)

        rows: list[tuple[str, QWidget | QHBoxLayout]] = [
            ("server_url", self.server), ("language", self.language),
            ("photo_long_edge", self.photo_edge), ("photo_quality", self.photo_quality),
            ("gps_source", gps_row), ("camera_source", self.camera),
            ("lock_minutes", self.lock),
            ("high_contrast", self.high_contrast), ("report_position", self.report_position)]
        self.problems: dict[str, QWidget] = {}
        for n, (name, widget) in enumerate(rows):
            grid.addWidget(label(tr(f"settings.{name}")), 2 * n, 0)
            if isinstance(widget, QHBoxLayout):
                grid.addLayout(widget, 2 * n, 1)
            else:
                grid.addWidget(widget, 2 * n, 1)
            problem = label(name="problem", wrap=True)
            problem.hide()
            grid.addWidget(problem, 2 * n + 1, 1)
            self.problems[name] = problem
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid)
        buttons = QHBoxLayout()
        self.cancel = button(tr("settings.cancel"), name="settingsCancel")
        self.cancel.clicked.connect(self.reject)
        self.ok = button(tr("settings.save"), role="primary", name="settingsSave")
        self.ok.setDefault(True)
        self.ok.clicked.connect(self.submit)
        buttons.addWidget(self.cancel)
        buttons.addStretch(1)
        buttons.addWidget(self.ok)
        layout.addLayout(buttons)

    def chosen(self) -> TabletSettings:
        kind, arg = self.gps_kind.currentData(), self.gps_arg.text().strip()
        server = self.server.text().strip()
        return replace(
            self.current,
            server_url="" if server == self.ctx.server_url and not self.current.server_url
            else server,
            language=self.language.currentData(),
            photo_long_edge=int(self.photo_edge.currentData()),
            photo_quality=self.photo_quality.value(),
            gps_source=f"{kind}:{arg}" if arg and kind != "none" else kind,
            camera_source=self.camera.text().strip(),
            lock_minutes=int(self.lock.currentData()),
            high_contrast=self.high_contrast.isChecked(),
            report_position=self.report_position.isChecked())

    def submit(self) -> None:
        for problem in self.problems.values():
            problem.hide()
        choice = self.chosen()
        refused: list[FieldAppError] = []
        if self.ctx.run(tablet_settings.save, s=choice, failed=refused.append) is None:
            field = refused[0].params.get("field", "") if refused else ""
            shown = self.problems.get(field)
            if shown is not None:
                shown.setText(tr(f"settings.invalid.{field}"))
                set_prop(shown, "error", True)
                shown.show()
            return
        self.saved.emit(choice)
        self.accept()


def _combo(options: list[tuple[str, str]], current: str) -> QComboBox:
    box = QComboBox()
    box.setMinimumHeight(46)
    for value, text in options:
        box.addItem(text, value)
    index = box.findData(current)
    box.setCurrentIndex(max(index, 0))
    return box

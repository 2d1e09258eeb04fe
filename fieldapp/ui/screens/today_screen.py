"""今日工单: the technician's route for today, and 扫码找客户 to jump to a customer's job."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QListView,
    QScroller,
    QVBoxLayout,
    QWidget,
)

from fieldapp.changes import Changes
from fieldapp.replica.jobs import JobFilter
from fieldapp.ui import ops
from fieldapp.ui.context import AppContext
from fieldapp.ui.dialogs.camera_dialog import CameraDialog, open_camera
from fieldapp.ui.i18n import tr
from fieldapp.ui.taskman import Task
from fieldapp.ui.widgets.controls import button, label
from fieldapp.ui.widgets.formatting import day_heading, today
from fieldapp.ui.widgets.jobs_model import JobCardDelegate, JobListModel

IMAGE_FILTER_KEY = "today.image_filter"


def _filter_box(name: str) -> QComboBox:
    box = QComboBox()
    box.setObjectName(name)
    box.setMinimumHeight(44)
    box.setMinimumWidth(150)
    return box


class TodayScreen(QWidget):
    open_job = Signal(str)  # job id
    open_customer = Signal(str)  # customer id, when a scanned customer has no open job
    search_requested = Signal()
    map_requested = Signal()  # 今日地图: the main window shows the map page

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._filling = False
        self.setObjectName("page")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 16, 8, 0)
        layout.setSpacing(8)

        header = QHBoxLayout()
        header.setContentsMargins(16, 0, 16, 0)
        header.setSpacing(12)
        self.title = label(name="screenTitle")
        self.summary = label(name="muted")
        header.addWidget(self.title)
        header.addSpacing(8)
        header.addWidget(self.summary)
        header.addStretch(1)
        self.code = QLineEdit()
        self.code.setObjectName("codeEntry")
        self.code.setMinimumWidth(240)
        self.code.returnPressed.connect(self._find_typed)
        self.find = button(name="findCode")
        self.find.clicked.connect(self._find_typed)
        self.scan = button(role="primary", name="scanCustomer")
        self.scan.clicked.connect(self.scan_with_camera)
        self.map = button(name="todayMap")
        self.map.clicked.connect(self.map_requested)
        self.search = button(name="searchCustomers")
        self.search.clicked.connect(self.search_requested)
        for widget in (self.code, self.find, self.scan, self.search, self.map):
            header.addWidget(widget)
        layout.addLayout(header)

        filters = QHBoxLayout()
        filters.setContentsMargins(16, 0, 16, 0)
        filters.setSpacing(10)
        self.filter_status = _filter_box("todayFilterStatus")
        self.filter_kind = _filter_box("todayFilterKind")
        self.filter_priority = _filter_box("todayFilterPriority")
        for box in (self.filter_status, self.filter_kind, self.filter_priority):
            box.currentIndexChanged.connect(self._filter_changed)
            filters.addWidget(box)
        self.shown = label(name="muted")
        filters.addWidget(self.shown)
        filters.addStretch(1)
        layout.addLayout(filters)
        self._all_jobs: list[dict] = []

        self.model = JobListModel()
        self.list = QListView()
        self.list.setObjectName("todayList")
        self.list.setModel(self.model)
        self.list.setItemDelegate(JobCardDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # Finger flicks scroll the list; mouse clicks still open a job.
        QScroller.grabGesture(self.list.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        self.list.clicked.connect(self._on_clicked)
        layout.addWidget(self.list, 1)
        self.empty = label(name="muted")
        self.empty.setContentsMargins(24, 24, 24, 24)
        layout.addWidget(self.empty)

        ctx.changes_applied.connect(self._on_changes)
        ctx.language_changed.connect(self.retranslate)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(tr("today.title"))
        self.code.setPlaceholderText(tr("today.code_placeholder"))
        self.find.setText(tr("today.find"))
        self.scan.setText(tr("today.scan"))
        self.map.setText(tr("today.map"))
        self.search.setText(tr("search.open"))
        self.empty.setText(tr("today.empty"))
        self._fill_filters()
        self.model.retranslate()
        self._update_summary()

    def refresh(self) -> None:
        self._all_jobs = self.ctx.run(ops.today_jobs) or []
        self._show_filtered()

    def job_filter(self) -> JobFilter:
        return JobFilter(status=self.filter_status.currentData(),
                         kind=self.filter_kind.currentData(),
                         priority=self.filter_priority.currentData())

    def _filter_changed(self) -> None:
        if not self._filling:
            self._show_filtered()

    def _show_filtered(self) -> None:
        self.model.set_jobs(self.job_filter().apply(self._all_jobs))
        self._update_summary()

    def _fill_filters(self) -> None:
        """The choices, in the current language; what was chosen stays chosen."""
        self._filling = True
        kinds = ["inspection", "repair", "meter_reading", "rectification_check",
                 "installation", "dunning"]
        for box, options in (
                (self.filter_status, [(None, tr("today.filter.all_status")),
                                      ("open", tr("today.filter.open")),
                                      ("done", tr("today.filter.done"))]),
                (self.filter_kind, [(None, tr("today.filter.all_kinds")),
                                    *[(k, tr(f"kind.{k}")) for k in kinds]]),
                (self.filter_priority, [(None, tr("today.filter.all_priorities")),
                                        *[(p, tr(f"priority.{p}")) for p in (1, 2, 3, 4)]])):
            chosen = box.currentData()
            box.clear()
            for value, text in options:
                box.addItem(text, value)
            box.setCurrentIndex(max(box.findData(chosen), 0))
        self._filling = False

    def _update_summary(self) -> None:
        n, total = self.model.rowCount(), len(self._all_jobs)
        self.summary.setText(tr("today.summary", date=day_heading(today()), n=total))
        self.shown.setText(tr("today.filter.shown", n=n) if n != total else "")
        self.empty.setText(tr("today.empty") if total == 0 else tr("today.filter.none"))
        self.empty.setVisible(n == 0)

    def _on_changes(self, changes: Changes) -> None:
        if changes.touches("jobs", "customers", "session"):
            self.refresh()

    def _on_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_job.emit(self.model.job_at(index.row())["id"])

    # -- scanning -------------------------------------------------------------------------
    def scan_with_camera(self) -> CameraDialog:
        """The live camera; a barcode read opens its customer's job, as a photo of it does."""
        return open_camera(self.ctx, CameraDialog.SCAN, self, from_file=self._pick_scan_image,
                           read=self._camera_read)

    def _camera_read(self, code: str, symbology: str | None) -> None:
        outcome = self.ctx.run(ops.record_camera_scan, code=code, symbology=symbology)
        if outcome is not None:
            self._show_outcome(outcome)

    def _pick_scan_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("today.pick_image"), str(Path.home()),
                                              tr(IMAGE_FILTER_KEY))
        if path:
            self.scan_file(path)

    def scan_file(self, path: str | Path) -> Task[ops.ScanOutcome]:
        """Decode a meter barcode photo in the background and open that customer's job."""
        return self.ctx.slow(ops.slow.scan_image(path), done=self._show_outcome)

    def _find_typed(self) -> None:
        code = self.code.text().strip()
        if code:
            outcome = self.ctx.run(ops.record_code, code=code)
            if outcome is not None:
                self._show_outcome(outcome)

    def _show_outcome(self, outcome: ops.ScanOutcome) -> None:
        if outcome.customer is None:
            self.ctx.notify(tr("today.unknown_code", code=outcome.code))
            # The label may be smudged: offer the typed route right away.
            self.code.setText(outcome.code)
            self.code.setFocus()
            self.code.selectAll()
            return
        self.code.clear()
        if outcome.open_job is not None:
            self.open_job.emit(outcome.open_job["id"])
        else:
            self.ctx.notify(tr("today.no_open_job", name=outcome.customer["name"]))
            self.open_customer.emit(outcome.customer["id"])

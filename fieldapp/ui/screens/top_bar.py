"""The bar across the top: who is working, connection, last sync, waiting uploads, 同步.

When the server refused or settled a change otherwise, a button with their number opens the
同步问题 screen: a problem must be one tap away, never only a count.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QProgressBar, QWidget

from fieldapp.changes import Changes
from fieldapp.sync.client import Progress
from fieldapp.ui import ops
from fieldapp.ui.context import AppContext
from fieldapp.ui.i18n import tr
from fieldapp.ui.sync_worker import SyncController
from fieldapp.ui.taskman import TaskManager
from fieldapp.ui.widgets.controls import button, label, set_prop
from fieldapp.ui.widgets.formatting import megabytes, stamp

# Quick syncs finish before this; only longer ones show the bar, so it never flashes.
PROGRESS_DELAY_MS = 400


class TopBar(QFrame):
    language_requested = Signal()
    sync_requested = Signal()
    problems_requested = Signal()
    kb_requested = Signal()
    settings_requested = Signal()

    def __init__(self, ctx: AppContext, controller: SyncController,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.controller = controller
        self.setObjectName("topBar")
        self.setFixedHeight(72)
        row = QHBoxLayout(self)
        row.setContentsMargins(24, 8, 16, 8)
        row.setSpacing(18)
        self.title = label(name="appTitle")
        self.user = label()
        row.addWidget(self.title)
        row.addWidget(self.user)
        row.addStretch(1)
        self.dot = label("●", name="connectionDot")
        self.connection = label()
        self.last_sync = label(name="muted")
        self.pending = label(name="pendingCount")
        self.problems = button(name="problemButton")
        self.problems.clicked.connect(self.problems_requested)
        for widget in (self.dot, self.connection, self.last_sync, self.pending, self.problems):
            row.addWidget(widget)
        row.setSpacing(14)
        self.kb = button(name="kbButton")
        self.kb.clicked.connect(self.kb_requested)
        row.addWidget(self.kb)
        self.settings = button(name="settingsButton")
        self.settings.clicked.connect(self.settings_requested)
        row.addWidget(self.settings)
        self.language = button(name="languageButton")
        self.language.setMinimumWidth(76)
        self.language.clicked.connect(self.language_requested)
        self.sync = button(name="syncButton")
        self.sync.clicked.connect(self.sync_requested)
        row.addSpacing(8)
        row.addWidget(self.language)
        row.addWidget(self.sync)

        ctx.changes_applied.connect(self._on_changes)
        ctx.language_changed.connect(self.retranslate)
        controller.state_changed.connect(self._show_state)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(tr("app.title"))
        self.language.setText(tr("top.switch_language"))
        self.kb.setText(tr("kb.title"))
        self.settings.setText(tr("settings.open"))
        self.sync.setText(tr("top.sync"))
        self._show_state(self.controller.state)
        self.refresh()

    def refresh(self) -> None:
        if self.ctx.replica is None:
            return  # shut down
        session = self.ctx.call(ops.session)
        if session is None:
            self.user.setText("")
        elif session.district:
            self.user.setText(tr("top.user", name=session.display_name, district=session.district))
        else:
            self.user.setText(tr("top.user_no_district", name=session.display_name))
        status = self.ctx.call(ops.sync_status)
        self.last_sync.setText(tr("top.last_sync", time=stamp(status.last_sync_at))
                               if status.last_sync_at else tr("top.never_synced"))
        self.pending.setText(tr("top.pending", n=status.pending))
        self.problems.setText(tr("top.problems", n=status.problems))
        self.problems.setVisible(status.problems > 0)

    def _on_changes(self, changes: Changes) -> None:
        if changes.touches("outbox", "sync", "session"):
            self.refresh()

    def _show_state(self, state: str) -> None:
        set_prop(self.dot, "state", state)
        self.connection.setText(tr(f"top.{state}"))
        self.sync.setEnabled(state != "syncing")


def _bar_under_the_top(bar: QProgressBar, name: str) -> None:
    """The look of the bars under the top bar: a full-width strip with centred text, hidden
    until there is something to say."""
    bar.setObjectName(name)
    bar.setTextVisible(True)
    bar.setAlignment(Qt.AlignmentFlag.AlignCenter)
    bar.setFixedHeight(28)
    bar.hide()


class SyncProgressBar(QProgressBar):
    """Phase, counts and bytes of a running sync; hidden when nothing runs."""

    def __init__(self, controller: SyncController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _bar_under_the_top(self, "syncProgress")
        self._delay = QTimer(self)
        self._delay.setSingleShot(True)
        self._delay.timeout.connect(self.show)
        controller.state_changed.connect(self._on_state)
        controller.progress.connect(self.show_progress)

    def _on_state(self, state: str) -> None:
        if state == "syncing":
            self.setRange(0, 0)  # busy until the first progress report
            self.setFormat(tr("progress.start"))
            self._delay.start(PROGRESS_DELAY_MS)
        else:
            self._delay.stop()
            self.hide()

    def show_progress(self, progress: Progress) -> None:
        if progress.phase == "upload":
            text = tr("progress.upload", done=progress.done, total=progress.total,
                      mb_done=megabytes(progress.bytes_done),
                      mb_total=megabytes(progress.bytes_total))
            done, total = progress.bytes_done, progress.bytes_total
        elif progress.phase == "basemap":  # counted in KiB: a city's file passes 2 GB
            text = tr("progress.basemap", mb_done=megabytes(progress.bytes_done),
                      mb_total=megabytes(progress.bytes_total))
            done, total = progress.bytes_done // 1024, progress.bytes_total // 1024
        elif progress.phase in ("push", "figures"):
            text = tr(f"progress.{progress.phase}", done=progress.done, total=progress.total)
            done, total = progress.done, progress.total
        else:
            text = tr("progress.pull", done=progress.done)
            done, total = progress.done, progress.total
        # Qt shows a busy bar for range 0..0; use it while the total is still unknown.
        self.setRange(0, max(total, 0) if total > 0 else 0)
        if total > 0:
            self.setValue(min(done, total))
        self.setFormat(text)


class BusyBar(QProgressBar):
    """What slow work runs in the background (a photo, a PDF, the map), once it has run for
    a moment (``taskman.BUSY_AFTER_MS``); hidden otherwise. The screens stay usable."""

    def __init__(self, tasks: TaskManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _bar_under_the_top(self, "busyProgress")
        self.setRange(0, 0)  # these ops cannot say how far they are: a busy bar
        tasks.busy_changed.connect(self.show_label)

    def show_label(self, text: str) -> None:
        self.setFormat(text)
        self.setVisible(bool(text))

"""The tablet's main window: top bar, sync progress, and the Today / Job / 同步问题 screens."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from fieldapp.errors import WipeRequested
from fieldapp.replica.settings import TabletSettings
from fieldapp.ui import ops, theme
from fieldapp.ui.collector import UiCollector
from fieldapp.ui.context import AppContext
from fieldapp.ui.dialogs.customer_search import CustomerSearchDialog
from fieldapp.ui.dialogs.idle_lock import IdleLock, idle_minutes
from fieldapp.ui.dialogs.login_dialog import LoginDialog
from fieldapp.ui.dialogs.settings_dialog import SettingsDialog
from fieldapp.ui.emergency_watch import EmergencyWatch
from fieldapp.ui.i18n import LANGUAGES, language, tr
from fieldapp.ui.screens.customer_view import CustomerView
from fieldapp.ui.screens.job_page import JobPage
from fieldapp.ui.screens.kb_view import KnowledgeDialog
from fieldapp.ui.screens.map_page import MapPage
from fieldapp.ui.screens.sync_problems_view import SyncProblemsPage
from fieldapp.ui.screens.today_screen import TodayScreen
from fieldapp.ui.screens.top_bar import BusyBar, SyncProgressBar, TopBar
from fieldapp.ui.sync_worker import SyncController
from fieldapp.ui.wake_listener import WakeListener
from fieldapp.ui.widgets.controls import Toast, button, close_row, label


class CustomerDialog(QDialog):
    """客户360 on its own, for a scanned customer who has no open job today."""

    def __init__(self, ctx: AppContext, customer_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("job.customer_title"))
        self.setObjectName("page")
        layout = QVBoxLayout(self)
        self.view = CustomerView(ctx)
        self.view.show_customer(customer_id)
        layout.addWidget(self.view, 1)
        layout.addLayout(close_row(self))
        if parent is not None:
            self.resize(parent.width() - 120, parent.height() - 100)


class WipedNotice(QWidget):
    """What a revoked, erased tablet shows instead of its screens."""

    def __init__(self, text: str, on_close: Callable[[], object]) -> None:
        super().__init__()
        self.setObjectName("page")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(80, 80, 80, 80)
        layout.setSpacing(20)
        layout.addStretch(1)
        layout.addWidget(label(tr("wipe.title"), name="screenTitle"))
        self.text = label(text, wrap=True)
        layout.addWidget(self.text)
        self.close_button = button(tr("wipe.close"), role="primary", name="closeApp")
        self.close_button.clicked.connect(on_close)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(2)


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext, controller: SyncController) -> None:
        super().__init__()
        self.ctx = ctx
        self.controller = controller
        self.collector = UiCollector(self)  # started once the window is built
        self.setMinimumSize(1024, 640)
        central = QWidget()
        central.setObjectName("page")
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.top_bar = TopBar(ctx, controller)
        self.progress = SyncProgressBar(controller)
        self.busy = BusyBar(ctx.tasks)
        self.today = TodayScreen(ctx)
        self.job_page = JobPage(ctx)
        self.problems_page = SyncProblemsPage(ctx)
        self.map_page = MapPage(ctx)
        self._job_from: QWidget = self.today  # where a job's 返回 leads: the list or the map
        self._before_problems: QWidget = self.today  # where 返回 leads from the problems
        self.stack = QStackedWidget()
        self.stack.addWidget(self.today)
        self.stack.addWidget(self.job_page)
        self.stack.addWidget(self.problems_page)
        self.stack.addWidget(self.map_page)
        layout.addWidget(self.top_bar)
        layout.addWidget(self.progress)
        layout.addWidget(self.busy)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.toast = Toast(central)

        ctx.message.connect(self.toast.show_message)
        ctx.language_changed.connect(self._retranslate)
        self.top_bar.sync_requested.connect(self.sync_clicked)
        self.top_bar.language_requested.connect(self.toggle_language)
        self.today.open_job.connect(self.open_job)
        self.today.open_customer.connect(self.open_customer)
        self.today.search_requested.connect(self.search_customers)
        self.today.map_requested.connect(self.show_map)
        self.map_page.open_job.connect(self.open_job)
        self.map_page.closed.connect(self.show_today)
        self.job_page.back_requested.connect(self._job_page_closed)
        self.top_bar.problems_requested.connect(self.show_problems)
        self.top_bar.kb_requested.connect(self.show_knowledge)
        self.job_page.form.kb_requested.connect(self.show_knowledge)
        self.top_bar.settings_requested.connect(self.show_settings)
        self.idle_lock: IdleLock | None = None
        self.kb_dialog: KnowledgeDialog | None = None
        self.problems_page.back_requested.connect(self._close_problems)
        controller.wipe_requested.connect(self.erase_tablet)
        self.wake = WakeListener(ctx, controller)  # online: news syncs at once
        self.emergencies = EmergencyWatch(self)
        self._retranslate()

    # -- navigation ---------------------------------------------------------------------------
    def open_job(self, job_id: str) -> None:
        if self.job_page.show_job(job_id):
            from_map = self.stack.currentWidget() is self.map_page
            self._job_from = self.map_page if from_map else self.today
            self.stack.setCurrentWidget(self.job_page)

    def show_map(self) -> None:
        """今日地图: the page, and what it shows read again."""
        self.stack.setCurrentWidget(self.map_page)
        self.map_page.load()

    def show_today(self) -> None:
        self.stack.setCurrentWidget(self.today)

    def show_problems(self) -> None:
        if self.stack.currentWidget() is not self.problems_page:
            self._before_problems = self.stack.currentWidget()
        self.problems_page.refresh()  # a hidden page does not follow syncs
        self.stack.setCurrentWidget(self.problems_page)

    def show_knowledge(self, query: str = "") -> KnowledgeDialog:
        """The knowledge base beside whatever is open (not modal to the rest); with
        ``query`` (a fault from a repair form) it opens on that search's first article."""
        if self.kb_dialog is None:
            self.kb_dialog = KnowledgeDialog(self.ctx, self)
        self.kb_dialog.show()
        self.kb_dialog.raise_()
        self.kb_dialog.query.setFocus()
        if query:
            self.kb_dialog.look_up(query)
        return self.kb_dialog

    def _close_problems(self) -> None:
        self.stack.setCurrentWidget(self._before_problems)

    def _job_page_closed(self) -> None:
        # The job may leave the tablet in a sync while the problems are open: stay there.
        if self.stack.currentWidget() is self.problems_page:
            self._before_problems = self.today
        elif self._job_from is self.map_page:
            self.show_map()
        else:
            self.show_today()

    def search_customers(self) -> CustomerSearchDialog:
        dialog = CustomerSearchDialog(self.ctx, self)
        dialog.open_customer.connect(self.open_customer)
        dialog.open()
        return dialog

    def open_customer(self, customer_id: str) -> None:
        CustomerDialog(self.ctx, customer_id, self).open()

    def reload(self) -> None:
        """Read everything again, e.g. after the first login filled the replica."""
        self.top_bar.refresh()
        self.today.refresh()

    # -- sync, login, language ----------------------------------------------------------------
    def start(self) -> None:
        """Begin automatic sync: now, and every minute while changes wait to be sent."""
        self.reload()
        self.controller.start_auto()
        self.idle_lock = IdleLock(self, idle_minutes(self))
        self.emergencies.start()
        self.wake.start()

    def show_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.ctx, self)
        dialog.saved.connect(self.apply_settings)
        dialog.open()
        return dialog

    def apply_settings(self, chosen: TabletSettings) -> None:
        """What was saved takes effect now; the server address with the next sync."""
        if chosen.server_url:
            self.ctx.server_url = chosen.server_url
        if chosen.language != language():
            self.ctx.set_language(chosen.language)
        theme.apply(QApplication.instance(), high_contrast=chosen.high_contrast)
        self.ctx.close_gps()
        self.ctx.gps = self.ctx.call(ops.position_source)
        if self.idle_lock is not None:
            self.idle_lock.set_minutes(chosen.lock_minutes)
        self.ctx.notify(tr("settings.saved"), "success")

    def sync_clicked(self) -> None:
        if self.controller.state == "auth" or not self.ctx.call(ops.has_login):
            self.ask_login()
        else:
            self.controller.sync_now(manual=True)

    def ask_login(self) -> None:
        session = self.ctx.call(ops.session)
        dialog = LoginDialog(self.controller, self, username=session.username if session else "")
        dialog.open()

    def toggle_language(self) -> None:
        current = LANGUAGES.index(language())
        self.set_language(LANGUAGES[(current + 1) % len(LANGUAGES)])

    def set_language(self, lang: str) -> None:
        self.ctx.set_language(lang)
        self.ctx.run(ops.save_setting, key=ops.LANGUAGE_KEY, value=lang)

    def _retranslate(self) -> None:
        self.setWindowTitle(tr("app.title"))

    def erase_tablet(self, error: WipeRequested) -> None:
        """Revoked with all work sent: close everything, erase, and say so in place of the
        screens (nothing is left to show); closing the window ends the app."""
        replica = self.ctx.replica
        if replica is None:
            return
        self.wake.stop()
        self.controller.shutdown()
        self.ctx.close_gps()
        self.job_page.leave()
        if self.kb_dialog is not None:
            self.kb_dialog.close()
        left = self.ctx.call(ops.erase_tablet)  # it closes the replica
        self.ctx.tasks.shutdown()
        self.ctx.replica = None  # type: ignore[assignment]
        text = tr("wipe.done", kept=error.params.get("kept", 0))
        if left:
            text += "\n\n" + tr("wipe.left", names=tr("error.list_sep").join(left))
        self.setCentralWidget(WipedNotice(text, self.close))

    # -- shutdown -----------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Finish a running sync, then close our connection; safe to call twice."""
        self.wake.stop()
        self.controller.shutdown()
        self.ctx.close_gps()
        if self.ctx.replica is not None:
            self.job_page.leave()
            self.ctx.tasks.shutdown()  # running ops end first
            self.map_page.map.set_basemap(None)  # its file closed
            self.ctx.replica.close()
            self.ctx.replica = None  # type: ignore[assignment]
        self.collector.stop()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

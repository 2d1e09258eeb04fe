"""Lock the app after a while without a touch, key or pen: a tablet left on a counter or in
a van shows no customer's data to whoever picks it up. Unlocking asks for the same password
as the offline start; sync goes on underneath.

    lock = IdleLock(window, minutes=10)   # 0: never
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from fieldapp.ui import ops
from fieldapp.ui.dialogs.login_dialog import LoginDialog
from fieldapp.ui.dialogs.unlock_dialog import UnlockDialog

if TYPE_CHECKING:
    from fieldapp.ui.main_window import MainWindow

DEFAULT_MINUTES = 10
SETTING = "lock.idle_minutes"
# What a person does; timers, repaints and sync progress do not keep the app open.
_INPUT = {QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress, QEvent.Type.TouchBegin,
          QEvent.Type.TabletPress, QEvent.Type.Wheel}


def idle_minutes(window: MainWindow) -> float:
    raw = window.ctx.run(ops.setting, key=SETTING)
    try:
        return max(0.0, float(raw)) if raw is not None else DEFAULT_MINUTES
    except ValueError:
        return DEFAULT_MINUTES


class IdleLock(QObject):
    locked = Signal()
    unlocked = Signal()

    def __init__(self, window: MainWindow, minutes: float) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: QDialog | None = None
        self._hidden: list[QWidget] = []
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.lock)
        self.set_minutes(minutes)
        QApplication.instance().installEventFilter(self)

    def set_minutes(self, minutes: float) -> None:
        self.timer.stop()
        if minutes > 0:
            self.timer.setInterval(int(minutes * 60_000))
            self.timer.start()

    @property
    def is_locked(self) -> bool:
        return self.dialog is not None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() in _INPUT and not self.is_locked and self.timer.interval() > 0:
            self.timer.start()  # restarts the wait
        return False

    def lock(self) -> None:
        ctx = self.window.ctx
        if self.is_locked or ctx.replica is None or not ctx.call(ops.needs_unlock):
            return  # nothing to unlock with (no offline password yet): stay open
        # Every window of ours goes out of sight: the customer dialog, the knowledge base…
        self._hidden = [w for w in QApplication.topLevelWidgets()
                        if w.isVisible() and w is not self.window]
        for w in self._hidden:
            w.hide()
        self.window.centralWidget().hide()
        self.locked.emit()
        self._ask_password()

    def _ask_password(self) -> None:
        if self.window.ctx.replica is None:  # the window was shut down: nothing left to show
            self.dialog = None
            return
        session = self.window.ctx.call(ops.session)
        self.dialog = UnlockDialog(self.window.ctx, session, self.window)
        self.dialog.finished.connect(self._password_done)
        self.dialog.open()

    def _password_done(self, result: int) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            dialog.deleteLater()
        if result == QDialog.DialogCode.Accepted:
            self._open()
        elif result == UnlockDialog.ONLINE:
            session = self.window.ctx.call(ops.session)
            login = LoginDialog(self.window.controller, self.window, username=session.username)
            self.dialog = login
            login.finished.connect(self._login_done)
            login.open()
        else:  # dismissed (Esc): the lock stays
            self._ask_password()

    def _login_done(self, result: int) -> None:
        self.dialog = None
        if result == QDialog.DialogCode.Accepted:
            self._open()
        else:
            self._ask_password()

    def _open(self) -> None:
        self.window.centralWidget().show()
        for w in self._hidden:
            w.show()
        self._hidden = []
        self.unlocked.emit()
        self.set_minutes(self.timer.interval() / 60_000)

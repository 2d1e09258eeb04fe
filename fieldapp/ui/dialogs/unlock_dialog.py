"""Opening the app offline: the technician's own password, checked on the tablet. Wrong ones
wait longer each time (the button counts down); after too many, only an online login opens
the app again."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from fieldapp.replica import Session, unlock
from fieldapp.ui import ops
from fieldapp.ui.context import AppContext
from fieldapp.ui.i18n import tr
from fieldapp.ui.taskman import Task
from fieldapp.ui.widgets.controls import button, label, set_prop


class UnlockDialog(QDialog):
    ONLINE = 2  # done(): the user asked for an online login instead

    def __init__(self, ctx: AppContext, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("unlockDialog")
        self.setWindowTitle(tr("unlock.title"))
        self.setModal(True)
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(36, 32, 36, 28)
        layout.setSpacing(14)
        layout.addWidget(label(tr("app.title"), name="screenTitle"))
        layout.addWidget(label(tr("unlock.who", name=session.display_name,
                                  username=session.username), wrap=True))
        self.password = QLineEdit()
        self.password.setObjectName("unlockPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.returnPressed.connect(self.submit)
        layout.addWidget(self.password)
        self.status = label(name="problem", wrap=True)
        self.status.hide()
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.online = button(tr("unlock.online"), name="unlockOnline")
        self.online.clicked.connect(lambda: self.done(self.ONLINE))
        self.ok = button(tr("unlock.submit"), role="primary", name="unlockSubmit")
        self.ok.setDefault(True)
        self.ok.clicked.connect(self.submit)
        buttons.addWidget(self.online)
        buttons.addStretch(1)
        buttons.addWidget(self.ok)
        layout.addLayout(buttons)
        self._wait = 0
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)

    def submit(self) -> Task[unlock.Attempt] | None:
        """Check the password in the background (its hash takes a moment by design); the
        dialog answers when the check is done. None when a check cannot be asked now."""
        if not self.ok.isEnabled():
            return None
        self.ok.setEnabled(False)  # one check at a time
        task = self.ctx.slow(ops.slow.unlock(self.password.text()), done=self._answered,
                             failed=lambda _e: self.ok.setEnabled(True))
        self.password.clear()
        return task

    def _answered(self, attempt: unlock.Attempt) -> None:
        self.ok.setEnabled(True)
        if attempt.ok:
            self.accept()
        elif attempt.locked:
            self._say(tr("unlock.locked"))
            self.ok.setEnabled(False)
            self.password.setEnabled(False)
        else:
            self._say(tr("unlock.wrong"))
            if attempt.wait_s:
                self._start_wait(attempt.wait_s)

    def _start_wait(self, seconds: int) -> None:
        self._wait = seconds
        self.ok.setEnabled(False)
        self._tick(first=True)
        self._timer.start()

    def _tick(self, first: bool = False) -> None:
        if not first:
            self._wait -= 1
        if self._wait <= 0:
            self._timer.stop()
            self.ok.setEnabled(True)
            self.ok.setText(tr("unlock.submit"))
            return
        self.ok.setText(tr("unlock.wait", s=self._wait))

    def _say(self, text: str) -> None:
        self.status.setText(text)
        set_prop(self.status, "error", True)
        self.status.show()

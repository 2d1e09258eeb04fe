"""The first-start login: once online, after that the stored session works offline."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from fieldapp.replica import Session
from fieldapp.ui.i18n import messages, tr
from fieldapp.ui.sync_worker import SyncController
from fieldapp.ui.widgets.controls import button, label, set_prop


class LoginDialog(QDialog):
    """Username and password; the login itself runs on the sync thread, never freezing us."""

    def __init__(self, controller: SyncController, parent: QWidget | None = None,
                 username: str = "", password: str = "") -> None:
        super().__init__(parent)
        self.controller = controller
        self.session: Session | None = None
        self.setObjectName("loginDialog")
        self.setWindowTitle(tr("login.title"))
        self.setModal(True)
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(36, 32, 36, 28)
        layout.setSpacing(14)
        title = label(tr("app.title"), name="screenTitle")
        layout.addWidget(title)
        layout.addWidget(label(tr("login.intro"), name="muted", wrap=True))
        layout.addSpacing(6)
        layout.addWidget(label(tr("login.username")))
        self.username = QLineEdit(username)
        self.username.setObjectName("loginUsername")
        layout.addWidget(self.username)
        layout.addWidget(label(tr("login.password")))
        self.password = QLineEdit(password)
        self.password.setObjectName("loginPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.returnPressed.connect(self.submit)
        layout.addWidget(self.password)
        self.status = label(name="problem", wrap=True)
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft)
        self.status.hide()
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.cancel = button(tr("login.cancel"), name="loginCancel")
        self.cancel.clicked.connect(self.reject)
        self.ok = button(tr("login.submit"), role="primary", name="loginSubmit")
        self.ok.setDefault(True)
        self.ok.clicked.connect(self.submit)
        buttons.addWidget(self.cancel)
        buttons.addStretch(1)
        buttons.addWidget(self.ok)
        layout.addSpacing(8)
        layout.addLayout(buttons)
        controller.login_finished.connect(self._on_finished)

    def submit(self) -> None:
        username, password = self.username.text().strip(), self.password.text()
        if not username or not password:
            self._show_status(tr("login.missing"), error=True)
            return
        if self.controller.login(username, password, then_sync=True):
            self._set_busy(True)
            self._show_status(tr("login.busy"), error=False)

    def _on_finished(self, session: Session | None, error: BaseException | None) -> None:
        self._set_busy(False)
        if error is not None:
            self._show_status(messages.describe(error), error=True)
            self.password.selectAll()
            self.password.setFocus()
            return
        self.session = session
        self.accept()

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.username, self.password, self.ok):
            widget.setEnabled(not busy)

    def _show_status(self, text: str, *, error: bool) -> None:
        self.status.setText(text)
        self.status.setObjectName("problem" if error else "muted")
        set_prop(self.status, "error", error)
        self.status.show()

"""An emergency dispatched to this tablet: a red full-window alert that sounds until the
technician takes it on (接单: the job is accepted and opened) or asks to be reminded in a
few minutes (稍后提醒). While the app is locked it says only that an emergency is waiting:
no customer's name or address is shown to whoever holds the tablet.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QHBoxLayout, QVBoxLayout, QWidget

from fieldapp.ui.i18n import tr
from fieldapp.ui.widgets.controls import button, label
from fieldapp.ui.widgets.formatting import stamp

SOUND_EVERY_MS = 1500


def alarm() -> None:
    """One alarm sound: the system's critical-stop sound on Windows, the bell elsewhere."""
    if sys.platform == "win32":
        import winsound

        winsound.MessageBeep(winsound.MB_ICONHAND)
    else:
        QApplication.beep()


class EmergencyAlert(QDialog):
    ACCEPT, LATER, UNLOCK = 1, 2, 3  # what ``finished`` reports

    def __init__(self, job: dict[str, Any], *, locked: bool, parent: QWidget | None = None,
                 sound: Callable[[], None] = alarm) -> None:
        super().__init__(parent)
        self.job_id: str = job["id"]
        self.locked = locked
        self.setObjectName("emergencyAlert")
        self.setWindowTitle(tr("emergency.title"))
        self.setModal(True)
        self.setWindowFlag(Qt.WindowType.FramelessWindowHint)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(56, 48, 56, 48)
        layout.setSpacing(18)
        layout.addStretch(1)
        layout.addWidget(label(tr("emergency.title"), name="emergencyTitle"))
        if locked:
            lines = [tr("emergency.locked")]
        else:
            lines = [tr("emergency.number", number=job["number"], due=stamp(job["due_at"])),
                     job.get("summary") or "",
                     tr("emergency.where", name=job.get("customer_name") or "",
                        address=job.get("customer_address") or "")]
            if job.get("customer_phone"):
                lines.append(tr("emergency.phone", phone=job["customer_phone"]))
        self.lines = [text for text in lines if text]
        for text in self.lines:
            layout.addWidget(label(text, name="emergencyLine", wrap=True))
        layout.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        if locked:
            first = button(tr("emergency.unlock"), name="emergencyAccept")
            first.clicked.connect(lambda: self.done(self.UNLOCK))
        else:
            later = button(tr("emergency.later"), name="emergencyLater")
            later.clicked.connect(lambda: self.done(self.LATER))
            row.addWidget(later)
            first = button(tr("emergency.accept"), name="emergencyAccept")
            first.clicked.connect(lambda: self.done(self.ACCEPT))
        row.addWidget(first)
        layout.addLayout(row)
        first.setDefault(True)
        first.setFocus()
        self.sounds = 0
        self._sound = sound
        self._timer = QTimer(self)
        self._timer.setInterval(SOUND_EVERY_MS)
        self._timer.timeout.connect(self._ring)
        self.finished.connect(self._timer.stop)

    def open(self) -> None:
        parent = self.parentWidget()
        if parent is not None:  # covers the app's window (the tablet runs it full screen)
            self.setGeometry(parent.geometry())
        super().open()
        self._ring()
        self._timer.start()

    def reject(self) -> None:
        """Esc or the back key: remind later, never a silent dismissal."""
        self.done(self.UNLOCK if self.locked else self.LATER)

    def _ring(self) -> None:
        self.sounds += 1
        self._sound()

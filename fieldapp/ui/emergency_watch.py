"""Which emergency to alert for, and when: at start, after every change to the jobs (a sync
that brought one), when the app is unlocked, and every half minute for one put off with
稍后提醒 (it comes back after ``SNOOZE_S``). One alert at a time, oldest emergency first;
taking it on accepts the job, opens it and syncs, so the dispatcher sees it accepted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from fieldapp.changes import Changes
from fieldapp.domain.status import Status
from fieldapp.ui import ops
from fieldapp.ui.dialogs.emergency_alert import EmergencyAlert, alarm
from fieldapp.ui.i18n import tr

if TYPE_CHECKING:
    from fieldapp.ui.main_window import MainWindow

SNOOZE_S = 120.0
RECHECK_MS = 30_000


class EmergencyWatch(QObject):
    def __init__(self, window: MainWindow, *, sound: Callable[[], None] = alarm,
                 now: Callable[[], float] = time.monotonic) -> None:
        super().__init__(window)
        self.window, self.ctx = window, window.ctx
        self.alert: EmergencyAlert | None = None
        self.snoozed: dict[str, float] = {}  # job id -> monotonic time it may alert again
        self._sound, self._now = sound, now
        self.timer = QTimer(self)
        self.timer.setInterval(RECHECK_MS)
        self.timer.timeout.connect(self.check)
        self.started = False
        self.ctx.changes_applied.connect(self._on_changes)

    def start(self) -> None:
        """Alert for what is already waiting; from now on, for what arrives."""
        lock = self.window.idle_lock
        if lock is not None:
            lock.locked.connect(self._on_lock)
            lock.unlocked.connect(self._on_unlock)
        self.started = True
        self.timer.start()
        self.check()

    def check(self) -> None:
        if not self.started or self.alert is not None or self.ctx.replica is None:
            return
        jobs = self.ctx.run(ops.unacknowledged_emergencies) or []
        now = self._now()
        waiting = [job for job in jobs if self.snoozed.get(job["id"], 0.0) <= now]
        if not waiting:
            return
        lock = self.window.idle_lock
        alert = EmergencyAlert(waiting[0], locked=bool(lock and lock.is_locked),
                               parent=self.window, sound=self._sound)
        alert.finished.connect(partial(self._answered, alert, waiting[0]["number"]))
        self.alert = alert
        alert.open()

    def _on_changes(self, changes: Changes) -> None:
        if changes.touches("jobs", "session"):
            self.check()

    def _on_lock(self) -> None:
        """Locked while an alert shows the customer: the alert goes, a locked one comes
        (after the lock's own password dialog, so it is on top)."""
        if self.alert is not None:
            alert, self.alert = self.alert, None
            alert.finished.disconnect()
            alert.done(0)
            alert.deleteLater()
        QTimer.singleShot(0, self.check)

    def _on_unlock(self) -> None:
        self.snoozed.clear()  # unlocked to see it: show it now
        self.check()

    def _answered(self, alert: EmergencyAlert, number: str, result: int) -> None:
        self.alert = None
        alert.deleteLater()
        if result == EmergencyAlert.ACCEPT:
            changes = self.ctx.run(ops.transition_job, job_id=alert.job_id,
                                   target=str(Status.ACCEPTED))
            if changes is not None:
                self.ctx.notify(tr("emergency.accepted", number=number), "success")
                self.window.open_job(alert.job_id)
                self.window.controller.sync_now(manual=False)
        else:  # later, or unlocking to see it: back in a while if still not taken on
            self.snoozed[alert.job_id] = self._now() + SNOOZE_S
        self.check()  # the next emergency waiting, if any

"""Sync and login off the UI thread, with automatic retries while work waits to be sent.

One QThread runs one job at a time (a sync or a login) and does its network there; every
replica step of it runs on the app's one database worker (``ctx.tasks.call``), so sync and
screens share one connection and one clock. Results come back to the UI thread only through
signals; the UI then announces the pulled changes through ``AppContext.changes_applied``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from fieldapp.changes import Changes
from fieldapp.errors import AuthError, FieldAppError, ServerUnreachable, WipeRequested
from fieldapp.local_time import LOCAL_ZONE, as_local
from fieldapp.records import TABLES
from fieldapp.sync.client import SyncReport
from fieldapp.ui import ops
from fieldapp.ui.context import AppContext
from fieldapp.ui.i18n import tr

log = logging.getLogger("fieldapp.ui.sync")

AUTO_SYNC_MS = 60_000
# After each automatic attempt that found no server, wait twice as long (up to 15 min):
# a tablet in a basement should not spend its battery knocking every minute.
BACKOFF_MAX_S = 15 * 60
# Without pending work the tablet still pulls now and then, so new dispatches arrive.
PULL_EVERY = timedelta(minutes=15)

# A sync that failed half-way may have applied some pages: let every screen look again.
_EVERYTHING = Changes(frozenset(TABLES) | {"outbox", "sync"})


class _Worker(QObject):
    progress = Signal(object)  # fieldapp.sync.client.Progress
    done = Signal(str, object, object)  # kind, result, error

    @Slot(str, object, object)
    def perform(self, kind: str, fn: Callable[..., Any], kwargs: dict[str, Any]) -> None:
        try:
            if kind == "sync":
                kwargs = {**kwargs, "progress": self.progress.emit}
            result = fn(**kwargs)
        except Exception as exc:  # handed to the UI thread, which reports it
            self.done.emit(kind, None, exc)
        else:
            self.done.emit(kind, result, None)


class SyncController(QObject):
    """Starts syncs (by hand, on start, on a timer) and logins; reports state and progress."""

    state_changed = Signal(str)  # "unknown", "online", "offline", "syncing", "auth"
    progress = Signal(object)  # fieldapp.sync.client.Progress
    sync_finished = Signal(object, object)  # SyncReport | None, error | None
    login_finished = Signal(object, object)  # Session | None, error | None
    wipe_requested = Signal(object)  # WipeRequested: revoked, everything sent: erase now
    _request = Signal(str, object, object)

    def __init__(self, ctx: AppContext, *, interval_ms: int = AUTO_SYNC_MS) -> None:
        super().__init__()
        self.ctx = ctx
        self.state = "unknown"
        self._connection_state = "unknown"
        self._running: str | None = None
        self._manual = False
        self._then_sync = False
        self._thread = QThread()
        self._thread.setObjectName("fieldapp-sync")
        self._worker = _Worker()
        self._worker.moveToThread(self._thread)
        self._request.connect(self._worker.perform)
        self._worker.done.connect(self._on_done)
        self._worker.progress.connect(self.progress)
        self._thread.start()
        self.auto_timer = QTimer(self)
        self.auto_timer.setInterval(interval_ms)
        self.auto_timer.timeout.connect(self._on_timer)
        self.failures = 0  # automatic attempts in a row that found no server
        self.retry_at = 0.0  # monotonic time before which the timer does not try again
        self.now: Callable[[], float] = time.monotonic

    @property
    def busy(self) -> bool:
        return self._running is not None

    def start_auto(self) -> None:
        """Sync once now (if logged in) and then whenever the timer finds work waiting."""
        self.auto_timer.start()
        if self.ctx.call(ops.has_login):
            self.sync_now(manual=False)

    def sync_now(self, *, manual: bool = True) -> bool:
        if self.busy:
            if manual:
                self.ctx.notify(tr("sync.busy"))
            return False
        self._manual = manual
        # The fix read here, on the UI thread, where the GPS source lives.
        self._start("sync", ops.sync, server_url=self.ctx.server_url,
                    position=self.ctx.position())
        return True

    def login(self, username: str, password: str, *, then_sync: bool = True) -> bool:
        if self.busy:
            return False
        self._then_sync = then_sync
        self._start("login", ops.login, server_url=self.ctx.server_url, username=username,
                    password=password)
        return True

    def shutdown(self) -> None:
        """Stop the timer and let a running job finish; call before closing the replica."""
        self.auto_timer.stop()
        if self._thread.isRunning():
            self._thread.quit()
            self._thread.wait()

    # -- internals ------------------------------------------------------------------------
    def _start(self, kind: str, fn: Callable[..., Any], **kwargs: Any) -> None:
        self._running = kind
        self._set_state("syncing")
        self._request.emit(kind, fn, {"replica": self.ctx.replica, "db": self.ctx.tasks.call,
                                      **kwargs})

    def _on_timer(self) -> None:
        if self.busy or self.ctx.replica is None or self.now() < self.retry_at:
            return
        if not self.ctx.call(ops.has_login):
            return
        status = self.ctx.call(ops.sync_status)
        last = as_local(status.last_sync_at)
        stale = last is None or datetime.now(LOCAL_ZONE) - last > PULL_EVERY
        if status.pending or stale:
            self.sync_now(manual=False)

    def _set_state(self, state: str) -> None:
        if state != "syncing":
            self._connection_state = state
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)

    @Slot(str, object, object)
    def _on_done(self, kind: str, result: Any, error: BaseException | None) -> None:
        self._running = None
        if kind == "login":
            self._login_done(result, error)
        else:
            self._sync_done(result, error)

    def _login_done(self, session: Any, error: BaseException | None) -> None:
        if error is None:
            self._set_state("online")
            self.ctx.changes_applied.emit(Changes.of("session"))
        else:
            self._set_state(self._state_after(error))
        self.login_finished.emit(session, error)
        if error is None and self._then_sync:
            self.sync_now(manual=False)

    def _sync_done(self, report: SyncReport | None, error: BaseException | None) -> None:
        if isinstance(error, ServerUnreachable):
            self.failures += 1
            wait = min(self.auto_timer.interval() / 1000 * 2 ** (self.failures - 1),
                       BACKOFF_MAX_S)
            self.retry_at = self.now() + wait
        elif error is None:
            self.failures, self.retry_at = 0, 0.0
        if report is not None:
            self._set_state("online")
            self.ctx.changes_applied.emit(report.changes | Changes.of("outbox", "sync"))
            if report.left_jobs:
                self.ctx.notify(tr("sync.jobs_left", n=len(report.left_jobs)))
            if report.kept_despite_tombstone:
                self.ctx.notify(tr("sync.work_kept", n=len(report.kept_despite_tombstone)))
            if report.server_restored:  # said even on an automatic sync: work was resent
                self.ctx.notify(tr("sync.server_restored", n=report.resent))
            if self._manual:
                self.ctx.notify(tr("sync.done", files=report.uploaded_files,
                                   pushed=sum(report.pushed.values()), pulled=report.pulled),
                                "success")
        else:
            assert error is not None
            if isinstance(error, WipeRequested):
                self.auto_timer.stop()
                self.wipe_requested.emit(error)
                return
            self._set_state(self._state_after(error))
            self.ctx.changes_applied.emit(_EVERYTHING)
            if isinstance(error, ServerUnreachable) and error.code == "server_unreachable":
                if self._manual:
                    self.ctx.notify(tr("sync.offline"))
            else:  # an untrusted certificate is said even on an automatic attempt
                self.ctx.show_error(error)
        self.sync_finished.emit(report, error)

    def _state_after(self, error: BaseException) -> str:
        if isinstance(error, ServerUnreachable):
            return "offline"
        if isinstance(error, AuthError) and error.code != "bad_credentials":
            return "auth"
        if isinstance(error, FieldAppError):
            return "online"  # the server answered, it just said no
        log.error("sync failed unexpectedly", exc_info=error)
        return self._connection_state

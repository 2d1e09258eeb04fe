"""While the tablet is online and logged in, one long poll stays open to the server; when
it answers "news" the controller syncs at once, so an emergency dispatched to this tablet
arrives in seconds instead of at the next timed sync (``sync_worker.PULL_EVERY``).

The poll runs on its own thread (it spends its life waiting on the network). After a wake
it waits for that sync to finish before it asks again, so one piece of news starts one
sync; unreachable, logged out or refused, it backs off (a basement costs no battery).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from fieldapp.errors import AuthError, ServerUnreachable
from fieldapp.sync.wake import wait_for_news
from fieldapp.ui import ops
from fieldapp.ui.context import AppContext
from fieldapp.ui.sync_worker import SyncController

log = logging.getLogger("fieldapp.ui.wake")

RETRY_MIN_S, RETRY_MAX_S = 5.0, 60.0  # after a failed wait: 5 s, doubling up to a minute
SYNC_WAIT_S = 120.0  # a wake's sync that never reports back: ask again after this long
MIN_GAP_S = 5.0  # at least this long between two syncs started by wakes
Waiter = Callable[..., bool]


class WakeListener(QObject):
    """The long-poll loop of one app window; ``start`` once, ``stop`` before closing."""

    woke = Signal()  # from the poll thread; handled on the UI thread

    def __init__(self, ctx: AppContext, controller: SyncController, *,
                 wait: Waiter = wait_for_news) -> None:
        super().__init__()
        self.ctx, self.controller, self._wait = ctx, controller, wait
        self._stop = threading.Event()
        self._synced = threading.Event()  # the sync a wake started has finished
        self._thread: threading.Thread | None = None
        self.wakes = 0  # how many times the server said "news" (shown in tests and logs)
        self.woke.connect(self._on_wake)
        controller.sync_finished.connect(self._on_sync_finished)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="fieldapp-wake",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """No more waits; the one in flight is abandoned (its thread ends when it answers,
        without touching the replica or the window)."""
        self._stop.set()
        self._synced.set()

    # -- the poll thread --------------------------------------------------------------------
    def _run(self) -> None:
        backoff = RETRY_MIN_S
        last_wake = 0.0
        while not self._stop.is_set():
            try:
                if not self.ctx.tasks.call(ops.has_login, self.ctx.replica):
                    self._stop.wait(RETRY_MIN_S)
                    continue
                news = self._wait(self.ctx.replica, self.ctx.server_url,
                                  db=self.ctx.tasks.call)
            except (ServerUnreachable, AuthError) as error:
                log.info("waiting for news failed (%s); again in %.0f s", error, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, RETRY_MAX_S)
                continue
            except Exception:  # a closed replica at shutdown, or a server's odd answer
                if not self._stop.is_set():
                    log.exception("waiting for news failed")
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, RETRY_MAX_S)
                continue
            backoff = RETRY_MIN_S
            if not news or self._stop.is_set():
                continue
            self._stop.wait(max(0.0, last_wake + MIN_GAP_S - time.monotonic()))
            last_wake = time.monotonic()
            self._synced.clear()
            self.woke.emit()
            self._synced.wait(SYNC_WAIT_S)

    # -- the UI thread ------------------------------------------------------------------------
    @Slot()
    def _on_wake(self) -> None:
        if self._stop.is_set():
            return
        self.wakes += 1
        if not self.controller.sync_now(manual=False):
            # A sync is already running: its end lets the poll ask again, and news it did
            # not bring answers that wait at once.
            log.info("news while a sync runs: asking again after it")

    @Slot(object, object)
    def _on_sync_finished(self, report: Any, error: Any) -> None:
        self._synced.set()

"""What every screen shares: the ops' runner, the "changes applied" signal and the message route.

Screens get the context passed in (no global main window to reach for). A screen reads and
writes through :meth:`AppContext.run` (on the one database worker, see ``taskman``), starts
slow work with :meth:`AppContext.slow`, listens to :attr:`AppContext.changes_applied` and
redraws only when the tables it shows were touched — by its own edit, another screen's or a
sync. The UI thread itself never touches the replica.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

from fieldapp.capture.gps import PositionSource
from fieldapp.changes import Changes
from fieldapp.errors import FieldAppError
from fieldapp.position import Position
from fieldapp.replica import Replica
from fieldapp.ui import i18n, ops
from fieldapp.ui.i18n import messages
from fieldapp.ui.taskman import SlowOp, Task, TaskManager

T = TypeVar("T")
log = logging.getLogger("fieldapp.ui")


class AppContext(QObject):
    changes_applied = Signal(object)  # fieldapp.changes.Changes
    language_changed = Signal()
    message = Signal(str, str)  # text, level: "info", "success" or "error"

    def __init__(self, replica: Replica, data_dir: Path, server_url: str,
                 gps: PositionSource | None = None) -> None:
        super().__init__()
        self.replica = replica
        self.tasks = TaskManager(replica)
        self.data_dir = Path(data_dir)
        self.server_url = server_url
        self.gps = gps if gps is not None else self.call(ops.position_source)

    def position(self) -> Position | None:
        """The current fix, or None; a failing receiver means no fix, never a stuck capture."""
        try:
            return self.gps.current()
        except Exception:  # a driver's bug must not cost the technician the photo
            log.exception("GPS source failed")
            return None

    def close_gps(self) -> None:
        self.gps.close()

    def run(self, op: Callable[..., T], /, *,
            failed: Callable[[FieldAppError], None] | None = None, **kwargs: Any) -> T | None:
        """Run an op from ``ops`` against the replica; returns None if it failed.

        Reads and local writes are short SQLite transactions: they run on the database
        worker while the UI thread waits the few milliseconds. A failure is shown through
        the one message route, then handed to ``failed`` for screen-specific marks.
        """
        if self.replica is None:  # shut down: a late signal finds nothing to act on
            return None
        try:
            result = self.call(op, **kwargs)
        except FieldAppError as exc:
            self._failed(exc, failed)
            return None
        self._announce(result)
        return result

    def call(self, op: Callable[..., T], /, **kwargs: Any) -> T:
        """An op on the database worker, its errors raised to the caller (who handles them)."""
        return self.tasks.call_replica(op, **kwargs)

    def slow(self, op: SlowOp[T], *, done: Callable[[T], object] | None = None,
             failed: Callable[[FieldAppError], None] | None = None) -> Task[T]:
        """Start slow work off the UI thread; ``done`` gets its result on the UI thread, its
        changes are announced like :meth:`run`'s, and a failure is shown the same way."""
        task = self.tasks.run(op)

        def succeeded(result: T) -> None:
            self._announce(result)
            if done is not None:
                done(result)

        def went_wrong(error: BaseException) -> None:
            if isinstance(error, FieldAppError):
                self._failed(error, failed)
            else:  # a bug: said, and logged with its trace, never lost in a thread
                log.error("%s failed", op.label or "a slow op", exc_info=error)
                self.show_error(error)

        return task.success(succeeded).failure(went_wrong)

    def _failed(self, exc: FieldAppError,
                failed: Callable[[FieldAppError], None] | None) -> None:
        self.show_error(exc)
        if failed:
            failed(exc)

    def _announce(self, result: object) -> None:
        changes = result if isinstance(result, Changes) else getattr(result, "changes", None)
        if changes:
            # Every local write also queued an outbox entry: the pending count changed too.
            self.changes_applied.emit(changes | Changes.of("outbox"))

    def show_error(self, error: BaseException) -> None:
        self.message.emit(messages.describe(error), "error")

    def notify(self, text: str, level: str = "info") -> None:
        self.message.emit(text, level)

    def set_language(self, lang: str) -> None:
        if lang == i18n.language():
            return
        i18n.set_language(lang)
        self.language_changed.emit()

"""What every screen shares: the replica, the "changes applied" signal and the message route.

Screens get the context passed in (no global main window to reach for). A screen writes
through :meth:`AppContext.run`, listens to :attr:`AppContext.changes_applied` and redraws only
when the tables it shows were touched — by its own edit, another screen's or a sync.
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
from fieldapp.ui import i18n, messages, ops

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
        self.data_dir = Path(data_dir)
        self.server_url = server_url
        self.gps = gps if gps is not None else ops.position_source(replica)

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

        Local writes are short SQLite transactions, so for now they run right here on the UI
        thread; only sync and login (network) go to the worker thread. A failure is shown
        through the one message route, then handed to ``failed`` for screen-specific marks.
        """
        if self.replica is None:  # shut down: a late signal finds nothing to act on
            return None
        try:
            result = op(self.replica, **kwargs)
        except FieldAppError as exc:
            self.show_error(exc)
            if failed:
                failed(exc)
            return None
        changes = result if isinstance(result, Changes) else getattr(result, "changes", None)
        if changes:
            # Every local write also queued an outbox entry: the pending count changed too.
            self.changes_applied.emit(changes | Changes.of("outbox"))
        return result

    def show_error(self, error: BaseException) -> None:
        self.message.emit(messages.describe(error), "error")

    def notify(self, text: str, level: str = "info") -> None:
        self.message.emit(text, level)

    def set_language(self, lang: str) -> None:
        if lang == i18n.language():
            return
        i18n.set_language(lang)
        self.language_changed.emit()

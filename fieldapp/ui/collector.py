"""Python's cycle collector, run only on the UI thread and in small steps.

With a database worker, a slow-work pool and the sync thread all allocating, an automatic
collection could start on any of them and destroy a widget left in a reference cycle off
the UI thread, which Qt does not survive. So automatic collection is off while the window
lives, and a timer on the UI thread collects the youngest generation that is due, as Anki's
``GarbageCollector`` does. What exists once start-up is over is frozen (``gc.freeze``): it
lives as long as the app, and a full collection no longer walks it, so none takes long.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_MS = 1000


class UiCollector(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_MS)
        self.timer.timeout.connect(self.check)
        self.was_enabled = gc.isenabled()
        self.running = False

    def start(self) -> None:
        """Call once the window is built: freeze what start-up made, then collect here only."""
        if self.running:
            return
        gc.collect()
        gc.freeze()
        gc.disable()
        self.running = True
        self.timer.start()

    def check(self) -> int:
        """Collect the generations whose counts passed their thresholds; returns how many
        objects were found unreachable."""
        counts = gc.get_count()
        found = 0
        for generation in range(3):
            if counts[generation] <= self.threshold[generation]:
                break
            found = gc.collect(generation)
        return found

    def stop(self) -> None:
        """Back to Python's own collection (after the window closed, e.g. between tests)."""
        if not self.running:
            return
        self.timer.stop()
        self.running = False
        gc.unfreeze()
        if self.was_enabled:
            gc.enable()
        gc.collect()

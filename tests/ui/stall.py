"""Measuring how long the UI thread stops answering: a 5 ms timer on it, and the longest gap
between two of its ticks while a photo is attached and a sync runs. Shared by the UI-stall
test and ``bench/bench_ui_stall.py``."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QEventLoop, QObject, QTimer

from fieldapp.ui import ops
from fieldapp.ui.main_window import MainWindow

TICK_MS = 5


class StallMeter(QObject):
    """The longest time between two ticks of a timer on the UI thread, in milliseconds."""

    def __init__(self) -> None:
        super().__init__()
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.longest_ms = 0.0
        self._last = 0.0

    def start(self) -> None:
        self.longest_ms, self._last = 0.0, time.perf_counter()
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest_ms = max(self.longest_ms, (now - self._last) * 1000)
        self._last = now

    def stop(self) -> float:
        self._tick()
        self.timer.stop()
        return self.longest_ms


def big_photo(path: Path, size: tuple[int, int] = (4000, 3000)) -> Path:
    """A 12-megapixel camera-sized photo with detail, so developing it takes real work."""
    image = Image.effect_noise(size, 40).convert("RGB")
    image.save(path, quality=92)
    return path


def turn_until(done: Callable[[], bool], timeout_s: float = 60) -> None:
    """Turn the event loop (the meter ticks meanwhile) until ``done()``."""
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(10)
    poll.timeout.connect(lambda: loop.quit() if done() else None)
    poll.start()
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    poll.stop()
    if not done():
        raise TimeoutError(f"not done after {timeout_s} s")


def photo_during_sync(window: MainWindow, job_id: str, photo: Path) -> float:
    """Now: the sync starts, the photo is developed in the pool and stored by the database
    worker; the longest UI stall meanwhile, in ms."""
    synced: list[object] = []
    window.controller.sync_finished.connect(lambda *args: synced.append(args))
    meter = StallMeter()
    meter.start()
    assert window.controller.sync_now(manual=False)
    task = window.ctx.slow(ops.slow.attach_photo(job_id, photo, None))
    turn_until(lambda: bool(synced) and task.finished)
    task.wait()
    return meter.stop()


def photo_during_sync_inline(window: MainWindow, job_id: str, photo: Path) -> float:
    """The previous design: the photo developed and stored inline, the UI thread waiting for
    it, while the same sync runs; the longest UI stall, in ms."""
    synced: list[object] = []
    window.controller.sync_finished.connect(lambda *args: synced.append(args))
    meter = StallMeter()
    meter.start()
    assert window.controller.sync_now(manual=False)
    QTimer.singleShot(0, lambda: window.ctx.tasks.call(
        window.ctx.replica.evidence.add_photo, job_id, photo, position=None))
    turn_until(lambda: bool(synced))
    return meter.stop()

"""Hybrid logical clock: wall time in ms + counter + device id, as a sortable string.

``"000001764000000000:00000:dev-1"`` compares correctly as text, so the server can
order concurrent changes with plain string comparison.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Timestamp:
    wall_ms: int
    counter: int
    node: str

    def __str__(self) -> str:
        return f"{self.wall_ms:018d}:{self.counter:05d}:{self.node}"

    @classmethod
    def parse(cls, text: str) -> Timestamp:
        try:
            wall, counter, node = text.split(":", 2)
            return cls(int(wall), int(counter), node)
        except ValueError as exc:
            raise ValueError(f"not an HLC timestamp: {text!r}") from exc


class HybridClock:
    def __init__(self, node: str, last: str | None = None,
                 wall: Callable[[], int] = lambda: time.time_ns() // 1_000_000) -> None:
        self.node = node
        self._wall = wall
        self._lock = threading.Lock()
        prev = Timestamp.parse(last) if last else None
        self._ms = prev.wall_ms if prev else 0
        self._counter = prev.counter if prev else 0

    def now(self) -> str:
        with self._lock:
            wall = self._wall()
            if wall > self._ms:
                self._ms, self._counter = wall, 0
            else:
                self._counter += 1
            return str(Timestamp(self._ms, self._counter, self.node))

    def wall_ms(self) -> int:
        return self._wall()

    def last(self) -> str:
        """The latest stamp issued or observed, for persisting across restarts."""
        with self._lock:
            return str(Timestamp(self._ms, self._counter, self.node))

    def observe(self, remote: str) -> None:
        """Move past a timestamp seen from elsewhere so our next change sorts after it."""
        ts = Timestamp.parse(remote)
        with self._lock:
            if (ts.wall_ms, ts.counter) > (self._ms, self._counter):
                self._ms, self._counter = ts.wall_ms, ts.counter

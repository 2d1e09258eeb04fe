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


WALL_DIGITS, COUNTER_DIGITS = 18, 5
MAX_NODE = 64  # a device id


def canonical(text: str) -> Timestamp:
    """``text`` as a timestamp if it is written exactly as this module writes one (fixed
    widths, a node): only then do text order and time order agree. ValueError otherwise."""
    stamp = Timestamp.parse(text)
    if (str(stamp) != text or len(text.split(":", 2)[0]) != WALL_DIGITS
            or len(text.split(":", 2)[1]) != COUNTER_DIGITS or not 0 < len(stamp.node) <= MAX_NODE
            or stamp.wall_ms < 0 or stamp.counter < 0):
        raise ValueError(f"not a canonical HLC timestamp: {text[:80]!r}")
    return stamp


def hlc_key(text: str | None) -> tuple[int, int, str]:
    """Order of two stored stamps by value (wall time, counter, node); a missing or
    unreadable one sorts first."""
    try:
        stamp = Timestamp.parse(text or "")
    except ValueError:
        return (-1, -1, "")
    return (stamp.wall_ms, stamp.counter, stamp.node)


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

"""What a running sync reports as it goes (the UI's progress bar under the top bar)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Progress:
    phase: str  # "upload", "push", "pull", "figures", "basemap"
    done: int
    total: int
    bytes_done: int = 0
    bytes_total: int = 0


ProgressFn = Callable[[Progress], None]

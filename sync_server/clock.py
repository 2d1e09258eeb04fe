"""The server's hybrid logical clock: it never runs behind any timestamp it has seen."""

from __future__ import annotations

from typing import Any

from fieldapp.hlc import HybridClock


class ServerClock(HybridClock):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__("server", **kwargs)

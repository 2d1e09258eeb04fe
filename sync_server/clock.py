"""The server's hybrid logical clock: it never runs behind any timestamp it has seen."""

from __future__ import annotations

from fieldapp.sync.hlc import HybridClock


class ServerClock(HybridClock):
    def __init__(self) -> None:
        super().__init__("server")

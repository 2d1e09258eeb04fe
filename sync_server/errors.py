"""The one error type handlers raise; it becomes ``{"error": code, "message": …}`` JSON."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.detail = status, code, message, detail


# The largest number an id, a cursor or an offset may be: beyond it the databases' 64-bit
# integers overflow, and no real one comes near.
MAX_INT = 2**53

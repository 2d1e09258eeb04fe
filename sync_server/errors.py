"""The one error type handlers raise; it becomes ``{"error": code, "message": …}`` JSON."""

from __future__ import annotations

from typing import Any

from fieldapp.wire import MAX_INT  # the largest id, cursor or offset a request may name

__all__ = ["MAX_INT", "ApiError"]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.detail = status, code, message, detail

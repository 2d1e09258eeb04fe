"""Errors raised by the FieldApp core and sync client.

The core speaks in codes, never in sentences: the UI turns ``code`` and ``params``
into translated text (see ``fieldapp/ui/i18n/messages.py``).

    FieldAppError
    ├── NotFound              a record that should exist does not (unknown job id…)
    ├── IllegalTransition     a job status change the state machine forbids
    ├── InvalidInput          a value, file or form answer that fails validation
    └── SyncError             anything between the tablet and the server
        ├── AuthError         wrong password, expired token, revoked device
        │   └── WipeRequested revoked, everything handed in: erase the data now
        ├── ServerUnreachable no route, refused, timed out
        └── ServerRejected    the server answered with a precise 4xx/5xx error body
"""

from __future__ import annotations

from typing import Any


class FieldAppError(Exception):
    def __init__(self, code: str, message: str = "", **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(message or code)


class NotFound(FieldAppError):
    pass


class IllegalTransition(FieldAppError):
    pass


class InvalidInput(FieldAppError):
    pass


class SyncError(FieldAppError):
    pass


class AuthError(SyncError):
    pass


class WipeRequested(AuthError):
    pass


class ServerUnreachable(SyncError):
    pass


class ServerRejected(SyncError):
    def __init__(self, code: str, message: str = "", status: int = 0, **params: Any) -> None:
        super().__init__(code, message, status=status, **params)
        self.status = status

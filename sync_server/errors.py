"""The server's errors, one tree. Every refusal is an ``ApiError``: the sync API answers it as
``fieldapp.wire.ErrorBody`` JSON (what the tablet's client reads back), and the office's and
the portal's pages answer it as a page in words (``http.pages``)::

    ServerError
    ├── ApiError            status, code, message, detail: a refusal, nothing changed
    │   ├── NotYours        office/web.py: another district's record, or none
    │   ├── TokenReused     services/auth.py: a rotated-out token came back
    │   └── PortalError     portal/access.py: a refusal worded for the customer
    ├── SignInRequired      office/auth.py: no office session → the sign-in page
    ├── PortalSignIn        portal/web.py: no customer session → the portal's sign-in
    ├── LinkError           services/keys.py: a signed link that does not hold
    │   ├── LinkInvalid     tampered with, cut short, or made for something else
    │   └── LinkExpired     genuine, but past its time
    ├── BadUpload           portal/uploads.py: the customer's words for one bad file
    └── MutationHeld        sync/write_checks.py: never leaves a push, becomes its result
        ├── Rejected        refused, kept with its reason for review
        └── Parked          waits for its parent record
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi.responses import JSONResponse

from fieldapp.wire import (
    MAX_INT,  # the largest id, cursor or offset a request may name
    ErrorBody,
)

__all__ = ["MAX_INT", "ApiError", "ServerError", "error_json"]


class ServerError(Exception):
    """The root of everything the server raises on purpose."""


class ApiError(ServerError):
    def __init__(self, status: int, code: str, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.detail = status, code, message, detail


def error_json(status: int, code: str, message: str, detail: Any = None,
               headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The one shape of an error answer on the API (``ErrorBody``)."""
    body = ErrorBody(error=code, message=message, detail=detail)
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)

"""FastAPI dependencies the sync API and the office's JSON API share: the process's
``Server``, and the user and device behind a request's bearer token, checked for the
protocol it speaks and for the right to change data."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from fieldapp.domain.roles import AUDITOR
from fieldapp.wire import CLIENT_SCHEMA_VERSION, PROTOCOL_VERSION
from sync_server.errors import ApiError
from sync_server.runtime import Server
from sync_server.services import auth


def server_of(request: Request) -> Server:
    """The process's storage, blobs and clock."""
    server: Server = request.app.state.server
    return server


def _principal(request: Request, authorization: str | None, protocol: int | None, *,
               sending: bool) -> auth.Principal:
    check_protocol(protocol)
    return auth.principal_of(server_of(request).db, authorization, sending=sending)


def principal(request: Request, authorization: Annotated[str | None, Header()] = None,
              x_fieldapp_protocol: Annotated[int | None, Header()] = None) -> auth.Principal:
    """The user and device behind the request's bearer token."""
    return _principal(request, authorization, x_fieldapp_protocol, sending=False)


def handing_in(request: Request, authorization: Annotated[str | None, Header()] = None,
               x_fieldapp_protocol: Annotated[int | None, Header()] = None) -> auth.Principal:
    """The caller handing in work: a revoked tablet too, until it confirms its wipe."""
    return _principal(request, authorization, x_fieldapp_protocol, sending=True)


HandingIn = Annotated[auth.Principal, Depends(handing_in)]


def sender(who: HandingIn) -> auth.Principal:
    """…and who may change data: never an auditor (checked before the body is read)."""
    read_only(who)
    return who


def technician(who: Annotated[auth.Principal, Depends(principal)]) -> auth.Principal:
    """…a field technician's tablet only (checked before the body is read)."""
    if who.role != "technician":
        raise ApiError(403, "not_a_technician", "只有外勤人员的平板上报位置")
    return who


ServerDep = Annotated[Server, Depends(server_of)]
Who = Annotated[auth.Principal, Depends(principal)]
Sender = Annotated[auth.Principal, Depends(sender)]
Technician = Annotated[auth.Principal, Depends(technician)]


def read_only(who: auth.Principal) -> None:
    if who.role == AUDITOR:
        raise ApiError(403, "read_only", "an auditor reads the back office and changes nothing")


def check_protocol(version: int | None) -> None:
    if version is not None and version < PROTOCOL_VERSION:
        raise ApiError(426, "client_outdated",
                       f"this server speaks protocol {PROTOCOL_VERSION}; update the app")
    if version is not None and version > PROTOCOL_VERSION:
        raise ApiError(400, "unknown_protocol",
                       f"protocol {version} is newer than this server's {PROTOCOL_VERSION};"
                       " the server must be updated first")


def check_schema(version: int) -> None:
    if not 1 <= version <= CLIENT_SCHEMA_VERSION:
        raise ApiError(400, "unknown_schema_version",
                       f"client schema {version} is not one this server knows"
                       f" (1..{CLIENT_SCHEMA_VERSION}); nothing was applied")

"""The server's secrets and what they sign (the portal's sessions, payment callbacks, a
reminder's link): kept in ``server_state`` so that every server process behind a load
balancer signs and checks alike, made once at random on first use.

    token = sign(conn, "appointment", {"j": job_id, "c": customer_id}, expires)
    claims = unsign(conn, "appointment", token, now)   # LinkInvalid / LinkExpired

A signed value is ``base64url(JSON).base64url(HMAC-SHA256)``, the purpose mixed into the
MAC so a token made for one use never passes as another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime
from typing import Any

from sync_server.errors import ServerError
from sync_server.storage import server_state
from sync_server.storage.db import Connection
from sync_server.storage.server_state import SECRET


class LinkError(ServerError):
    """A signed link that does not hold."""


class LinkInvalid(LinkError):
    """Tampered with, cut short, or made for something else."""


class LinkExpired(LinkError):
    """Genuine, but past its time."""


NAMES = ("portal", "payment.simulated")


def install(conn: Connection) -> None:
    """Make the secrets once, at the server's start, so that pages only ever read them."""
    for name in NAMES:
        _make(conn, name)


def _make(conn: Connection, name: str) -> None:
    server_state.write_once(conn, SECRET + name, secrets.token_hex(32))


def secret(conn: Connection, name: str) -> bytes:
    """The named secret (32 random bytes); made here only when ``install`` has not run
    (a storage used without the server, as by the rules engine's own tests)."""
    value = server_state.read(conn, SECRET + name)
    if value is None:
        _make(conn, name)
        value = server_state.read(conn, SECRET + name)
        assert value is not None  # written just now, in this transaction
    return bytes.fromhex(value)


def mac(key: bytes, purpose: str, data: bytes) -> str:
    return hmac.new(key, purpose.encode() + b"\0" + data, hashlib.sha256).hexdigest()


def sign(conn: Connection, purpose: str, claims: dict[str, Any], expires: datetime) -> str:
    body = json.dumps({**claims, "exp": int(expires.timestamp())},
                      separators=(",", ":")).encode()
    tag = mac(secret(conn, "portal"), purpose, body)
    return _b64(body) + "." + _b64(bytes.fromhex(tag))


def unsign(conn: Connection, purpose: str, token: str, now: datetime) -> dict[str, Any]:
    try:
        body_part, tag_part = token.split(".")
        body, tag = _unb64(body_part), _unb64(tag_part).hex()
    except ValueError as exc:
        raise LinkInvalid(token) from exc
    if not hmac.compare_digest(tag, mac(secret(conn, "portal"), purpose, body)):
        raise LinkInvalid(token)
    claims = json.loads(body)
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
        raise LinkInvalid(token)
    if claims["exp"] < now.timestamp():
        raise LinkExpired(token)
    return claims


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not text or len(text) > 2048:
        raise ValueError(text[:20])
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError(text[:20]) from exc

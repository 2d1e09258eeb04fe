"""Back-office sign-in: a browser session is a device of its own.

Signing in issues a device token exactly as a tablet login does (argon2 password check,
token stored only as a hash, expiry, revocable by an admin); the browser keeps it in an
HttpOnly, SameSite=Strict cookie. Forms that change data carry a CSRF token derived from
the session token, checked on every POST. Only office roles and auditors may sign in; an
auditor's session is refused every change (anything but GET, except signing out).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from urllib.parse import quote

from fastapi import Request

from fieldapp.domain.status import AUDITOR, OFFICE_VIEWERS
from fieldapp.ids import new_id
from sync_server import audit, auth
from sync_server.db import Connection
from sync_server.errors import ApiError

COOKIE = "fieldapp_office"
SESSION_TTL = timedelta(hours=12)


class SignInRequired(Exception):
    """Raised by ``office_user``; the app answers with a redirect to the sign-in page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def sign_in_url(next_url: str) -> str:
    return "/office/login?next=" + quote(next_url, safe="")


def office_user(request: Request) -> auth.Principal:
    """The signed-in office user, or SignInRequired."""
    token = request.cookies.get(COOKIE)
    if token:
        with request.app.state.server.db.read() as conn:
            try:
                who = auth.authenticate(conn, "Bearer " + token)
            except ApiError:
                who = None
        if who and who.role in OFFICE_VIEWERS:
            if who.role == AUDITOR and request.method != "GET" \
                    and request.url.path != "/office/logout":
                raise ApiError(403, "read_only", "审计员只能查看，不能修改")
            return who
    raise SignInRequired(request.url.path)


def sign_in(conn: Connection, username: str, password: str, user_agent: str,
            client: str = "") -> str:
    """A new session token for an office user; ApiError for wrong credentials or role.
    A sign-in is chained in the audit log (a refused one by ``sign_in_failed``)."""
    session = "web-" + new_id()
    token, _, user = auth.login(conn, username, password, session,
                                "后台浏览器 " + user_agent[:80], SESSION_TTL)
    if user["role"] not in OFFICE_VIEWERS:  # raised inside the write: the session is undone
        raise ApiError(403, "not_office", "technicians use the tablet app, not the back office")
    audit.security_event(conn, auth.Principal(username, user["display_name"], user["role"],
                                              user["district"], session),
                         "sign_in", username, {"client": client})
    return token


def sign_in_failed(conn: Connection, username: str, client: str, reason: str) -> None:
    """A refused office sign-in, chained: the name typed (never the password), from where."""
    audit.security_event(conn, username, "sign_in_failed", username,
                         {"client": client, "reason": reason})


def sign_out(conn: Connection, token: str, who: auth.Principal | None = None) -> None:
    conn.execute("UPDATE devices SET expires_at = '1970-01-01T00:00:00+00:00'"
                 " WHERE token_hash = ?", [auth.token_hash(token)])
    if who is not None:
        audit.security_event(conn, who, "sign_out", who.username)


def csrf_token(request: Request) -> str:
    session = request.cookies.get(COOKIE, "")
    return hmac.new(session.encode(), b"fieldapp-office-csrf", hashlib.sha256).hexdigest()


def check_csrf(request: Request, sent: str | None) -> None:
    if not sent or not hmac.compare_digest(sent, csrf_token(request)):
        raise ApiError(403, "csrf_failed", "the form is stale or came from another site;"
                       " reload the page and try again")

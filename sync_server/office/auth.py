"""Back-office sign-in: a browser session is a login of its own.

Signing in goes through the same throttle and argon2 check as a tablet login and issues a
token stored only as a hash, with an expiry, revocable by an admin, but marked a *session*
(``auth.SESSION``): it opens the back office only, never the sync API, and cannot be
refreshed into a device token. The browser keeps it in an HttpOnly, SameSite=Strict
cookie. Forms that change data carry a CSRF token derived from the session token, checked
on every POST; the sign-in form, before there is a session, a random one kept in a cookie
of its own and sent back in the form (double submit), so another site cannot sign a
browser in to an account of its choosing. Only office roles and auditors may sign in; an
auditor's session is refused every change (anything but GET, except signing out).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response

from fieldapp.domain.roles import AUDITOR, OFFICE_VIEWERS
from fieldapp.ids import new_id
from sync_server.errors import ApiError, ServerError
from sync_server.services import audit, auth, throttle
from sync_server.storage.db import Connection, Storage

COOKIE = "fieldapp_office"
LOGIN_COOKIE = "fieldapp_office_login"  # the sign-in form's CSRF token, before a session
SESSION_TTL = timedelta(hours=12)


class SignInRequired(ServerError):
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
        try:
            who = auth.principal_of(request.app.state.server.db, "Bearer " + token,
                                    kind=auth.SESSION)
        except ApiError:
            who = None
        if who and who.role in OFFICE_VIEWERS:
            if who.role == AUDITOR and request.method != "GET" \
                    and request.url.path != "/office/logout":
                raise ApiError(403, "read_only", "审计员只能查看，不能修改")
            return who
    raise SignInRequired(request.url.path)


def sign_in(db: Storage, username: str, password: str, client: str, user_agent: str) -> str:
    """A new session token for an office user; ApiError for wrong credentials or role.
    A sign-in is chained in the audit log (a refused one by ``sign_in_failed``)."""
    def open_session(conn: Connection, user: Any) -> str:
        if user["role"] not in OFFICE_VIEWERS:  # raised inside the write: nothing is issued
            raise ApiError(403, "not_office",
                           "technicians use the tablet app, not the back office")
        session = "web-" + new_id()
        token = auth.issue(conn, user, session, "后台浏览器 " + user_agent[:80],
                           SESSION_TTL, kind=auth.SESSION).token
        audit.security_event(conn, auth.Principal(username, user["display_name"], user["role"],
                                                  user["district"], session),
                             "sign_in", username, {"client": client})
        return token

    return throttle.sign_in(db, username, password, client, open_session)


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


def login_csrf(request: Request) -> str:
    """The sign-in form's token: the browser's own when it has a well-formed one, so two
    tabs of the sign-in page both stay valid; else a new random one."""
    held = request.cookies.get(LOGIN_COOKIE, "")
    return held if re.fullmatch(r"[0-9a-f]{64}", held) else secrets.token_hex(32)


def keep_login_csrf(response: Response, request: Request, token: str) -> None:
    response.set_cookie(LOGIN_COOKIE, token, max_age=int(SESSION_TTL.total_seconds()),
                        httponly=True, samesite="strict", path="/office/",
                        secure=request.url.scheme == "https")


def login_csrf_ok(request: Request, sent: str) -> bool:
    """The form sent back the token its browser holds in the cookie (both present)."""
    held = request.cookies.get(LOGIN_COOKIE, "")
    return bool(held and sent) and hmac.compare_digest(held, sent)

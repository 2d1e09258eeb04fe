"""What every portal page shares: the templates, the signed-in customer, CSRF, errors.

The portal is server-rendered HTML with no script at all (the same content policy as the
back office), so it works on any phone browser and nothing can be injected to run. The
customer comes only from the session cookie; no page takes a customer id from its URL.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from fieldapp.billing.tariff import yuan
from fieldapp.local_time import LOCAL_ZONE, local_text
from sync_server.deps import server_of
from sync_server.errors import ApiError, ServerError
from sync_server.http.pages import page_route
from sync_server.portal.access import PortalError, session_customer
from sync_server.services.phones import masked_phone

COOKIE = "fieldapp_portal"
PENDING = "fieldapp_portal_code"  # which code the verify page checks, signed
templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates" / "portal")
templates.env.filters["local"] = lambda v: local_text(v, "%Y-%m-%d %H:%M:%S")
templates.env.filters["yuan"] = yuan
templates.env.filters["masked"] = masked_phone
templates.env.filters["day"] = lambda v: local_text(v, "%Y-%m-%d")
templates.env.filters["minute"] = lambda v: local_text(v, "%Y-%m-%d %H:%M")


class PortalSignIn(ServerError):
    """No usable session: the app answers with the sign-in page."""


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """The utility's date: what "tomorrow" and "this year" mean to its customers."""
    return now().astimezone(LOCAL_ZONE).date()



def signed_in(request: Request) -> dict[str, Any] | None:
    """The signed-in customer's row, if any (public pages keep the menu for them)."""
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 200:
        return None
    with server_of(request).db.read() as conn:
        return session_customer(conn, token, now())


def customer(request: Request) -> dict[str, Any]:
    """The signed-in customer's row, or PortalSignIn."""
    found = signed_in(request)
    if found is None:
        raise PortalSignIn()
    return found


Customer = Annotated[dict[str, Any], Depends(customer)]


def csrf_token(request: Request) -> str:
    session = request.cookies.get(COOKIE, "")
    return hmac.new(session.encode(), b"fieldapp-portal-csrf", hashlib.sha256).hexdigest()


def check_csrf(request: Request, sent: str) -> None:
    if not sent or not hmac.compare_digest(sent, csrf_token(request)):
        raise PortalError("页面已过期，请返回刷新后再提交", 403, "csrf_failed")


def render(request: Request, name: str, context: dict[str, Any],
           who: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {
        "me": who, "csrf": csrf_token(request) if who else "", **context},
        status_code=status_code)


def error_page(request: Request, message: str, status: int) -> HTMLResponse:
    """A refusal in the customer's words, with the way back to the portal."""
    return templates.TemplateResponse(request, "error.html", {
        "me": None, "message": message, "status": status}, status_code=status)


def _refusal_page(request: Request, exc: ApiError) -> Response:
    return error_page(request, exc.message, exc.status)


MALFORMED = "填写的内容不完整或过长，请返回检查后重新提交"


def pages_router() -> APIRouter:
    """A router of customer pages: every refusal is answered as a page in words."""
    return APIRouter(prefix="/portal", include_in_schema=False,
                     route_class=page_route(_refusal_page, malformed=MALFORMED))

"""Back-office changes only from the back office's own pages: every POST under ``/office/``
whose ``Origin`` (or, without one, ``Referer``) names another site than the one it was sent
to is refused with a page in words, before the route reads a byte of the form.

A browser always sends ``Origin`` on a form post (``Referer`` on older ones), so a page of
another site posting into a signed-in office is stopped here even before the CSRF token is
checked. A request with neither header (a script, an old client) is not refused here: every
office form carries a CSRF token of its own, the sign-in form a pre-session one
(``office_auth.login_csrf``), and the route refuses it without that.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

REFUSED = ("<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>请求被拒绝</title>"
           "<main><h1>请求被拒绝</h1><p>这个表单不是从本系统的页面提交的（来源：{origin}），"
           "为防止其他网站冒用您的登录状态，没有执行任何操作。</p>"
           "<p>请从后台页面重新操作：<a href=\"/office/\">返回后台首页</a></p></main></html>")


def foreign_origin(headers: dict[bytes, bytes]) -> str | None:
    """The other site a request came from, or None when it is this one or unsaid."""
    host = headers.get(b"host", b"").decode("latin-1").strip().lower()
    origin = headers.get(b"origin", b"").decode("latin-1").strip()
    if not origin:
        origin = headers.get(b"referer", b"").decode("latin-1").strip()
    if not origin:
        return None
    try:
        netloc = urlsplit(origin).netloc.lower()
    except ValueError:
        netloc = ""
    # "null" (a sandboxed frame, a file) names no site at all: never this one.
    return None if netloc and netloc == host else origin[:200]


class SameOrigin:
    """Pure ASGI middleware: refuses a cross-site POST (or PUT, DELETE…) to the back office
    with 403."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Every method that may change something (the office's forms all POST).
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS") \
                and scope["path"].startswith("/office/"):
            origin = foreign_origin(dict(scope["headers"]))
            if origin is not None:
                body = REFUSED.format(origin=_escape(origin)).encode()
                await send({"type": "http.response.start", "status": 403, "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))

"""Security headers on every answer, and a strict content policy on back-office pages
(server-rendered, no scripts, styles inline, images from this server only)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COMMON = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
OFFICE = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:;"
                               " style-src 'self' 'unsafe-inline'; script-src 'none';"
                               " frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "Cache-Control": "no-store",  # customers' names and addresses stay off shared caches
}


class SecurityHeaders:
    """Pure ASGI middleware (no buffering of streamed files)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = {**COMMON, **(OFFICE if scope["path"].startswith("/office") else {})}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)

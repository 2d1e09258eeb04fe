"""Security headers on every answer, a strict content policy on back-office and portal pages
(server-rendered, no scripts, styles inline, images from this server only), and request
bodies refused by their declared size before a byte of them is read."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fieldapp.wire import ErrorBody

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
        extra = {**COMMON, **(OFFICE if scope["path"].startswith(("/office", "/portal", "/verify"))
                              else {})}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """A 413 in the API's own words when Content-Length is over the limit for the path
    (FastAPI's own limit stays behind it for bodies sent without a length)."""

    def __init__(self, app: ASGIApp, default: int, per_prefix: dict[str, int]) -> None:
        self.app, self.default, self.per_prefix = app, default, per_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            limit = next((n for prefix, n in self.per_prefix.items()
                          if scope["path"].startswith(prefix)), self.default)
            length = dict(scope["headers"]).get(b"content-length", b"")
            if length.isdigit() and int(length) > limit:
                body, kind = _too_large(scope["path"], int(length), limit)
                await send({"type": "http.response.start", "status": 413, "headers": [
                    (b"content-type", kind),
                    (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _too_large(path: str, length: int, limit: int) -> tuple[bytes, bytes]:
    """The refusal: a page in words for a customer's form, JSON for everything else."""
    if path.startswith("/portal/"):
        mb = limit // 1024 // 1024
        return (f"<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\">"
                f"<title>文件过大</title><main><h1>上传的内容过大</h1><p>照片合计超过 {mb} MB"
                f"（每张不超过 5 MB），没有保存任何内容。请压缩照片后返回重新提交。</p>"
                f"<p><a href=\"/portal/requests\">返回我的业务</a></p></main></html>"
                ).encode(), b"text/html; charset=utf-8"
    if path.startswith("/office/imports"):
        mb = limit // 1024 // 1024 - 1
        return (f"<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\">"
                f"<title>文件过大</title><main><h1>文件过大</h1><p>上传的文件超过 {mb} MB，"
                f"没有保存任何内容。请分成几个文件，或在服务器上用命令行"
                f"（python -m sync_server import）导入。</p>"
                f"<p><a href=\"/office/imports\">返回数据导入</a></p></main></html>"
                ).encode(), b"text/html; charset=utf-8"
    body = ErrorBody(error="body_too_large", message=f"request body of {length} bytes is over"
                     f" the {limit} bytes this address takes; nothing was read",
                     detail={"limit": limit})
    return body.model_dump_json().encode(), b"application/json"

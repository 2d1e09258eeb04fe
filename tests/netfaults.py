"""A connection cut for real in the middle of a request body, for the fault tests and the
resume benchmark: the headers and half the body go out on a socket that is then closed."""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlencode, urlsplit


def half_send(method: str, url: str, params: dict[str, Any], headers: dict[str, str],
              body: bytes) -> int:
    """Send ``method url`` announcing all of ``body`` but only its first half, then hang up.
    Returns the body bytes that went out."""
    parts = urlsplit(url)
    head = [f"{method} {parts.path}?{urlencode(params)} HTTP/1.1", f"Host: {parts.netloc}",
            f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
    half = body[: len(body) // 2]
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + half)
    return len(half)

"""How sync bytes move: a tiny seam (as in httpx) where tests inject faults.

The real transport is a ``requests.Session``; tests wrap it to drop responses, time out
or cut an upload in half while the end-to-end tests still talk to the real server.
"""

from __future__ import annotations

from typing import Any, Protocol

import requests

from fieldapp.errors import ServerUnreachable


class Response(Protocol):
    status_code: int
    content: bytes

    def json(self) -> Any: ...


class Transport(Protocol):
    def request(self, method: str, url: str, *, json: Any = None, data: bytes | None = None,
                headers: dict[str, str] | None = None, params: dict[str, Any] | None = None,
                timeout: float = 30) -> Response: ...


class RequestsTransport:
    def __init__(self, verify: bool | str = True) -> None:
        self.session = requests.Session()
        self.session.verify = verify

    def request(self, method: str, url: str, *, json: Any = None, data: bytes | None = None,
                headers: dict[str, str] | None = None, params: dict[str, Any] | None = None,
                timeout: float = 30) -> Response:
        try:
            return self.session.request(method, url, json=json, data=data, headers=headers,
                                        params=params, timeout=timeout)
        except requests.RequestException as exc:
            raise ServerUnreachable("server_unreachable", f"{method} {url}: {exc}",
                                    url=url) from exc

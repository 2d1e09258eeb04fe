"""How sync bytes move: a tiny seam (as in httpx) where tests inject faults.

The real transport is a ``requests.Session``; tests wrap it to drop responses, time out
or cut an upload in half while the end-to-end tests still talk to the real server.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

import requests

from fieldapp.errors import ServerUnreachable


class Response(Protocol):
    status_code: int

    @property
    def content(self) -> bytes: ...  # read-only, as requests.Response's

    def json(self) -> Any: ...


class Transport(Protocol):
    def request(self, method: str, url: str, *, json: Any = None, data: bytes | None = None,
                headers: dict[str, str] | None = None, params: dict[str, Any] | None = None,
                timeout: float = 30) -> Response: ...


CA_BUNDLE_ENV = "FIELDAPP_CA_BUNDLE"  # a private deployment's CA certificates (PEM)


def ca_bundle() -> bool | str:
    """What certificates are trusted: the system's, or a bundle named for a private CA."""
    return os.environ.get(CA_BUNDLE_ENV) or True


class RequestsTransport:
    def __init__(self, verify: bool | str | None = None) -> None:
        self.session = requests.Session()
        self.verify = ca_bundle() if verify is None else verify

    def request(self, method: str, url: str, *, json: Any = None, data: bytes | None = None,
                headers: dict[str, str] | None = None, params: dict[str, Any] | None = None,
                timeout: float = 30) -> Response:
        try:
            # verify passed on every call: requests would otherwise let REQUESTS_CA_BUNDLE
            # in the environment override the session's choice
            return self.session.request(method, url, json=json, data=data, headers=headers,
                                        params=params, timeout=timeout, verify=self.verify)
        except requests.exceptions.SSLError as exc:
            # Not a bad signal: the server is not the one it claims to be, or its CA is
            # not known here. Said as such, never retried silently as "offline".
            raise ServerUnreachable("untrusted_certificate", f"{method} {url}: {exc}",
                                    url=url) from exc
        except requests.RequestException as exc:
            raise ServerUnreachable("server_unreachable", f"{method} {url}: {exc}",
                                    url=url) from exc

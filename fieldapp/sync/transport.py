"""How sync bytes move: a tiny seam (as in httpx) where tests inject faults.

The real transport is a ``requests.Session``; tests wrap it to drop responses, time out
or cut an upload in half while the end-to-end tests still talk to the real server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any, Protocol

import requests
from pydantic import ValidationError

from fieldapp.errors import AuthError, ServerRejected, ServerUnreachable
from fieldapp.wire import ErrorBody


class Response(Protocol):
    status_code: int

    @property
    def content(self) -> bytes: ...  # read-only, as requests.Response's

    def json(self) -> Any: ...


class Transport(Protocol):
    def request(self, method: str, url: str, *, json: Any = None, data: bytes | None = None,
                headers: dict[str, str] | None = None, params: dict[str, Any] | None = None,
                timeout: float = 30) -> Response: ...


# Bytes asked of the socket at a time when an answer is read line by line: a streamed
# snapshot's lines are about 200 KB, so a few reads make one (requests' default of 512 would
# copy each line's beginning hundreds of times over).
READ_SIZE = 1 << 16
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
        except requests.RequestException as exc:
            raise _unreachable(exc, f"{method} {url}", url) from exc

    @contextmanager
    def stream(self, method: str, url: str, *, headers: dict[str, str] | None = None,
               params: dict[str, Any] | None = None, timeout: float = 30,
               ) -> Iterator[requests.Response]:
        """The answer with its body still to be read (``lines``); closed on leaving."""
        try:
            resp = self.session.request(method, url, headers=headers, params=params,
                                        timeout=timeout, verify=self.verify, stream=True)
        except requests.RequestException as exc:
            raise _unreachable(exc, f"{method} {url}", url) from exc
        with resp:
            yield resp


@contextmanager
def answer_lines(transport: Transport, method: str, url: str, *, headers: dict[str, str],
                 params: dict[str, Any] | None, timeout: float) -> Iterator[Iterator[bytes]]:
    """An answer's body line by line as it arrives (``lines``), or its error raised
    (``error_from``); a transport without ``stream`` (the tests' fault injectors) hands
    the answer whole, then its lines."""
    stream = getattr(transport, "stream", None)
    with (stream(method, url, headers=headers, params=params, timeout=timeout)
          if stream is not None else nullcontext(transport.request(
              method, url, headers=headers, params=params, timeout=timeout))) as resp:
        if resp.status_code >= 400:
            raise error_from(resp)
        yield lines(resp)

def lines(resp: Response) -> Iterator[bytes]:
    """The body's lines, each as soon as it has arrived (all at once from a transport that
    reads whole answers, as the tests' fault injectors do). A connection lost half way is
    ``ServerUnreachable``, as a request that failed."""
    read = getattr(resp, "iter_lines", None)
    if read is None:
        yield from (line for line in resp.content.split(b"\n") if line)
        return
    try:
        yield from (line for line in read(chunk_size=READ_SIZE, delimiter=b"\n") if line)
    except requests.RequestException as exc:
        url = str(getattr(resp, "url", ""))
        raise _unreachable(exc, f"the answer of {url} was cut off", url) from exc


def _unreachable(exc: requests.RequestException, what: str, url: str) -> ServerUnreachable:
    if isinstance(exc, requests.exceptions.SSLError):
        # Not a bad signal: the server is not the one it claims to be, or its CA is not
        # known here. Said as such, never retried silently as "offline".
        return ServerUnreachable("untrusted_certificate", f"{what}: {exc}", url=url)
    return ServerUnreachable("server_unreachable", f"{what}: {exc}", url=url)


def error_from(resp: Response) -> Exception:
    """The error an answer of 400 or more stands for: the server's own code and message
    when the body is its error shape, else the start of whatever came."""
    params: dict[str, Any] = {}
    try:
        body = ErrorBody.model_validate_json(resp.content)  # the server's one error shape
        code, message = body.error, body.message
        if isinstance(body.detail, dict) and "retry_after_s" in body.detail:
            params["retry_after_s"] = body.detail["retry_after_s"]
    except ValidationError:  # not our server's answer (a proxy's page, a cut-off body)
        code, message = "http_error", resp.content[:200].decode("utf-8", "replace")
    if resp.status_code == 401:
        return AuthError(code, message, status=401)
    return ServerRejected(code, message, status=resp.status_code, **params)


@contextmanager
def download(transport: Transport, url: str, *, headers: dict[str, str], offset: int,
             timeout: float) -> Iterator[tuple[int, int | None, Iterator[bytes]]]:
    """A file's answer from byte ``offset`` on (a Range request when it is past 0): its
    status (206 when the server took the range), its whole size when said, and its body in
    pieces as they arrive; an error answer raised (``error_from``)."""
    headers = dict(headers)
    if offset:
        headers["Range"] = f"bytes={offset}-"
    stream = getattr(transport, "stream", None)
    with (stream("GET", url, headers=headers, timeout=timeout)
          if stream is not None else nullcontext(transport.request(
              "GET", url, headers=headers, timeout=timeout))) as resp:
        if resp.status_code >= 400:
            raise error_from(resp)
        size = str(getattr(resp, "headers", {}).get("Content-Range", "")).rpartition("/")[2]
        yield resp.status_code, int(size) if size.isdigit() else None, _pieces(resp)


def _pieces(resp: Response) -> Iterator[bytes]:
    read = getattr(resp, "iter_content", None)
    if read is None:
        yield resp.content
        return
    try:
        yield from (piece for piece in read(chunk_size=READ_SIZE) if piece)
    except requests.RequestException as exc:
        url = str(getattr(resp, "url", ""))
        raise _unreachable(exc, f"the download of {url} was cut off", url) from exc

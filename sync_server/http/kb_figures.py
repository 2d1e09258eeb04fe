"""A knowledge-base figure as a page shows it, for the office, the portal and the tablets: an
uploaded one from the attachment store (named ``<sha256>.<ext>``) or one bundled with the app
(the demo articles'), served only when an article uses it and only as the image its bytes
are, never as what an uploader declared."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from fieldapp.file_kinds import HEAD_BYTES, IMAGES, sniff
from fieldapp.kb.article import IMAGE_DIR
from sync_server.deps import server_of
from sync_server.errors import ApiError
from sync_server.services import kb_authoring as kb
from sync_server.storage.db import Connection

# Which articles' figures a door serves: the office's drafts and versions too, the
# tablets' published ones, the portal's published and public ones.
Shown = Callable[[Connection, str], bool]
OFFICE: Shown = kb.figure_known
TABLETS: Shown = kb.published_figure
PORTAL: Shown = kb.public_figure


def figure_response(request: Request, name: str, shown: Shown) -> Response:
    server = server_of(request)
    with server.db.read() as conn:
        known = shown(conn, name)
    sha = name.split(".")[0]
    if known and re.fullmatch(r"[0-9a-f]{64}", sha) and server.objects.exists(sha):
        fh = server.objects.open(sha)
        head = fh.read(HEAD_BYTES)
        if sniff(head) in IMAGES:
            return StreamingResponse(_chunks(fh, head), media_type=sniff(head), headers={
                "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=86400"})
        fh.close()
    elif known and (IMAGE_DIR / name).is_file():  # the name has no separator (FIGURE)
        data = (IMAGE_DIR / name).read_bytes()
        if sniff(data[:HEAD_BYTES]) in IMAGES:
            return Response(data, media_type=sniff(data[:HEAD_BYTES]),
                            headers={"X-Content-Type-Options": "nosniff"})
    raise ApiError(404, "unknown_figure", "没有这张插图")


def _chunks(fh: Any, head: bytes) -> Any:
    with fh:
        yield head
        while block := fh.read(256 * 1024):
            yield block

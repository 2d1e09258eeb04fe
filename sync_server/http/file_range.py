"""A stored file answered whole or from a byte range (RFC 9110's ``Range: bytes=N-`` and
``bytes=N-M``): a tablet whose download of a district's basemap was cut off in a basement
asks for the rest, not for gigabytes again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from fastapi.responses import StreamingResponse

from sync_server.errors import ApiError

PIECE = 1 << 20


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The (first, last) bytes a ``Range`` header asks of a file of ``size``; None for the
    whole file; ValueError when it cannot be served (past the end, several ranges, a suffix
    range, another unit)."""
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        raise ValueError(header)
    first_text, _, last_text = spec.strip().partition("-")
    if not first_text.isdigit() or (last_text and not last_text.isdigit()):
        raise ValueError(header)
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text else size - 1
    if first > last or first >= size:
        raise ValueError(header)
    return first, last


def ranged(fh: BinaryIO, range_header: str | None, media_type: str,
           headers: dict[str, str]) -> StreamingResponse:
    """``fh`` (closed when answered) as 200 whole or 206 from the asked range; 416 with the
    file's size when the range cannot be served."""
    size = fh.seek(0, 2)
    try:
        wanted = byte_range(range_header, size)
    except ValueError as exc:
        fh.close()
        raise ApiError(416, "bad_range", f"无法提供字节范围 {str(range_header)[:40]}（文件 "
                       f"{size} 字节）", {"size": size}) from exc
    first, last = wanted or (0, size - 1)
    answer = {**headers, "Accept-Ranges": "bytes", "Content-Length": str(last - first + 1)}
    if wanted:
        answer["Content-Range"] = f"bytes {first}-{last}/{size}"
    return StreamingResponse(_pieces(fh, first, last - first + 1),
                             status_code=206 if wanted else 200, media_type=media_type,
                             headers=answer)


def _pieces(fh: BinaryIO, first: int, length: int) -> Iterator[bytes]:
    with fh:
        fh.seek(first)
        while length > 0:
            piece = fh.read(min(PIECE, length))
            if not piece:
                return
            length -= len(piece)
            yield piece

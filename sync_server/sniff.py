"""What a file is, from its first bytes, never from what its sender declared.

FieldApp keeps photos (JPEG, PNG, WebP) and PDFs; anything else is refused as evidence and
never served inline (an HTML "photo" would run in the office's origin).
"""

from __future__ import annotations

HEAD = 16  # bytes enough to tell every kind below


def sniff(head: bytes) -> str | None:
    """The MIME type of a file beginning with ``head``, if it is a kind FieldApp keeps."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None

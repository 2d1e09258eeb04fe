"""What a stored file is, told by its first bytes, never by what the uploader declared.

    sniff(head)   # "image/jpeg" | "image/png" | "image/webp" | "application/pdf" | None

Only the kinds FieldApp takes (tablet photos and signatures, customers' photos, PDFs) are
recognised; anything else (HTML, SVG, scripts, archives) is None, so a caller serves it as a
download and never inline in the office's origin. Sixteen bytes are enough for every kind.
"""

from __future__ import annotations

HEAD_BYTES = 16  # how much of a file sniff() needs
IMAGES = frozenset({"image/jpeg", "image/png", "image/webp"})


def sniff(head: bytes) -> str | None:
    """The MIME type the bytes are, among the accepted kinds; None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None

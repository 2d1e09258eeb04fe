"""What a stored file is, told by its first bytes, never by what the uploader declared.

    sniff(head)   # "image/jpeg" | "image/png" | "image/webp" | "application/pdf"
                  # | an audio or video type (RECORDINGS) | None

Only the kinds FieldApp takes (tablet photos and signatures, customers' photos, PDFs, and
audio and video evidence) are recognised; anything else (HTML, SVG, scripts, archives) is
None, so a caller serves it as a download and never inline in the office's origin. Sixteen
bytes are enough for every kind. The tablet sniffs a recording before it keeps it, and the
server sniffs every upload again.
"""

from __future__ import annotations

HEAD_BYTES = 16  # how much of a file sniff() needs
IMAGES = frozenset({"image/jpeg", "image/png", "image/webp"})
AUDIO = frozenset({"audio/mp4", "audio/mpeg", "audio/aac", "audio/wav", "audio/ogg",
                   "audio/amr", "audio/flac"})
VIDEO = frozenset({"video/mp4", "video/quicktime", "video/3gpp", "video/webm"})
RECORDINGS = AUDIO | VIDEO
# The ISO media (MP4) brands that hold sound only, and those of phones' 3GPP video.
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"F4A "}
_3GPP_BRANDS = {b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"3gp7"}


def _recording(head: bytes) -> str | None:
    if len(head) >= 12 and head[4:8] == b"ftyp":  # MP4, M4A, MOV, 3GP
        brand = head[8:12]
        if brand in _AUDIO_BRANDS:
            return "audio/mp4"
        if brand == b"qt  ":
            return "video/quicktime"
        return "video/3gpp" if brand in _3GPP_BRANDS else "video/mp4"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"ID3"):
        return "audio/mpeg"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:  # an MPEG frame
        return "audio/aac" if head[1] & 0x06 == 0 else "audio/mpeg"  # layer 0: AAC (ADTS)
    for magic, kind in ((b"OggS", "audio/ogg"), (b"#!AMR", "audio/amr"),
                        (b"fLaC", "audio/flac"), (b"\x1a\x45\xdf\xa3", "video/webm")):
        if head.startswith(magic):
            return kind
    return None


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
    return _recording(head)


def evidence_kind(mime: str | None) -> str | None:
    """The attachment kind a recording's type makes it: "audio" or "video"."""
    return "audio" if mime in AUDIO else "video" if mime in VIDEO else None

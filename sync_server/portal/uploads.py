"""Photos customers upload with a request (ID card, deed or lease, the fault): checked whole
before anything is stored.

A file must be under 5 MB, a JPEG, PNG or WebP that Pillow decodes to the end, and at most
40 megapixels: the size in the header is checked before a pixel is decoded, so a small file
claiming a huge picture (an image bomb) is refused without the memory it asks for.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image

from sync_server.errors import ServerError

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


class BadUpload(ServerError):
    """The customer's words for what is wrong with one file."""


@dataclass(frozen=True)
class Photo:
    role: str  # id_card, deed, fault
    data: bytes
    mime: str
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def check_photo(role: str, label: str, data: bytes) -> Photo:
    """The photo, or BadUpload naming the file by ``label`` (身份证照片…)."""
    if not data:
        raise BadUpload(f"请选择{label}")
    if len(data) > MAX_BYTES:
        raise BadUpload(f"{label}有 {len(data) / 1024 / 1024:.1f} MB，超过 5 MB，"
                        "请压缩或重新拍摄后上传")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                if img.format not in FORMATS:
                    raise BadUpload(f"{label}应为 JPG、PNG 或 WebP 格式的图片")
                if width * height > MAX_PIXELS:
                    raise BadUpload(f"{label}的尺寸（{width}×{height}）过大，请缩小后上传")
                img.load()  # decoded to the end: a cut-off or corrupt file fails here
                mime = FORMATS[img.format]
    except BadUpload:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise BadUpload(f"{label}的尺寸过大，请缩小后上传") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise BadUpload(f"{label}不是图片或已损坏，请重新拍摄后上传") from exc
    return Photo(role, data, mime, width, height)

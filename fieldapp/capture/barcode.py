"""Decode barcodes and QR codes from photos and image files, without any UI toolkit.

zbar (via pyzbar) is tried first because it is fast and reliable on 1D meter labels; zxing-cpp
is the fallback for damaged, rotated or 2D codes zbar misses. When both fail, a few cheap
image clean-ups are tried in order, stopping at the first variant that yields anything.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageFilter, ImageOps

try:
    from pyzbar import pyzbar
    from pyzbar.pyzbar import ZBarSymbol
except ImportError:  # libzbar missing on this machine: zxing-cpp alone still works
    pyzbar = None

try:
    import zxingcpp
except ImportError:
    zxingcpp = None  # type: ignore[assignment]  # optional: None where missing

# Below this size (longest side, px) an upscaled copy is worth a try: thin bars in small
# crops fall under one pixel and both decoders lose them.
SMALL_IMAGE = 1000

# zbar's DataBar and PDF417 decoders are weak and print assertion noise on speckled photos;
# zxing-cpp handles those symbologies instead.
_ZBAR_SYMBOLS = (
    [ZBarSymbol[n] for n in ("EAN8", "UPCE", "UPCA", "EAN13", "I25", "CODABAR", "CODE39",
                             "CODE93", "CODE128", "QRCODE")]
    if pyzbar is not None else []
)

# Decoder-specific names for the same symbology, mapped to one spelling.
_ALIASES = {
    "I25": "ITF",
    "QRCODE": "QRCODE",
    "MICROQRCODE": "MICROQR",
    "RMQRCODE": "RMQR",
    "DATABAREXP": "DATABAR_EXP",
    "DATABAREXPANDED": "DATABAR_EXP",
    "DATABARLTD": "DATABAR_LTD",
    "DATABARLIMITED": "DATABAR_LTD",
}


class BarcodeImageError(ValueError):
    """The source could not be read as an image; ``code`` is ``not_found`` or ``not_an_image``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True)
class Decoded:
    text: str
    symbology: str  # normalised, e.g. CODE128, QRCODE, EAN13


def normalise_symbology(name: str) -> str:
    """One spelling per symbology whichever decoder found it (``Code128`` → ``CODE128``)."""
    key = re.sub(r"[^A-Z0-9_]", "", name.upper())
    return _ALIASES.get(key.replace("_", ""), key)


def decode_image(source: Path | str | bytes) -> list[Decoded]:
    """All barcodes found in an image file or encoded image bytes; ``[]`` if none.

    Raises :class:`BarcodeImageError` if the file is missing (``not_found``) or is not a
    readable image (``not_an_image``).
    """
    image = _load(source)
    for variant in _variants(image):
        found = _decode_once(variant)
        if found:
            return found
    return []


def decode_fast(gray: Any) -> list[Decoded]:
    """One quick pass over a grayscale image (numpy array or PIL image) for live frames,
    where the next frame is a cheaper retry than the processed variants ``decode_image``
    tries. zxing-cpp alone, without rotations or inversions: about 15 ms for the guide box
    of a 1280×720 frame here, where zbar takes 40 ms on a frame with no barcode in it."""
    if zxingcpp is None:
        return _decode_once(gray if isinstance(gray, Image.Image) else Image.fromarray(gray))
    return [Decoded(b.text, normalise_symbology(b.format.name))
            for b in zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormats(_LIVE_FORMATS),
                                            try_rotate=False, try_invert=False,
                                            text_mode=zxingcpp.TextMode.Plain)
            if b.valid and b.text]


_LIVE_FORMATS = [zxingcpp.BarcodeFormat.LinearCodes, zxingcpp.BarcodeFormat.QRCode,
                 zxingcpp.BarcodeFormat.DataMatrix] if zxingcpp is not None else []


def _load(source: Path | str | bytes) -> Image.Image:
    if isinstance(source, bytes | bytearray | memoryview):
        stream: io.BytesIO | Path = io.BytesIO(bytes(source))
        label = "image bytes"
    else:
        stream = Path(os.fspath(source))
        label = str(stream)
        if not stream.is_file():
            raise BarcodeImageError("not_found", f"no image file at {label}")
    try:
        with Image.open(stream) as img:
            img.load()
            return _flatten(ImageOps.exif_transpose(img) or img)
    except FileNotFoundError as exc:  # removed between the check and the open
        raise BarcodeImageError("not_found", f"no image file at {label}") from exc
    except PermissionError as exc:
        raise BarcodeImageError("not_found", f"cannot open {label}: {exc}") from exc
    # Pillow's decoders raise many types for hostile or damaged files (OSError, SyntaxError,
    # ValueError, zlib.error, DecompressionBombError…); to the caller they all mean the same.
    except Exception as exc:
        raise BarcodeImageError("not_an_image", f"{label} is not a readable image: {exc}") from exc


def _flatten(img: Image.Image) -> Image.Image:
    """Grayscale on white: a transparent PNG label would otherwise turn black on black."""
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return img.convert("L")


def _variants(gray: Image.Image) -> Iterator[Image.Image]:
    """The image as given, then progressively more processed copies; generated lazily."""
    yield gray
    base = gray
    if max(gray.size) < SMALL_IMAGE:
        base = gray.resize((gray.width * 2, gray.height * 2), Image.Resampling.BICUBIC)
        yield base
    # Stretching the histogram rescues faded labels and photos taken in dim light.
    contrast = ImageOps.autocontrast(base, cutoff=1)
    yield contrast
    # A median filter removes speckle noise without smearing bar edges the way a blur would.
    denoised = ImageOps.autocontrast(contrast.filter(ImageFilter.MedianFilter(3)), cutoff=1)
    yield denoised
    yield _binarize(denoised)
    for angle in (90, 180, 270):
        yield contrast.rotate(angle, expand=True, fillcolor=255)


def _binarize(img: Image.Image) -> Image.Image:
    """Threshold at the mean grey level; helps zbar on blurred edges."""
    hist = img.histogram()
    total = sum(hist) or 1
    mean = sum(i * n for i, n in enumerate(hist)) / total
    return img.point(lambda v: 255 if v > mean else 0)


def _decode_once(img: Image.Image) -> list[Decoded]:
    found: list[Decoded] = []
    if pyzbar is not None:
        found = [Decoded(_text(s.data), normalise_symbology(s.type))
                 for s in pyzbar.decode(img, symbols=_ZBAR_SYMBOLS)]
    if not found and zxingcpp is not None:
        found = [
            Decoded(b.text, normalise_symbology(b.format.name))
            for b in zxingcpp.read_barcodes(img, text_mode=zxingcpp.TextMode.Plain)
            if b.valid and b.text
        ]
    return list(dict.fromkeys(found))  # the same code can be reported twice; keep first order


def _text(data: bytes) -> str:
    # zbar hands back raw bytes; labels printed in China are UTF-8 or GB 18030.
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")

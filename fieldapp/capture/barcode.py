"""Decode barcodes and QR codes from photos and image files, without any UI toolkit.

zxing-cpp is asked first: zbar, though quick on 1D meter labels, returns plausible wrong
strings on some (a Code 128 with FNC4 extended characters loses their high bit, so
"Zähler" reads "Zdhler"; a UTF-8 QR code without an ECI header is transcoded as Shift JIS
or Big5, so "表号" reads "陦ｨ蜿ｷ"), which zxing-cpp reads right. zbar is the fallback for what
zxing-cpp misses, and a zbar reading is checked by zxing-cpp on the code's own crop before
it is believed. A photo is first read once, quickly, at a reduced size (most labels stop
there, in under 10 ms: bench/bench_barcode.py); when that finds nothing, the full-size image
and a few cheap clean-ups of it are tried in order, stopping at the first that yields
anything.
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
    quick = _load(source, _QUICK_SIDE)
    if zxingcpp is not None and (found := _zxing(quick, formats=_quick_formats(),
                                                 try_rotate=False, try_invert=False,
                                                 try_downscale=False)):
        return found
    image = _load(source) if quick.info.get("reduced") else quick
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
    return _zxing(gray, formats=_quick_formats(), try_rotate=False, try_invert=False)


_LIVE_FORMATS = [zxingcpp.BarcodeFormat.LinearCodes, zxingcpp.BarcodeFormat.QRCode,
                 zxingcpp.BarcodeFormat.DataMatrix] if zxingcpp is not None else []


# The first, quick pass (one zxing-cpp read, the usual symbologies, no rotations or
# inversions) runs on the photo reduced by halves to at most twice this longest side: a
# 1280x960 label photo reads in about 5 ms at 640x480; JPEG decodes straight to that
# size. Most photos stop there; the rest get the full-size variants below.
_QUICK_SIDE = 640


def _quick_formats() -> Any:
    """The symbologies of the quick reads: live frames and a photo's first pass."""
    return zxingcpp.BarcodeFormats(_LIVE_FORMATS)


def _load(source: Path | str | bytes, quick_side: int | None = None) -> Image.Image:
    """The image in grey; with ``quick_side``, halved while its longest side stays at
    least that (``info["reduced"]`` then says so)."""
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
            scale, original = 1, max(img.size)
            while quick_side and max(img.size) // (scale * 2) >= quick_side and scale < 8:
                scale *= 2
            if scale > 1 and img.format == "JPEG":  # decoded at the size asked for
                img.draft("L", (img.width // scale, img.height // scale))
            img.load()
            flat = _flatten(ImageOps.exif_transpose(img) or img)
    except FileNotFoundError as exc:  # removed between the check and the open
        raise BarcodeImageError("not_found", f"no image file at {label}") from exc
    except PermissionError as exc:
        raise BarcodeImageError("not_found", f"cannot open {label}: {exc}") from exc
    # Pillow's decoders raise many types for hostile or damaged files (OSError, SyntaxError,
    # ValueError, zlib.error, DecompressionBombError…); to the caller they all mean the same.
    except Exception as exc:
        raise BarcodeImageError("not_an_image", f"{label} is not a readable image: {exc}") from exc
    if scale > 1:
        left = round(max(flat.size) * scale / original)  # 1 once JPEG decoded it reduced
        if left > 1:
            flat = flat.reduce(left)
        flat.info["reduced"] = True
    return flat


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
    if zxingcpp is not None:
        found = _zxing(img)
    if not found and pyzbar is not None:
        found = [_checked(img, s) for s in pyzbar.decode(img, symbols=_ZBAR_SYMBOLS)]
    return list(dict.fromkeys(found))  # the same code can be reported twice; keep first order


def _zxing(img: Any, **options: Any) -> list[Decoded]:
    return [Decoded(zxing_text(b), normalise_symbology(b.format.name))
            for b in zxingcpp.read_barcodes(img, text_mode=zxingcpp.TextMode.Plain, **options)
            if b.valid and b.text]


def zxing_text(barcode: Any) -> str:
    """A zxing-cpp reading's text. Bytes with no ECI header to name their character set
    (content type Binary) are read as labels printed in China are written, UTF-8 or
    GB 18030, not as ISO 8859-1, the standard's default that zxing-cpp follows."""
    if barcode.content_type == zxingcpp.ContentType.Binary and barcode.bytes:
        for encoding in ("utf-8", "gb18030"):
            try:
                return bytes(barcode.bytes).decode(encoding)
            except UnicodeDecodeError:
                continue
    return str(barcode.text)


def _checked(img: Image.Image, symbol: Any) -> Decoded:
    """A zbar reading, unless zxing-cpp reads the code's own crop (enlarged, contrast
    stretched) otherwise: zbar's Code 128 drops FNC4 shifts, a wrong string that looks
    right. A QR code's text zbar transcoded from UTF-8 as Shift JIS or Big5 is undone."""
    text = _text(symbol.data)
    if zxingcpp is not None:
        left, top, width, height = symbol.rect
        pad = max(width, height) // 4 + 8
        crop = img.crop((max(0, left - pad), max(0, top - pad),
                         min(img.width, left + width + pad), min(img.height, top + height + pad)))
        crop = ImageOps.autocontrast(crop.resize((crop.width * 2, crop.height * 2),
                                                 Image.Resampling.BICUBIC), cutoff=1)
        if better := _zxing(crop):
            return better[0]
    symbology = normalise_symbology(symbol.type)
    return Decoded(_undo_transcoding(text) if symbology == "QRCODE" else text, symbology)


def _undo_transcoding(text: str) -> str:
    """zbar guesses a QR code's character set when no ECI names it, and takes some UTF-8
    for Shift JIS or Big5: the bytes it read are those characters encoded back, and when
    they are UTF-8 text they were meant as such (a real Shift JIS or Big5 text encoded back
    is almost never valid UTF-8)."""
    if text.isascii():
        return text
    for encoding in ("shift_jis", "cp932", "big5"):
        try:
            return text.encode(encoding).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return text


def _text(data: bytes) -> str:
    # zbar hands back raw bytes; labels printed in China are UTF-8 or GB 18030.
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")

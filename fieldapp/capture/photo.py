"""Evidence photos as they are kept: downscaled, watermarked, with GPS and time in EXIF.

    photo = process_photo(data, Stamp(taken_at, "GD2026…", "王建国", "3201…", position))
    photo.data      # the JPEG that is stored, uploaded and verified by the server
    photo.sha256    # its content address

The watermark is burnt into the pixels, so it survives any viewer that drops metadata; the
EXIF block repeats GPS and time for tools that read it. Only the processed bytes are returned:
the original is never kept, so an unwatermarked copy of the evidence cannot leak or be swapped.
"""

from __future__ import annotations

import hashlib
import io
import math
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import piexif
from PIL import Image, ImageDraw, ImageFont, ImageOps

from fieldapp.errors import InvalidInput
from fieldapp.local_time import LOCAL_ZONE
from fieldapp.position import Position
from fieldapp.resources import FONT_NAME, FONT_PATHS

ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "BMP"})  # MPO: many phones' JPEGs
NO_FIX = "无GPS定位"
SIMULATED_MARK = "[模拟定位]"
# A fix this old is still stamped, but with its age, so nobody takes it for where the photo was.
SHOW_AGE_FROM_S = 60.0


@dataclass(frozen=True)
class PhotoSettings:
    long_edge: int = 1920  # px; larger photos are scaled down, smaller ones are left as they are
    quality: int = 85  # JPEG quality: ~0.5–1 MB for a 1920 px photo of a kitchen
    # Declared pixels above this are refused before decoding: a 20000×20000 PNG is a few KB on
    # disk and 1.2 GB in memory. Kept below Pillow's own warning threshold (~89 MP) so Pillow
    # never warns about a photo we accept; the largest phone sensors (64 MP) fit.
    max_pixels: int = 80_000_000

    def __post_init__(self) -> None:
        if not 256 <= self.long_edge <= 8192:
            raise ValueError(f"long_edge must be 256–8192 px, not {self.long_edge}")
        if not 30 <= self.quality <= 95:
            raise ValueError(f"JPEG quality must be 30–95, not {self.quality}")


@dataclass(frozen=True)
class Stamp:
    """What the watermark and the EXIF block say about a photo."""

    taken_at: datetime  # timezone-aware
    job_number: str
    technician: str
    account_no: str | None
    position: Position | None


@dataclass(frozen=True)
class Photo:
    data: bytes
    sha256: str
    width: int
    height: int
    mime: str = "image/jpeg"


def process_photo(data: bytes, stamp: Stamp, settings: PhotoSettings | None = None) -> Photo:
    """Decode, orient, downscale, watermark and encode a photo; raises InvalidInput with
    ``not_an_image``, ``unsupported_image`` or ``image_too_large``."""
    settings = settings or PhotoSettings()
    image = burn_watermark(open_image(data, settings), watermark_lines(stamp))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=settings.quality, optimize=True,
               exif=exif_bytes(stamp, image.size))
    encoded = out.getvalue()
    return Photo(encoded, hashlib.sha256(encoded).hexdigest(), image.width, image.height)


# -- decoding ------------------------------------------------------------------------------


def open_image(data: bytes, settings: PhotoSettings | None = None) -> Image.Image:
    """The photo upright, in RGB, no longer than ``long_edge``: what gets watermarked."""
    settings = settings or PhotoSettings()
    try:
        # Pillow warns, then refuses, past its own pixel limit; both mean a bomb to us, and the
        # warning must not depend on the process's warning filters.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidInput("image_too_large", f"too many pixels: {exc}") from exc
    # Pillow raises many types for damaged files (OSError, SyntaxError, ValueError…).
    except Exception as exc:
        raise InvalidInput("not_an_image", f"not a readable image: {exc}") from exc
    with image:
        if image.format not in ACCEPTED_FORMATS:
            raise InvalidInput("unsupported_image", f"{image.format} images are not accepted",
                               format=image.format)
        width, height = image.size
        if width * height > settings.max_pixels:
            raise InvalidInput("image_too_large", f"{width}×{height} is over the pixel limit",
                               width=width, height=height, max_pixels=settings.max_pixels)
        target = _fit((width, height), settings.long_edge)
        if image.format in ("JPEG", "MPO"):
            # libjpeg decodes at 1/2, 1/4 or 1/8 scale: a 48 MP photo never exists in memory.
            image.draft("RGB", target)
        try:
            image.load()
            upright = ImageOps.exif_transpose(image)
        except Exception as exc:  # truncated or corrupt pixel data
            raise InvalidInput("not_an_image", f"damaged image: {exc}") from exc
        rgb = _flatten(upright)
    target = _fit(rgb.size, settings.long_edge)
    if rgb.size != target:
        rgb = rgb.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return rgb


def _fit(size: tuple[int, int], long_edge: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, long_edge / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white: transparent PNG areas would otherwise turn black in the JPEG."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


# -- watermark -----------------------------------------------------------------------------


def watermark_lines(stamp: Stamp) -> list[str]:
    taken = stamp.taken_at.astimezone(LOCAL_ZONE)
    lines = [taken.strftime("%Y-%m-%d %H:%M:%S") + " 北京时间", gps_text(stamp.position),
             f"工单 {stamp.job_number}"]
    if stamp.account_no:
        lines[-1] += f"  户号 {stamp.account_no}"
    lines.append(f"技术员 {stamp.technician}")
    return lines


def gps_text(position: Position | None) -> str:
    if position is None:
        return NO_FIX
    text = f"GPS {_degrees(position.lat, 'NS')} {_degrees(position.lon, 'EW')}"
    if position.accuracy_m is not None:
        text += f" ±{position.accuracy_m:.0f}m"
    if position.age_s >= SHOW_AGE_FROM_S:
        text += f" ({_age(position.age_s)}前定位)"
    if position.simulated:
        text += " " + SIMULATED_MARK
    return text


def _degrees(value: float, hemispheres: str) -> str:
    return f"{abs(value):.6f}°{hemispheres[0] if value >= 0 else hemispheres[1]}"


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{int(seconds // 60)}分钟"
    return f"{seconds / 3600:.1f}小时"


def font_path() -> Path:
    for path in FONT_PATHS:
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"CJK font {FONT_NAME} not found in {[str(p) for p in FONT_PATHS]}; run `make assets`")


@lru_cache(maxsize=16)
def cjk_font(size: int) -> ImageFont.FreeTypeFont:
    """The bundled CJK font at ``size``: the photos' watermark, the basemaps' names."""
    return ImageFont.truetype(str(font_path()), size)


def watermark_box(size: tuple[int, int], lines: list[str]) -> tuple[int, int, int, int]:
    """Where the watermark goes: bottom left, (left, top, right, bottom) in pixels."""
    font, pad, line_height = _metrics(size)
    widths = [font.getlength(line) for line in lines]
    width = min(size[0], math.ceil(max(widths, default=0)) + 2 * pad)
    height = min(size[1], line_height * len(lines) + 2 * pad)
    return 0, size[1] - height, width, size[1]


def _metrics(size: tuple[int, int]) -> tuple[ImageFont.FreeTypeFont, int, int]:
    # Scales with the photo so it reads the same on a phone-sized and a full-size view; never
    # below 16 px, the smallest a printed report still shows clearly.
    font_size = max(16, round(min(size) * 0.026))
    return cjk_font(font_size), font_size // 2, round(font_size * 1.3)


def burn_watermark(image: Image.Image, lines: list[str]) -> Image.Image:
    """A copy of ``image`` with ``lines`` in white on a dark translucent band, bottom left."""
    font, pad, line_height = _metrics(image.size)
    left, top, right, bottom = watermark_box(image.size, lines)
    base = image.convert("RGBA")
    band = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(band)
    draw.rectangle((left, top, right, bottom), fill=(0, 0, 0, 170))
    for i, line in enumerate(lines):
        # A thin dark outline keeps the text legible where the band is light (snow, white tiles).
        draw.text((left + pad, top + pad + i * line_height), line, font=font,
                  fill=(255, 255, 255, 255), stroke_width=1, stroke_fill=(0, 0, 0, 255))
    return Image.alpha_composite(base, band).convert("RGB")


# -- EXIF ----------------------------------------------------------------------------------


def exif_bytes(stamp: Stamp, size: tuple[int, int]) -> bytes:
    """EXIF with the capture time (local, with its offset) and, when there is a fix, GPS."""
    taken = stamp.taken_at.astimezone(LOCAL_ZONE)
    text = " ".join(watermark_lines(stamp))
    zeroth = {
        piexif.ImageIFD.Software: b"FieldApp",
        piexif.ImageIFD.DateTime: taken.strftime("%Y:%m:%d %H:%M:%S").encode(),
        piexif.ImageIFD.ImageDescription: _ascii(f"job {stamp.job_number} account "
                                                 f"{stamp.account_no or '-'}"),
        # Windows shows these UTF-16 tags in the file's properties: Chinese names survive there.
        piexif.ImageIFD.XPAuthor: _utf16(stamp.technician),
        piexif.ImageIFD.XPComment: _utf16(text),
    }
    exif = {
        piexif.ExifIFD.DateTimeOriginal: taken.strftime("%Y:%m:%d %H:%M:%S").encode(),
        piexif.ExifIFD.OffsetTimeOriginal: taken.isoformat()[-6:].encode(),  # "+08:00"
        piexif.ExifIFD.PixelXDimension: size[0],
        piexif.ExifIFD.PixelYDimension: size[1],
    }
    gps = gps_ifd(stamp.position) if stamp.position else {}
    dumped: bytes = piexif.dump({"0th": zeroth, "Exif": exif, "GPS": gps, "1st": {},
                                 "thumbnail": None})
    return dumped


def gps_ifd(position: Position) -> dict[int, object]:
    fix = position.fix_time.astimezone(UTC)
    ifd: dict[int, object] = {
        piexif.GPSIFD.GPSVersionID: (2, 3, 0, 0),
        piexif.GPSIFD.GPSLatitudeRef: b"N" if position.lat >= 0 else b"S",
        piexif.GPSIFD.GPSLatitude: _dms(position.lat),
        piexif.GPSIFD.GPSLongitudeRef: b"E" if position.lon >= 0 else b"W",
        piexif.GPSIFD.GPSLongitude: _dms(position.lon),
        piexif.GPSIFD.GPSMapDatum: b"WGS-84",
        piexif.GPSIFD.GPSDateStamp: fix.strftime("%Y:%m:%d").encode(),
        piexif.GPSIFD.GPSTimeStamp: ((fix.hour, 1), (fix.minute, 1), (fix.second, 1)),
        # Says where the fix came from: a simulated one is marked as such in the file too.
        piexif.GPSIFD.GPSProcessingMethod: b"ASCII\x00\x00\x00" + _ascii(position.source.upper()),
    }
    if position.accuracy_m is not None:
        ifd[piexif.GPSIFD.GPSHPositioningError] = (round(position.accuracy_m * 100), 100)
    return ifd


def _dms(value: float) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Degrees, minutes and seconds as EXIF rationals; 1/10000 s is about 3 mm."""
    total = round(abs(value) * 3600 * 10000)  # in 1/10000 s, rounded once so 59.99995 carries
    degrees, rest = divmod(total, 3600 * 10000)
    minutes, seconds = divmod(rest, 60 * 10000)
    return (degrees, 1), (minutes, 1), (seconds, 10000)


def dms_to_degrees(dms: tuple[tuple[int, int], ...], ref: bytes | str) -> float:
    """The inverse of what :func:`gps_ifd` writes, for reading a photo's EXIF back."""
    degrees, minutes, seconds = (n / d for n, d in dms)
    value = degrees + minutes / 60 + seconds / 3600
    ref = ref.decode() if isinstance(ref, bytes) else ref
    return -value if ref in ("S", "W") else value


def _ascii(text: str) -> bytes:
    return text.encode("ascii", "replace")


def _utf16(text: str) -> tuple[int, ...]:
    return tuple((text + "\0").encode("utf-16-le"))

"""Evidence photos: size and quality, a watermark that is really there, EXIF that reads back."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from datetime import UTC, datetime, timedelta

import numpy as np
import piexif
import pytest
from PIL import Image, ImageDraw

from fieldapp.capture.photo import (
    NO_FIX,
    SIMULATED_MARK,
    PhotoSettings,
    Stamp,
    cjk_font,
    dms_to_degrees,
    gps_text,
    open_image,
    process_photo,
    watermark_box,
    watermark_lines,
)
from fieldapp.demo.photos import scene_photo
from fieldapp.errors import InvalidInput
from fieldapp.local_time import LOCAL_ZONE
from fieldapp.position import Position

TAKEN = datetime(2026, 11, 24, 14, 32, 5, tzinfo=LOCAL_ZONE)
HERE = Position(32.041512, 118.778134, 4.8, TAKEN.astimezone(UTC), "nmea", 1.0)


def _jpeg(image: Image.Image, **kw: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=92, **kw)
    return out.getvalue()


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _stamp(position: Position | None = HERE) -> Stamp:
    return Stamp(TAKEN, "GD2026112400001", "王建国", "320100000001", position)


@pytest.fixture(scope="module")
def scene() -> bytes:
    return _jpeg(scene_photo(2400, 1800))


def _decoded(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB"), dtype=np.int16)


# -- size and quality ----------------------------------------------------------------------

@pytest.mark.parametrize(("size", "long_edge", "expected"), [
    ((2400, 1800), 1920, (1920, 1440)),
    ((1800, 2400), 1920, (1440, 1920)),
    ((800, 600), 1920, (800, 600)),  # never scaled up
    ((2400, 1800), 1024, (1024, 768)),
])
def test_long_edge_is_respected(size: tuple[int, int], long_edge: int,
                                expected: tuple[int, int]) -> None:
    data = _jpeg(Image.new("RGB", size, (120, 150, 90)))
    photo = process_photo(data, _stamp(), PhotoSettings(long_edge=long_edge))
    with Image.open(io.BytesIO(photo.data)) as img:
        assert img.format == "JPEG" and img.size == expected
    assert (photo.width, photo.height) == expected


@pytest.mark.parametrize("quality", [60, 85, 95])
def test_jpeg_quality_is_respected(scene: bytes, quality: int) -> None:
    photo = process_photo(scene, _stamp(), PhotoSettings(quality=quality))
    reference = io.BytesIO()
    Image.new("RGB", (64, 64)).save(reference, format="JPEG", quality=quality)
    with Image.open(io.BytesIO(photo.data)) as img, Image.open(reference) as ref:
        assert img.quantization == ref.quantization  # the tables the encoder picks for q


def test_default_is_1920_px_and_quality_85(scene: bytes) -> None:
    photo = process_photo(scene, _stamp())
    reference = io.BytesIO()
    Image.new("RGB", (8, 8)).save(reference, format="JPEG", quality=85)
    with Image.open(io.BytesIO(photo.data)) as img, Image.open(reference) as ref:
        assert max(img.size) == 1920 and img.quantization == ref.quantization
    assert len(photo.data) < 1024 * 1024  # the scale plan assumes about 1 MB a photo


def test_sha256_names_exactly_the_returned_bytes(scene: bytes) -> None:
    photo = process_photo(scene, _stamp())
    assert photo.sha256 == hashlib.sha256(photo.data).hexdigest()
    assert process_photo(scene, _stamp()).data == photo.data  # same input, same evidence


# -- watermark -----------------------------------------------------------------------------

def test_watermark_is_burnt_in_bottom_left(scene: bytes) -> None:
    stamp = _stamp()
    marked = _decoded(process_photo(scene, stamp, PhotoSettings(quality=95)).data)
    plain = np.asarray(open_image(scene), dtype=np.int16)
    assert marked.shape == plain.shape
    left, top, right, bottom = watermark_box((plain.shape[1], plain.shape[0]),
                                             watermark_lines(stamp))
    assert left == 0 and bottom == plain.shape[0] and top > plain.shape[0] * 0.6
    inside = np.abs(marked[top:bottom, left:right] - plain[top:bottom, left:right]).mean()
    outside = np.abs(marked[:top, right:] - plain[:top, right:]).mean()
    assert inside > 40  # a dark band with white text over a light wall
    assert outside < 3  # elsewhere only JPEG noise
    # Legible: the text inside the band is light on dark, with plenty of both.
    band = marked[top:bottom, left:right].mean(axis=2)
    assert (band > 200).mean() > 0.03 and (band < 90).mean() > 0.5


def test_the_watermark_text_says_what_was_stamped(scene: bytes) -> None:
    with_fix = _decoded(process_photo(scene, _stamp(HERE)).data)
    without = _decoded(process_photo(scene, _stamp(None)).data)
    lines = watermark_lines(_stamp(HERE))
    left, top, right, bottom = watermark_box((with_fix.shape[1], with_fix.shape[0]), lines)
    line_height = (bottom - top) // len(lines)
    rows = [np.abs(with_fix[top + i * line_height: top + (i + 1) * line_height, left:right]
                   - without[top + i * line_height: top + (i + 1) * line_height, left:right]
                   ).mean() for i in range(len(lines))]
    assert rows[1] > 10  # the GPS line differs
    assert rows[0] < 2 and rows[-1] < 2  # time and technician lines do not


def test_watermark_lines_carry_time_gps_job_technician_account() -> None:
    lines = watermark_lines(_stamp())
    assert lines == ["2026-11-24 14:32:05 北京时间",
                     "GPS 32.041512°N 118.778134°E ±5m",
                     "工单 GD2026112400001  户号 320100000001",
                     "技术员 王建国"]
    utc = Stamp(datetime(2026, 11, 24, 6, 32, 5, tzinfo=UTC), "J", "T", None, None)
    assert watermark_lines(utc)[0].startswith("2026-11-24 14:32:05")  # shown in Shanghai time
    assert watermark_lines(utc)[1] == NO_FIX == "无GPS定位"


@pytest.mark.parametrize(("position", "text"), [
    (None, "无GPS定位"),
    (Position(-33.8688, 151.2093, None, TAKEN, "nmea"), "GPS 33.868800°S 151.209300°E"),
    (Position(32.0, 118.8, 12.4, TAKEN, "nmea", 185.0),
     "GPS 32.000000°N 118.800000°E ±12m (3分钟前定位)"),
    (Position(32.0, 118.8, 5.0, TAKEN, "sim"),
     f"GPS 32.000000°N 118.800000°E ±5m {SIMULATED_MARK}"),
])
def test_gps_line_says_fix_accuracy_age_and_simulation(position: Position | None,
                                                       text: str) -> None:
    assert gps_text(position) == text


def test_chinese_is_drawn_with_the_cjk_font_not_boxes() -> None:
    font = cjk_font(40)
    assert font.getname()[0].startswith("WenQuanYi")
    glyphs = []
    for char in "无定位":
        image = Image.new("L", (60, 60), 0)
        ImageDraw.Draw(image).text((5, 5), char, font=font, fill=255)
        glyphs.append(np.asarray(image) > 128)
    assert all(g.sum() > 40 for g in glyphs)
    # A missing glyph renders the same "tofu" box for every character.
    assert (glyphs[0] != glyphs[1]).sum() > 50 and (glyphs[1] != glyphs[2]).sum() > 50


# -- EXIF ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("lat", "lon"), [
    (32.041512, 118.778134), (-33.868820, 151.209296), (40.712776, -74.005974), (0.0, 0.0)])
def test_exif_gps_reads_back(scene: bytes, lat: float, lon: float) -> None:
    position = Position(lat, lon, 3.5, TAKEN.astimezone(UTC) - timedelta(seconds=2), "nmea", 2)
    data = process_photo(scene, _stamp(position)).data
    gps = piexif.load(data)["GPS"]
    assert dms_to_degrees(gps[piexif.GPSIFD.GPSLatitude],
                          gps[piexif.GPSIFD.GPSLatitudeRef]) == pytest.approx(lat, abs=1e-7)
    assert dms_to_degrees(gps[piexif.GPSIFD.GPSLongitude],
                          gps[piexif.GPSIFD.GPSLongitudeRef]) == pytest.approx(lon, abs=1e-7)
    assert gps[piexif.GPSIFD.GPSHPositioningError] == (350, 100)
    assert gps[piexif.GPSIFD.GPSDateStamp] == b"2026:11:24"
    assert gps[piexif.GPSIFD.GPSTimeStamp] == ((6, 1), (32, 1), (3, 1))  # the fix, in UTC
    assert gps[piexif.GPSIFD.GPSProcessingMethod].endswith(b"NMEA")
    # A reader that is not piexif finds the same place.
    with Image.open(io.BytesIO(data)) as img:
        pil_gps = img.getexif().get_ifd(0x8825)
    degrees = [float(v) for v in pil_gps[2]]
    assert degrees[0] + degrees[1] / 60 + degrees[2] / 3600 == pytest.approx(abs(lat), abs=1e-7)


def test_exif_time_is_local_with_its_offset(scene: bytes) -> None:
    exif = piexif.load(process_photo(scene, _stamp()).data)
    assert exif["Exif"][piexif.ExifIFD.DateTimeOriginal] == b"2026:11:24 14:32:05"
    assert exif["Exif"][piexif.ExifIFD.OffsetTimeOriginal] == b"+08:00"
    assert exif["0th"][piexif.ImageIFD.ImageDescription] == \
        b"job GD2026112400001 account 320100000001"
    author = bytes(exif["0th"][piexif.ImageIFD.XPAuthor]).decode("utf-16-le").rstrip("\0")
    assert author == "王建国"


def test_no_fix_writes_no_gps_block(scene: bytes) -> None:
    exif = piexif.load(process_photo(scene, _stamp(None)).data)
    assert exif["GPS"] == {}
    assert exif["Exif"][piexif.ExifIFD.DateTimeOriginal] == b"2026:11:24 14:32:05"


# -- what goes in --------------------------------------------------------------------------

def test_camera_orientation_is_applied_before_the_watermark() -> None:
    exif = piexif.dump({"0th": {piexif.ImageIFD.Orientation: 6}})  # sensor held on its side
    data = _jpeg(Image.new("RGB", (1600, 1200), (90, 120, 160)), exif=exif)
    photo = process_photo(data, _stamp())
    with Image.open(io.BytesIO(photo.data)) as img:
        assert img.size == (1200, 1600)
        assert piexif.ImageIFD.Orientation not in piexif.load(photo.data)["0th"]


def test_transparent_png_is_flattened_on_white() -> None:
    data = _png(Image.new("RGBA", (400, 300), (0, 0, 0, 0)))
    pixels = _decoded(process_photo(data, _stamp()).data)
    assert pixels[:50, -50:].min() > 240


@pytest.mark.parametrize("data", [
    b"",
    b"this is a text file",
    b"\xff\xd8\xff\xe0 this is not really a jpeg",
    _jpeg(Image.new("RGB", (640, 480), (10, 200, 30)))[:300],  # cut off mid-download
], ids=["empty", "text", "fake-jpeg-header", "truncated-jpeg"])
def test_corrupt_input_is_not_an_image(data: bytes) -> None:
    with pytest.raises(InvalidInput) as err:
        process_photo(data, _stamp())
    assert err.value.code == "not_an_image"


def test_other_formats_are_refused_by_name() -> None:
    out = io.BytesIO()
    Image.new("P", (20, 20)).save(out, format="GIF")
    with pytest.raises(InvalidInput) as err:
        process_photo(out.getvalue(), _stamp())
    assert err.value.code == "unsupported_image" and err.value.params["format"] == "GIF"


def _declared_png(width: int, height: int) -> bytes:
    """A few hundred bytes that claim ``width × height`` pixels: an image bomb."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + chunk(b"IEND", b""))


@pytest.mark.parametrize(("width", "height"), [
    (20000, 20000),  # past Pillow's hard limit
    (10000, 10000),  # between Pillow's warning and its hard limit
    (9500, 9000),  # under Pillow's limits, over ours
])
def test_an_image_bomb_is_refused_before_decoding(width: int, height: int) -> None:
    data = _declared_png(width, height)
    assert len(data) < 1000
    with pytest.raises(InvalidInput) as err:
        process_photo(data, _stamp())
    assert err.value.code == "image_too_large"


@pytest.mark.parametrize(("long_edge", "quality"), [(100, 85), (1920, 10), (1920, 100)])
def test_nonsense_settings_are_refused(long_edge: int, quality: int) -> None:
    with pytest.raises(ValueError):
        PhotoSettings(long_edge=long_edge, quality=quality)

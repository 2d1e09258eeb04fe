"""Barcode decoding on generated labels, degraded the way phone photos of meters are."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from fieldapp.capture.barcode import (
    BarcodeImageError,
    Decoded,
    decode_image,
    normalise_symbology,
)
from fieldapp.demo import barcodes
from fieldapp.demo.barcodes import write_barcode_png, write_meter_barcodes
from fieldapp.demo.generate import DemoData

CODES = ["GM0012345678", "GM9876543210", "3201-0001", "HELLO-world_42", "A", "0123456789012"]
METER = "GM4401234567"


def _label(tmp_path: Path, code: str = METER) -> Image.Image:
    with Image.open(write_barcode_png(code, tmp_path / "label.png")) as img:
        return img.convert("L")


def _save(img: Image.Image, path: Path) -> Path:
    img.save(path)
    return path


def _meter_only(tmp_path: Path, img: Image.Image) -> list[Decoded]:
    return decode_image(_save(img, tmp_path / "degraded.png"))


@pytest.mark.parametrize("code", CODES)
def test_round_trip_code128(tmp_path: Path, code: str) -> None:
    path = write_barcode_png(code, tmp_path / f"{code}.png")
    assert path.is_file()
    assert decode_image(path) == [Decoded(code, "CODE128")]


def test_label_has_human_readable_text_below_the_bars(tmp_path: Path) -> None:
    with_text = _label(tmp_path)
    # The bottom band under the bars holds the printed digits, so it is not blank.
    bottom = np.asarray(with_text)[int(with_text.height * 0.75):]
    assert bottom.min() < 128


def test_label_without_any_font_still_prints_bars(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with_text = _label(tmp_path)
    monkeypatch.setattr(barcodes, "_FONT_CANDIDATES", ())
    path = write_barcode_png(METER, tmp_path / "plain.png")
    with Image.open(path) as plain:
        assert plain.height < with_text.height
    assert decode_image(path) == [Decoded(METER, "CODE128")]


@pytest.mark.parametrize("angle", [90, 180, 270])
def test_rotated(tmp_path: Path, angle: int) -> None:
    img = _label(tmp_path).rotate(angle, expand=True)
    assert _meter_only(tmp_path, img) == [Decoded(METER, "CODE128")]


def test_slightly_skewed(tmp_path: Path) -> None:
    img = _label(tmp_path).rotate(8, expand=True, fillcolor=255)
    assert _meter_only(tmp_path, img) == [Decoded(METER, "CODE128")]


@pytest.mark.parametrize("radius", [1.0, 1.5])
def test_mild_gaussian_blur(tmp_path: Path, radius: float) -> None:
    img = _label(tmp_path).filter(ImageFilter.GaussianBlur(radius))
    assert _meter_only(tmp_path, img) == [Decoded(METER, "CODE128")]


@pytest.mark.parametrize("sigma", [25, 45])
def test_noise(tmp_path: Path, sigma: int) -> None:
    pixels = np.asarray(_label(tmp_path), dtype=np.float64)
    noisy = pixels + np.random.default_rng(sigma).normal(0, sigma, pixels.shape)
    img = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    assert _meter_only(tmp_path, img) == [Decoded(METER, "CODE128")]


def test_low_contrast(tmp_path: Path) -> None:
    pixels = np.asarray(_label(tmp_path), dtype=np.float64)
    faded = 120 + pixels / 255 * 30  # bars at 120, paper at 150 out of 255
    img = Image.fromarray(faded.astype(np.uint8))
    assert _meter_only(tmp_path, img) == [Decoded(METER, "CODE128")]


def test_small_photo_is_upscaled(tmp_path: Path) -> None:
    label = _label(tmp_path)
    img = label.resize((label.width // 3, label.height // 3), Image.Resampling.BILINEAR)
    assert _meter_only(tmp_path, img) == [Decoded(METER, "CODE128")]


def test_transparent_label_is_read_as_dark_on_white(tmp_path: Path) -> None:
    gray = np.asarray(_label(tmp_path))
    rgba = np.zeros((*gray.shape, 4), dtype=np.uint8)
    rgba[..., 3] = 255 - gray  # bars opaque black, paper fully transparent
    img = Image.fromarray(rgba, "RGBA")
    assert _meter_only(tmp_path, img) == [Decoded(METER, "CODE128")]


def test_bytes_input(tmp_path: Path) -> None:
    data = write_barcode_png(METER, tmp_path / "m.png").read_bytes()
    assert decode_image(data) == [Decoded(METER, "CODE128")]
    jpeg = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").save(jpeg, "JPEG", quality=70)
    assert decode_image(jpeg.getvalue()) == [Decoded(METER, "CODE128")]


try:
    import zxingcpp
except ImportError:  # pragma: no cover - zxing-cpp is a dependency; only the generator is optional
    zxingcpp = None
_can_create = hasattr(zxingcpp, "create_barcode")


def _zxing_png(text: str, fmt: str) -> bytes:
    symbol = zxingcpp.create_barcode(text, getattr(zxingcpp.BarcodeFormat, fmt))
    buf = io.BytesIO()
    Image.fromarray(np.asarray(symbol.to_image(scale=4))).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.skipif(not _can_create, reason="this zxing-cpp cannot generate symbols")
@pytest.mark.parametrize("text", ["户号:320112345678 金陵小区", "https://fieldapp.example/m/GM01"])
def test_qr_code(text: str) -> None:
    assert decode_image(_zxing_png(text, "QRCode")) == [Decoded(text, "QRCODE")]


@pytest.mark.skipif(not _can_create, reason="this zxing-cpp cannot generate symbols")
def test_zxing_fallback_reads_what_zbar_cannot() -> None:
    # zbar has no Data Matrix decoder, so this one can only come from zxing-cpp.
    assert decode_image(_zxing_png(METER, "DataMatrix")) == [Decoded(METER, "DATAMATRIX")]


def test_ean13_symbology(tmp_path: Path) -> None:
    import barcode
    from barcode.writer import ImageWriter

    path = tmp_path / "ean.png"
    with path.open("wb") as fh:
        barcode.get_barcode_class("ean13")("590123412345", writer=ImageWriter()).write(fh)
    assert decode_image(path) == [Decoded("5901234123457", "EAN13")]


def test_two_codes_in_one_image(tmp_path: Path) -> None:
    a, b = _label(tmp_path, "GM1111111111"), _label(tmp_path, "GM2222222222")
    sheet = Image.new("L", (max(a.width, b.width), a.height + b.height + 40), 255)
    sheet.paste(a, (0, 0))
    sheet.paste(b, (0, a.height + 40))
    found = decode_image(_save(sheet, tmp_path / "sheet.png"))
    assert sorted(d.text for d in found) == ["GM1111111111", "GM2222222222"]


def test_blank_image_has_no_codes(tmp_path: Path) -> None:
    assert decode_image(_save(Image.new("RGB", (640, 480), "white"), tmp_path / "w.png")) == []


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BarcodeImageError) as err:
        decode_image(tmp_path / "nope.png")
    assert err.value.code == "not_found"
    assert isinstance(err.value, ValueError)


def test_directory_is_not_an_image_file(tmp_path: Path) -> None:
    with pytest.raises(BarcodeImageError) as err:
        decode_image(tmp_path)
    assert err.value.code == "not_found"


def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("这不是图片", encoding="utf-8")
    with pytest.raises(BarcodeImageError) as err:
        decode_image(path)
    assert err.value.code == "not_an_image"


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_png(tmp_path: Path, cut: float) -> None:
    data = write_barcode_png(METER, tmp_path / "m.png").read_bytes()
    path = tmp_path / "cut.png"
    path.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(BarcodeImageError) as err:
        decode_image(path)
    assert err.value.code == "not_an_image"


@pytest.mark.parametrize("data", [b"", b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 20])
def test_corrupt_bytes(data: bytes) -> None:
    with pytest.raises(BarcodeImageError) as err:
        decode_image(data)
    assert err.value.code == "not_an_image"


@pytest.mark.parametrize(("name", "expected"), [
    ("CODE128", "CODE128"), ("Code128", "CODE128"), ("I25", "ITF"), ("ITF", "ITF"),
    ("QRCode", "QRCODE"), ("QRCODE", "QRCODE"), ("EAN-13", "EAN13"), ("DataMatrix", "DATAMATRIX"),
    ("DataBarExp", "DATABAR_EXP"), ("DATABAR_EXP", "DATABAR_EXP"), ("MicroQRCode", "MICROQR"),
])
def test_symbology_names_are_normalised(name: str, expected: str) -> None:
    assert normalise_symbology(name) == expected


def _small_demo() -> DemoData:
    """A hand-built slice of demo data: writing all 2,000 labels would take a minute."""
    customers = [{"id": f"c{i}"} for i in range(4)]
    meters = [{"id": f"m{i}", "customer_id": f"c{i % 4}", "barcode": f"GM{i:010d}"}
              for i in range(5)]
    jobs = [{"customer_id": "c0", "assignee": "tech01"},
            {"customer_id": "c2", "assignee": "tech02"},
            {"customer_id": "c3", "assignee": None}]
    return DemoData(rows={"customers": customers, "meters": meters, "jobs": jobs}, users=[],
                    today=dt.date(2026, 11, 24), seed=0)


def test_write_meter_barcodes_all(tmp_path: Path) -> None:
    paths = write_meter_barcodes(_small_demo(), tmp_path / "all")
    assert [p.name for p in paths] == [f"GM{i:010d}.png" for i in range(5)]
    assert decode_image(paths[3]) == [Decoded("GM0000000003", "CODE128")]


def test_write_meter_barcodes_for_technicians(tmp_path: Path) -> None:
    paths = write_meter_barcodes(_small_demo(), tmp_path / "t", usernames=["tech01"])
    # tech01's only customer c0 has two meters (m0 and m4); nobody else's labels are printed.
    expected = ["GM0000000000.png", "GM0000000004.png"]
    assert [p.name for p in paths] == expected
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == expected
    assert write_meter_barcodes(_small_demo(), tmp_path / "none", usernames=[]) == []

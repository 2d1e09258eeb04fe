"""Readings zbar gets wrong while looking right, which the decoder must not return: a
Code 128 with FNC4 extended characters, and QR codes holding UTF-8 or GB 18030 bytes
without an ECI header. Each case is first shown to fool zbar (so the test can fail), then
read through ``decode_image`` from a clean symbol and from a photographed one."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image, ImageFilter
from pyzbar import pyzbar

from fieldapp.capture import barcode
from fieldapp.capture.barcode import Decoded, decode_image

zxingcpp = pytest.importorskip("zxingcpp")
pytestmark = pytest.mark.skipif(not hasattr(zxingcpp, "create_barcode"),
                                reason="this zxing-cpp cannot generate symbols")

FNC4 = ["Zähler-Ä123", "GM-Öl-5", "Prüfung ß 7"]  # Latin-1 only through FNC4 in Code 128
CHINESE = ["表号", "户号:320112345678", "金陵小区 3栋", "用户 李四", "南京"]


def _symbol(data: str | bytes, fmt: str) -> Image.Image:
    made = zxingcpp.create_barcode(data, getattr(zxingcpp.BarcodeFormat, fmt))
    return Image.fromarray(np.asarray(made.to_image(scale=4))).convert("L")


def _photographed(symbol: Image.Image, seed: int = 1) -> bytes:
    """The symbol on a sheet in a 1280×960 photo: a little tilted, soft, grainy, JPEG."""
    sheet = Image.new("L", (1280, 960), 200)
    sheet.paste(symbol, ((1280 - symbol.width) // 2, (960 - symbol.height) // 2))
    shot = sheet.rotate(4, fillcolor=190).filter(ImageFilter.GaussianBlur(0.8))
    grain = np.random.default_rng(seed).normal(0, 10, (960, 1280))
    shot = Image.fromarray(np.clip(np.asarray(shot) + grain, 0, 255).astype(np.uint8))
    out = io.BytesIO()
    shot.save(out, "JPEG", quality=75)
    return out.getvalue()


def _zbar(img: Image.Image) -> list[str]:
    return [s.data.decode("utf-8", "replace") for s in pyzbar.decode(img)]


def test_zbar_alone_misreads_these_codes() -> None:
    """The premise: without the fix each of these would come back wrong, not empty."""
    assert all(_zbar(_symbol(t, "Code128")) not in ([t], []) for t in FNC4)
    wrong = [t for t in CHINESE if _zbar(_symbol(t.encode(), "QRCode")) not in ([t], [])]
    assert len(wrong) >= 3, wrong


@pytest.mark.parametrize("text", FNC4)
def test_a_code128_with_extended_characters_reads_right(text: str) -> None:
    symbol = _symbol(text, "Code128")
    assert decode_image(_png(symbol)) == [Decoded(text, "CODE128")]
    assert decode_image(_photographed(symbol)) == [Decoded(text, "CODE128")]


@pytest.mark.parametrize("text", CHINESE)
@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_a_qr_code_of_chinese_bytes_without_eci_reads_right(text: str, encoding: str) -> None:
    symbol = _symbol(text.encode(encoding), "QRCode")
    assert decode_image(_png(symbol)) == [Decoded(text, "QRCODE")]
    assert decode_image(_photographed(symbol, seed=len(text))) == [Decoded(text, "QRCODE")]


@pytest.mark.parametrize("text", ["表号", "GM4401234567", "燃气表 Zähler"])
def test_a_qr_code_whose_text_names_its_character_set_reads_right(text: str) -> None:
    assert decode_image(_png(_symbol(text, "QRCode"))) == [Decoded(text, "QRCODE")]


def test_a_zbar_reading_is_checked_on_its_crop(monkeypatch: pytest.MonkeyPatch) -> None:
    """zxing-cpp missing the whole image (as on a cluttered photo) but reading the crop zbar
    found: its reading wins over zbar's."""
    symbol = _symbol("Zähler-Ä123", "Code128")
    page = Image.new("L", (symbol.width + 200, symbol.height + 200), 255)
    page.paste(symbol, (100, 100))
    real = barcode._zxing
    calls: list[tuple[int, int]] = []

    def misses_the_page(img: Image.Image, **options: object) -> list[Decoded]:
        calls.append(img.size)
        return [] if img.size == page.size else real(img, **options)

    monkeypatch.setattr(barcode, "_zxing", misses_the_page)
    assert barcode._decode_once(page) == [Decoded("Zähler-Ä123", "CODE128")]
    assert calls[0] == page.size and len(calls) == 2  # the page, then zbar's crop


def test_zbar_transcoding_is_undone_only_where_it_happened() -> None:
    assert barcode._undo_transcoding("陦ｨ蜿ｷ") == "表号"  # UTF-8 taken for Shift JIS
    for genuine in ("南京", "燃气表", "GM-01", "ｱｲｳ"):  # real text stays as read
        assert barcode._undo_transcoding(genuine) == genuine


def test_zxing_binary_content_falls_back_to_its_own_text() -> None:
    """Bytes that are neither UTF-8 nor GB 18030 keep zxing-cpp's reading."""
    binary = zxingcpp.ContentType.Binary
    reading = SimpleNamespace(content_type=binary, bytes=b"\x81\x20\xff", text="\x81 ÿ")
    assert barcode.zxing_text(reading) == "\x81 ÿ"
    utf8 = SimpleNamespace(content_type=binary, bytes="阀门".encode(), text="é\x98\x80")
    assert barcode.zxing_text(utf8) == "阀门"


def _png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_small_label_in_a_big_photo_is_read_at_full_size(fmt: str) -> None:
    """The quick pass sees the photo at a quarter of its size, where these thin bars are
    gone; the full-size pass still reads them."""
    symbol = _symbol("GM4401234567", "Code128").reduce(3)
    photo = Image.new("L", (2600, 1950), 210)
    photo.paste(symbol, (1900, 1500))
    quick = barcode._load(_png(photo), barcode._QUICK_SIDE)
    assert quick.info.get("reduced") and max(quick.size) < 1300
    assert barcode._zxing(quick) == []  # so this photo does need the full-size pass
    out = io.BytesIO()
    photo.save(out, fmt, quality=92)
    assert decode_image(out.getvalue()) == [Decoded("GM4401234567", "CODE128")]

"""Photographed labels: decode time per photo (target: median ≤ 10 ms) and wrong readings
(target: none), for the decoder against the previous design in the same run (zbar first,
zxing-cpp only when zbar found nothing, its text as zxing-cpp gives it).

The corpus: 1280×960 photos (tilted, soft, grainy, JPEG) of 40 meter labels as the demo
prints them (Code 128), 6 Code 128 labels with FNC4 extended characters, and 12 QR codes
of Chinese text as UTF-8 or GB 18030 bytes without an ECI header.

Run by hand: ``PYTHONPATH=. .venv/bin/python bench/bench_barcode.py``.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import zxingcpp
from PIL import Image
from pyzbar import pyzbar

from fieldapp.capture import barcode
from fieldapp.capture.barcode import Decoded
from fieldapp.demo.barcodes import write_barcode_png
from tests.capture.test_barcode_readings import _photographed, _symbol

RUNS = 3


def corpus(folder: Path) -> list[tuple[bytes, Decoded]]:
    photos = []
    for n in range(40):
        code = f"GM44{n * 7919 % 10**8:08d}"
        with Image.open(write_barcode_png(code, folder / f"{n}.png")) as label:
            photos.append((_photographed(label.convert("L"), seed=n), Decoded(code, "CODE128")))
    for n, text in enumerate(["Zähler-Ä123", "GM-Öl-5", "Prüfung ß 7", "Gerät-É9", "Nº 5",
                              "Größe-2"]):
        photos.append((_photographed(_symbol(text, "Code128"), seed=n),
                       Decoded(text, "CODE128")))
    for n, text in enumerate(["表号", "户号:320112345678", "金陵小区 3栋", "用户 李四", "南京",
                              "燃气表 GM4401234567"]):
        for encoding in ("utf-8", "gb18030"):
            photos.append((_photographed(_symbol(text.encode(encoding), "QRCode"), seed=n),
                           Decoded(text, "QRCODE")))
    return photos


def previous(source: bytes) -> list[Decoded]:
    """The design before: zbar on each variant first, zxing-cpp's text when zbar had none."""
    for variant in barcode._variants(barcode._load(source)):
        found = [Decoded(barcode._text(s.data), barcode.normalise_symbology(s.type))
                 for s in pyzbar.decode(variant, symbols=barcode._ZBAR_SYMBOLS)]
        if not found:
            found = [Decoded(b.text, barcode.normalise_symbology(b.format.name))
                     for b in zxingcpp.read_barcodes(variant, text_mode=zxingcpp.TextMode.Plain)
                     if b.valid and b.text]
        if found:
            return list(dict.fromkeys(found))
    return []


def measure(decode: Callable[[bytes], list[Decoded]],
            photos: list[tuple[bytes, Decoded]]) -> tuple[float, float, int, int]:
    times, wrong, missed = [], 0, 0
    for data, expected in photos:
        for run in range(RUNS):
            start = time.perf_counter()
            found = decode(data)
            times.append((time.perf_counter() - start) * 1000)
            if run == 0:
                wrong += bool(found) and found != [expected]
                missed += not found
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], wrong, missed


def main() -> None:
    photos = corpus(Path(tempfile.mkdtemp()))
    print(f"{len(photos)} photographed labels, 1280x960 JPEG, {RUNS} decodes each")
    print(f"{'decoder':40}{'median ms':>10}{'p95 ms':>9}{'wrong':>7}{'missed':>8}")
    figures = {}
    for name, decode in (("zxing-cpp first, zbar checked (now)", barcode.decode_image),
                         ("zbar first (previous design)", previous)):
        figures[name] = measure(decode, photos)
        median, p95, wrong, missed = figures[name]
        print(f"{name:40}{median:>10.1f}{p95:>9.1f}{wrong:>7}{missed:>8}")
    now, before = figures.values()
    print(f"median {now[0] / before[0]:.2f}x the previous design; target: median <= 10 ms,"
          " no wrong reading")


if __name__ == "__main__":
    main()

"""Evidence photo processing (decode, orient, downscale, watermark, EXIF, encode), timed.

Run by hand: ``PYTHONPATH=. .venv/bin/python bench/bench_photo.py``.
Prints the median time and output size per input size; the baseline is a plain Pillow
decode + resize + save of the same photo, so the ratio is what the watermark and EXIF cost.
"""

from __future__ import annotations

import io
import statistics
import time
from datetime import UTC, datetime

from PIL import Image

from fieldapp.capture.photo import Stamp, process_photo
from fieldapp.demo.photos import scene_photo
from fieldapp.local_time import LOCAL_ZONE
from fieldapp.position import Position

TAKEN = datetime(2026, 11, 24, 10, 24, 37, tzinfo=LOCAL_ZONE)
STAMP = Stamp(TAKEN, "GD202611240017", "王建国", "320104003518",
              Position(32.0205, 118.8019, 4.8, TAKEN.astimezone(UTC), "nmea", 1.0))


def baseline(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as img:
        img.thumbnail((1920, 1920))
        out = io.BytesIO()
        img.convert("RGB").save(out, format="JPEG", quality=85)
        return out.getvalue()


def median_s(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    print(f"{'input':>12} {'in MB':>6} {'process s':>10} {'baseline s':>11} {'ratio':>6}"
          f" {'out KB':>7}")
    base = scene_photo(2000, 1500)
    for size in ((1920, 1440), (4000, 3000), (8000, 6000)):  # 2.8, 12 and 48 MP
        original = io.BytesIO()
        base.resize(size).save(original, format="JPEG", quality=92)
        data = original.getvalue()
        took = median_s(lambda data=data: process_photo(data, STAMP))
        plain = median_s(lambda data=data: baseline(data))
        out = process_photo(data, STAMP).data
        print(f"{size[0]:>5}×{size[1]:<6} {len(data) / 2**20:>6.1f} {took:>10.3f}"
              f" {plain:>11.3f} {took / plain:>6.2f} {len(out) / 1024:>7.0f}")


if __name__ == "__main__":
    main()

"""Live scanning: decode time per 1280×720 camera frame (target < 50 ms), for a frame with a
meter label and for an empty one (the common case while aiming), against the floor of
turning a frame into the decoder's grey image, in the same process.

Run by hand: ``PYTHONPATH=. .venv/bin/python bench/bench_scan.py``.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from fieldapp.capture.camera import decode_frame
from tests.capture.test_camera import meter_frame

RUNS = 60


def per_frame(fn, frame: np.ndarray) -> tuple[float, float]:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn(frame)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    label = cv2.imread(str(meter_frame(folder)))
    empty = np.random.default_rng(2).normal(150, 25, (720, 1280, 3)).clip(0, 255)
    empty = empty.astype(np.uint8)
    assert decode_frame(label), "the benchmark frame must hold a readable barcode"
    floor = per_frame(lambda f: Image.fromarray(np.ascontiguousarray(f[:, :, 1])), label)
    print(f"{'1280x720 frame':28}{'median ms':>10}{'p95 ms':>9}")
    for name, frame in (("with a meter label", label), ("empty (aiming)", empty)):
        median, p95 = per_frame(decode_frame, frame)
        print(f"{name:28}{median:>10.1f}{p95:>9.1f}   {median / floor[0]:.0f}x the floor")
    print(f"{'floor: frame to grey image':28}{floor[0]:>10.2f}{floor[1]:>9.2f}")
    print("target: < 50 ms per frame")


if __name__ == "__main__":
    main()

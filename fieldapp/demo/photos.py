"""Stand-in site photos for demos and tests: a kitchen wall with a gas pipe, a meter and a hose.

They are drawn, not shot, so they are reproducible from a seed; the sensor-like noise and the
lighting gradient give the JPEG encoder and the watermark something like a real photo to work on.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def scene_photo(width: int = 2400, height: int = 1800, seed: int = 7) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    # Tiled wall lit from the top left: a soft gradient, grout lines, then sensor noise.
    light = 0.75 + 0.35 * (1 - (x / width * 0.6 + y / height * 0.4))
    tile = max(8, width // 16)
    grout = ((x % tile) < 3) | ((y % tile) < 3)
    base = np.where(grout, 150, 226).astype(np.float32)
    rgb = np.stack([base * light, base * light * 0.98, base * light * 0.93], axis=-1)
    image = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")

    draw = ImageDraw.Draw(image)
    s = width / 2400
    # Yellow gas riser and a horizontal branch to the cooker.
    draw.rectangle([int(1500 * s), 0, int(1560 * s), height], fill=(214, 178, 48))
    draw.rectangle([int(500 * s), int(1150 * s), int(1560 * s), int(1200 * s)],
                   fill=(205, 170, 45))
    # The meter: grey box, display window, counter digits.
    box = [int(1330 * s), int(380 * s), int(1730 * s), int(900 * s)]
    draw.rounded_rectangle(box, radius=int(30 * s), fill=(176, 180, 184),
                           outline=(70, 72, 75), width=max(2, int(8 * s)))
    draw.rectangle([int(1400 * s), int(480 * s), int(1660 * s), int(580 * s)],
                   fill=(30, 34, 36))
    for i in range(6):
        left = int((1415 + i * 40) * s)
        draw.rectangle([left, int(495 * s), left + int(30 * s), int(565 * s)],
                       fill=(235, 235, 225) if i < 5 else (200, 40, 40))
    # A cracked orange rubber hose, the hazard in the picture.
    points = [(int((520 + i * 30) * s), int((1200 + 160 * np.sin(i / 5)) * s + 60 * s))
              for i in range(30)]
    draw.line(points, fill=(214, 96, 32), width=max(3, int(34 * s)), joint="curve")
    for i in range(4, 28, 6):
        cx, cy = points[i]
        draw.line([(cx - int(10 * s), cy - int(12 * s)), (cx + int(8 * s), cy + int(10 * s))],
                  fill=(90, 40, 20), width=max(1, int(4 * s)))

    noisy = np.asarray(image.filter(ImageFilter.GaussianBlur(1.2 * s)), dtype=np.int16)
    noisy = noisy + rng.normal(0, 6, noisy.shape).astype(np.int16)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")

"""Signature strokes (what the pad recorded) rendered to a PNG the back office can show.

A stroke is a list of points ``[x, y, t_ms, pressure]`` in pad coordinates; keeping the
vectors with their timing is better evidence than the picture alone.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw

from fieldapp.errors import InvalidInput

Stroke = Sequence[Sequence[float]]
WIDTH, HEIGHT, MARGIN = 800, 300, 20


def check_strokes(strokes: Sequence[Stroke]) -> None:
    if not any(len(s) >= 2 for s in strokes):
        raise InvalidInput("empty_signature", "the signature has no stroke")
    for stroke in strokes:
        for point in stroke:
            if len(point) < 2 or not all(isinstance(v, int | float) for v in point):
                raise InvalidInput("bad_stroke", f"not a point: {point!r}")


def render_png(strokes: Sequence[Stroke]) -> bytes:
    """Fit the strokes into a white 800×300 image, black ink, width following pressure."""
    check_strokes(strokes)
    xs = [p[0] for s in strokes for p in s]
    ys = [p[1] for s in strokes for p in s]
    span = max(max(xs) - min(xs), 1e-6), max(max(ys) - min(ys), 1e-6)
    scale = min((WIDTH - 2 * MARGIN) / span[0], (HEIGHT - 2 * MARGIN) / span[1])
    image = Image.new("L", (WIDTH, HEIGHT), 255)
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        points = [(MARGIN + (p[0] - min(xs)) * scale, MARGIN + (p[1] - min(ys)) * scale)
                  for p in stroke]
        pressure = [p[3] if len(p) > 3 and p[3] else 0.5 for p in stroke]
        for (a, b), pr in zip(zip(points, points[1:], strict=False), pressure[1:], strict=False):
            draw.line([a, b], fill=0, width=max(2, round(2 + 4 * pr)), joint="curve")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()

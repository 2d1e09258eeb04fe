"""The monthly use chart as SVG drawn on the server: no script and nothing from a CDN, so it
shows under the portal's content policy and on any phone. The same figures are in a table
under it for screen readers and for reading exact values."""

from __future__ import annotations

import math
from html import escape

from markupsafe import Markup

# Sized for a phone: drawn about as wide as the viewBox, so 11-unit text reads as 11 px.
WIDTH, HEIGHT = 360, 220
LEFT, RIGHT, TOP, BOTTOM = 34, 6, 18, 28
BAR = "#0b5cab"
THIS_YEAR = "#e8710a"
GRID = "#c5ced8"
TEXT = "#3c4a58"


def nice_top(peak: float) -> float:
    """A round axis maximum at or above ``peak`` (10, 20, 25, 50 × 10ⁿ)."""
    if peak <= 0:
        return 10.0
    scale: float = 10 ** math.floor(math.log10(peak))
    return next(m * scale for m in (1, 2, 2.5, 5, 10) if m * scale >= peak)


def usage_svg(months: list[tuple[str, float | None]], this_year: int) -> Markup:
    """Bars for each month's m³; months without a reading are marked, not drawn as zero."""
    known = [v for _, v in months if v is not None]
    top = nice_top(max(known, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(months), 1)
    total = sum(known)
    label = (f"近 {len(months)} 个月用气量柱状图，共 {total:.0f} 立方米，"
             f"最高 {max(known, default=0):.0f} 立方米")
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
             f' aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="chart-title">{escape(label)}</title>']
    for i in range(5):
        tick = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"'
                     f' stroke="{GRID}" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12"'
                     f' fill="{TEXT}">{tick:g}</text>')
    for i, (month, value) in enumerate(months):
        x = LEFT + i * step
        year, mon = month.split("-")
        if value is None:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{TOP + plot_h - 4:.1f}"'
                         f' text-anchor="middle" font-size="11" fill="{TEXT}">–</text>')
        else:
            h = plot_h * value / top
            colour = THIS_YEAR if int(year) == this_year else BAR
            parts.append(f'<rect x="{x + step * 0.15:.1f}" y="{TOP + plot_h - h:.1f}"'
                         f' width="{step * 0.7:.1f}" height="{h:.1f}" fill="{colour}">'
                         f'<title>{year}年{int(mon)}月 {value:g} m³</title></rect>')
        if mon in ("01", "07"):
            text = f"{year[2:]}年{int(mon)}月"
            parts.append(f'<text x="{x + step / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle"'
                         f' font-size="11" fill="{TEXT}">{text}</text>')
    parts.append(f'<text x="4" y="{TOP - 6}" font-size="11" fill="{TEXT}">m³</text>')
    parts.append("</svg>")
    return Markup("".join(parts))

"""Printable Code 128 labels for the demo meters, for scanning practice with a real tablet."""

from __future__ import annotations

import os
from pathlib import Path

import barcode
from barcode.writer import ImageWriter

from fieldapp.demo.generate import DemoData

# python-barcode ships its own DejaVu Sans Mono; Debian may strip package data, so fall back to
# the system copy, and to bars without text rather than failing to print at all.
_FONT_CANDIDATES = (
    Path(barcode.__file__).parent / "fonts" / "DejaVuSansMono.ttf",
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
)

# Sized for a 300 dpi label printer: 0.33 mm modules are well above the minimum phone and
# tablet cameras resolve at arm's length, and the quiet zone meets the Code 128 10-module rule.
_OPTIONS = {
    "module_width": 0.33,
    "module_height": 12.0,
    "quiet_zone": 4.0,
    "font_size": 10,
    "text_distance": 4.0,
    "dpi": 300,
    "background": "white",
    "foreground": "black",
}


def _font_path() -> str | None:
    for candidate in _FONT_CANDIDATES:
        if candidate.is_file():
            return str(candidate)
    return None


def write_barcode_png(code: str, path: Path) -> Path:
    """Write ``code`` as a Code 128 PNG with its human-readable text; returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = ImageWriter(format="PNG")
    font = _font_path()
    options = dict(_OPTIONS)
    if font is None:
        options["write_text"] = False
    else:
        writer.font_path = font
    symbol = barcode.get_barcode_class("code128")(code, writer=writer)
    # Write to a sibling and rename, so a scanner watching the folder never sees half a file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as fh:
            symbol.write(fh, options)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_meter_barcodes(data: DemoData, out_dir: Path,
                         usernames: list[str] | None = None) -> list[Path]:
    """One ``<barcode>.png`` per meter; only meters of these technicians' customers if given."""
    out_dir = Path(out_dir)
    meters = data.rows["meters"]
    if usernames is not None:
        wanted = set(usernames)
        customers = {j["customer_id"] for j in data.rows["jobs"] if j["assignee"] in wanted}
        meters = [m for m in meters if m["customer_id"] in customers]
    return [write_barcode_png(m["barcode"], out_dir / f"{m['barcode']}.png") for m in meters]

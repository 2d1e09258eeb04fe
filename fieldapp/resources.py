"""Where the bundled assets are: ``resources/`` beside the package in a checkout, and in
the frozen app's folder (PyInstaller's ``sys._MEIPASS``) once packaged."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parents[1])) / "resources"


def resource(*parts: str) -> Path:
    return ROOT.joinpath(*parts)


# The CJK font every surface draws Chinese with (Qt, photo watermarks, PDFs): the bundled copy,
# then Debian's package, which a checkout without `make assets` may still have.
FONT_NAME = "wqy-microhei.ttc"
FONT_PATHS = (
    resource("fonts", FONT_NAME),
    Path("/usr/share/fonts/truetype/wqy") / FONT_NAME,
)

"""Where the bundled assets are: ``resources/`` beside the package in a checkout, and in
the frozen app's folder (PyInstaller's ``sys._MEIPASS``) once packaged."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parents[1])) / "resources"


def resource(*parts: str) -> Path:
    return ROOT.joinpath(*parts)

"""Fonts and the style sheet: large type and 48 px+ touch targets for gloved fingers outdoors.

Widgets only set a ``role`` property (``primary``, ``danger``…) or an object name; every colour
and size lives here, so screens stay free of styling code.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QColor, QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from fieldapp.resources import resource

log = logging.getLogger("fieldapp.ui")

FONTS_DIR = resource("fonts")
FALLBACK_FAMILY = "WenQuanYi Micro Hei"
BASE_PX = 17
TOUCH_PX = 52  # height of ordinary buttons; the guideline minimum is 48

INK = "#1f2933"
MUTED = "#5b6573"
PRIMARY = "#1565c0"
PRIMARY_DARK = "#0d47a1"
SUCCESS = "#2e7d32"
DANGER = "#c62828"
WARNING = "#e65100"
SURFACE = "#ffffff"
BACKGROUND = "#eef2f6"
BORDER = "#d5dce4"
TOP_BAR = "#0b3d6e"

STATUS_COLOURS = {
    "pending": "#6b7280", "dispatched": "#1565c0", "accepted": "#00838f",
    "en_route": "#6a1b9a", "in_service": "#e65100", "completed": "#2e7d32",
    "followed_up": "#2e7d32", "cancelled": "#6b7280", "suspended": "#8a4b00",
    "returned": "#b3261e",
}
PRIORITY_COLOURS = {1: "#c62828", 2: "#e65100", 3: "#607d8b", 4: "#90a4ae"}


def status_colour(status: str) -> QColor:
    return QColor(STATUS_COLOURS.get(status, MUTED))


def priority_colour(priority: int) -> QColor:
    return QColor(PRIORITY_COLOURS.get(priority, MUTED))


def load_fonts(fonts_dir: Path = FONTS_DIR) -> str:
    """Register bundled fonts and return the family to use (CJK capable)."""
    families: list[str] = []
    for path in sorted(fonts_dir.glob("*.tt[fc]")) if fonts_dir.is_dir() else []:
        font_id = QFontDatabase.addApplicationFont(str(path))
        if font_id < 0:
            log.warning("could not load font %s", path)
            continue
        families += QFontDatabase.applicationFontFamilies(font_id)
    # A proportional face reads better than the monospaced twin some collections list first.
    proportional = [f for f in families if "mono" not in f.lower()]
    return (proportional or families or [FALLBACK_FAMILY])[0]


# Sunlight: black on white, heavier borders and text; the job list's painter follows through
# the module's colours, which apply() swaps.
_NORMAL = {"INK": INK, "MUTED": MUTED, "BORDER": BORDER, "SURFACE": SURFACE,
           "BACKGROUND": BACKGROUND}
_CONTRAST = {"INK": "#000000", "MUTED": "#1f1f1f", "BORDER": "#000000", "SURFACE": "#ffffff",
             "BACKGROUND": "#ffffff"}


HIGH_CONTRAST_ON = False


def apply(app: QApplication, *, high_contrast: bool = False) -> None:
    globals().update(_CONTRAST if high_contrast else _NORMAL,
                     HIGH_CONTRAST_ON=high_contrast)
    family = load_fonts()
    font = QFont(family)
    font.setPixelSize(BASE_PX)
    font.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    app.setFont(font)
    app.setStyle("Fusion")
    app.setStyleSheet(STYLE_SHEET + (HIGH_CONTRAST_SHEET if high_contrast else ""))


STYLE_SHEET = f"""
QWidget {{ color: {INK}; }}
QMainWindow, QWidget#page {{ background: {BACKGROUND}; }}
QToolTip {{ color: {INK}; background: {SURFACE}; border: 1px solid {BORDER}; }}

QPushButton {{
  min-height: {TOUCH_PX - 4}px; padding: 0 22px; border-radius: 10px;
  background: {SURFACE}; border: 1px solid {BORDER}; font-size: 17px;
}}
QPushButton:pressed {{ background: #dde5ee; }}
QPushButton:disabled {{ color: #a0a8b3; background: #f1f3f5; border-color: #e3e7eb; }}
QPushButton[role="primary"] {{
  background: {PRIMARY}; color: white; border: none; font-weight: bold;
}}
QPushButton[role="primary"]:pressed {{ background: {PRIMARY_DARK}; }}
QPushButton[role="primary"]:disabled {{ background: #9db8d9; color: #eef3f8; }}
QPushButton[role="success"] {{
  background: {SUCCESS}; color: white; border: none; font-weight: bold;
}}
QPushButton[role="success"]:disabled {{ background: #a5c8a7; color: #f0f6f0; }}
QLabel#holdReason {{ color: #8a4b00; font-weight: bold; }}
QDialog#emergencyAlert {{ background: {DANGER}; }}
QDialog#emergencyAlert QLabel {{ color: white; }}
QDialog#emergencyAlert QLabel#emergencyTitle {{ font-size: 40px; font-weight: bold; }}
QDialog#emergencyAlert QLabel#emergencyLine {{ font-size: 24px; }}
QDialog#emergencyAlert QPushButton {{ min-height: 72px; font-size: 22px; padding: 0 36px; }}
QDialog#emergencyAlert QPushButton#emergencyAccept {{
  background: white; color: {DANGER}; border: none; font-weight: bold;
}}
QPushButton[role="flat"] {{
  background: transparent; border: none; color: {PRIMARY}; font-weight: bold;
}}

QLineEdit {{
  min-height: 46px; padding: 0 12px; border: 1px solid {BORDER}; border-radius: 8px;
  background: {SURFACE}; font-size: 17px; selection-background-color: {PRIMARY};
}}
QLineEdit:focus {{ border: 2px solid {PRIMARY}; }}
QLineEdit[invalid="true"] {{ border: 2px solid {DANGER}; background: #fff5f5; }}

QFrame#card {{ background: {SURFACE}; border: 1px solid {BORDER}; border-radius: 12px; }}
QFrame#card[invalid="true"] {{ border: 2px solid {DANGER}; }}
QLabel#cardTitle {{ font-size: 19px; font-weight: bold; color: {INK}; }}
QLabel#screenTitle {{ font-size: 26px; font-weight: bold; }}
QLabel#muted {{ color: {MUTED}; }}
QLabel#problem, QLabel#failedCount {{ color: {DANGER}; font-weight: bold; }}
QLabel#problemWhat {{ font-size: 18px; font-weight: bold; }}
QLabel#problemReason {{ color: {DANGER}; }}
QLabel#problemReason[state="conflict"] {{ color: #a84300; }}
QLabel#syncState {{
  border-radius: 6px; padding: 2px 9px; font-size: 15px; font-weight: bold;
  background: {SURFACE}; color: {MUTED}; border: 2px solid {BORDER};
}}
QLabel#syncState[state="synced"] {{ color: {SUCCESS}; border-color: #a5d6a7; }}
QLabel#syncState[state="pending"] {{ color: {PRIMARY}; border-color: #90caf9; }}
QLabel#syncState[state="conflict"] {{ color: #a84300; border-color: #ffb74d; }}
QLabel#syncState[state="rejected"] {{ color: {DANGER}; border-color: #ef9a9a; }}
QLabel#hazardLevel {{ color: {DANGER}; font-size: 15px; font-weight: bold; }}
QLabel#customerName {{ font-size: 20px; font-weight: bold; }}
QLabel#jobCustomer, QLabel#signatureIntro {{ font-size: 18px; }}
QLabel#savedSignature {{ background: {SURFACE}; border-radius: 8px; }}
QLabel#signatureVoid, QLabel#signatureBlocked {{
  font-size: 17px; font-weight: bold; padding: 10px 14px; border-radius: 8px; }}
QLabel#signatureVoid {{ color: {DANGER}; background: #fdecea; border: 1px solid #ef9a9a; }}
QLabel#signatureBlocked {{ color: #a84300; background: #fff4e5; border: 1px solid #ffb74d; }}
QListWidget#photoList {{ background: #f5f7fa; border: none; border-radius: 8px; }}
QDialog#loginDialog {{ background: {SURFACE}; }}
QLabel#chip {{
  border-radius: 6px; padding: 3px 10px; color: white; font-size: 15px; font-weight: bold;
}}
QLabel#tag {{
  border-radius: 6px; padding: 3px 10px; background: #fff3e0; color: #a84300;
  font-size: 15px; border: 1px solid #ffcc80;
}}

QFrame#topBar {{ background: {TOP_BAR}; }}
QFrame#topBar QLabel {{ color: white; font-size: 17px; }}
QFrame#topBar QLabel#appTitle {{ font-size: 21px; font-weight: bold; }}
QFrame#topBar QLabel#muted {{ color: #b9cde3; }}
QFrame#topBar QLabel#connectionDot {{ color: #bdbdbd; font-size: 20px; }}
QFrame#topBar QLabel#connectionDot[state="online"] {{ color: #66bb6a; }}
QFrame#topBar QLabel#connectionDot[state="syncing"] {{ color: #64b5f6; }}
QFrame#topBar QLabel#connectionDot[state="auth"] {{ color: #ffb74d; }}
QFrame#topBar QPushButton {{
  background: transparent; color: white; border: 1px solid #5c86b0; min-height: 44px;
}}
QFrame#topBar QPushButton#problemButton {{
  background: #ffcc80; color: #4e2600; border: none; font-weight: bold; min-height: 48px;
  padding: 0 16px;
}}
QFrame#topBar QPushButton#problemButton:pressed {{ background: #ffb74d; }}
QFrame#topBar QPushButton#syncButton {{
  background: #ffffff; color: {TOP_BAR}; border: none; font-weight: bold; font-size: 19px;
  min-width: 110px;
}}
QFrame#topBar QPushButton#syncButton:disabled {{ background: #c9d6e4; color: #5d7a99; }}
QProgressBar {{
  border: none; background: #d6e2ef; height: 26px; text-align: center; font-size: 15px;
  color: {INK};
}}
QProgressBar::chunk {{ background: #64b5f6; }}
QProgressBar#formProgress {{ border-radius: 6px; height: 14px; }}
QProgressBar#formProgress::chunk {{ background: {SUCCESS}; border-radius: 6px; }}

QListView {{ background: {BACKGROUND}; border: none; outline: none; }}

QTabWidget::pane {{ border: none; background: {BACKGROUND}; }}
QTabBar::tab {{
  min-height: 50px; min-width: 120px; padding: 0 16px; font-size: 18px; color: {MUTED};
  background: transparent; border: none; border-bottom: 3px solid transparent;
}}
QTabBar::tab:selected {{ color: {PRIMARY}; border-bottom: 3px solid {PRIMARY}; font-weight: bold; }}

QScrollArea {{ border: none; background: transparent; }}
QScrollArea > QWidget > QWidget {{ background: transparent; }}
QScrollBar:vertical {{ width: 12px; background: transparent; }}
QScrollBar::handle:vertical {{ background: #b8c2cc; border-radius: 6px; min-height: 40px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; }}

QPushButton[answer] {{ min-width: 104px; min-height: 50px; padding: 0 10px; font-size: 17px; }}
QPushButton[answer]:checked {{ background: {PRIMARY}; color: white; border: none; }}
QPushButton[answer="pass"]:checked {{ background: {SUCCESS}; color: white; border: none; }}
QPushButton[answer="fail"]:checked {{ background: {DANGER}; color: white; border: none; }}
QPushButton[answer="na"]:checked {{ background: #546e7a; color: white; border: none; }}
QPushButton#tagChip {{ border-radius: 20px; padding: 0 14px; font-size: 16px; }}
QPushButton#tagChip:checked {{ background: {PRIMARY}; color: white; border: none; }}

QLabel#toast {{
  border-radius: 12px; padding: 14px 24px; font-size: 18px; color: white;
  background: #37474f;
}}
QLabel#toast[level="error"] {{ background: {DANGER}; }}
QLabel#toast[level="success"] {{ background: {SUCCESS}; }}
QLabel#banner {{
  border-radius: 10px; padding: 12px 16px; font-size: 17px; background: #e8f5e9;
  color: #1b5e20; border: 1px solid #a5d6a7;
}}
QLabel#banner[level="error"] {{ background: #ffebee; color: #b71c1c; border-color: #ef9a9a; }}
QLabel#banner[level="info"] {{ background: #e3f2fd; color: #0d47a1; border-color: #90caf9; }}
"""

# Later rules of the same weight win: these replace the colours above, nothing else.
HIGH_CONTRAST_SHEET = """
QWidget { color: #000000; }
QMainWindow, QWidget#page, QListView, QTabWidget::pane { background: #ffffff; }
QPushButton { border: 2px solid #000000; font-weight: bold; }
QPushButton[role="primary"] { background: #002f87; border: 2px solid #000000; }
QPushButton[role="success"] { background: #1b5e20; border: 2px solid #000000; }
QLineEdit, QComboBox, QSpinBox { border: 2px solid #000000; }
QFrame#card { border: 2px solid #000000; }
QLabel#muted { color: #1f1f1f; }
QTabBar::tab { color: #000000; }
QFrame#topBar { background: #000000; }
QFrame#topBar QLabel#muted { color: #ffffff; }
QFrame#topBar QPushButton { border: 2px solid #ffffff; }
QProgressBar { background: #ffffff; border: 2px solid #000000; }
"""

"""设置: every setting saved takes effect at once; a bad value is said next to its field and
nothing is stored; a saved server address is used at the next start."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from fieldapp.replica import settings as tablet_settings
from fieldapp.ui import theme
from fieldapp.ui.app import build_main_window
from fieldapp.ui.dialogs.idle_lock import IdleLock
from fieldapp.ui.dialogs.settings_dialog import SettingsDialog
from fieldapp.ui.i18n import tr
from fieldapp.ui.main_window import MainWindow
from tests.ui.ui_helpers import tap, type_text


@pytest.fixture(autouse=True)
def _normal_theme_after(qapp: QApplication) -> Iterator[None]:
    yield
    theme.apply(qapp)


def open_settings(qtbot: QtBot, window: MainWindow) -> SettingsDialog:
    tap(qtbot, window.top_bar.settings)
    dialog = window.findChild(SettingsDialog)
    assert dialog is not None and dialog.isVisible()
    return dialog


def pick(box, value: str) -> None:
    box.setCurrentIndex(box.findData(value))


def test_saved_settings_take_effect_at_once(qtbot: QtBot, window: MainWindow) -> None:
    window.idle_lock = IdleLock(window, 10)
    dialog = open_settings(qtbot, window)
    assert dialog.language.currentData() == "zh" and dialog.lock.currentData() == "10"
    pick(dialog.photo_edge, "1600")
    dialog.photo_quality.setValue(70)
    pick(dialog.lock, "5")
    pick(dialog.language, "en")
    dialog.high_contrast.setChecked(True)
    pick(dialog.gps_kind, "sim")
    type_text(dialog.gps_arg, "32.05,118.79,8")
    tap(qtbot, dialog.ok)

    assert not dialog.isVisible()
    saved = tablet_settings.load(window.ctx.replica)
    assert (saved.photo_long_edge, saved.photo_quality, saved.lock_minutes, saved.language,
            saved.high_contrast, saved.gps_source) == (1600, 70, 5, "en", True,
                                                       "sim:32.05,118.79,8")
    photo = window.ctx.replica.evidence.photo_settings()
    assert (photo.long_edge, photo.quality) == (1600, 70)
    assert window.top_bar.settings.text() == "Settings"  # English now
    assert theme.HIGH_CONTRAST_ON and "#000000" in QApplication.instance().styleSheet()
    assert window.idle_lock.timer.interval() == 5 * 60_000
    fix = window.ctx.position()
    assert fix is not None and (fix.lat, fix.lon, fix.accuracy_m) == (32.05, 118.79, 8)
    assert window.toast.last_text == tr("settings.saved")


@pytest.mark.parametrize(("field", "enter"), [
    ("server_url", lambda d: (d.server.clear(), type_text(d.server, "ftp://gas.example"))),
    ("gps_source", lambda d: (pick(d.gps_kind, "nmea"), type_text(d.gps_arg, "COM4@fast"))),
])
def test_a_bad_value_is_named_and_nothing_is_stored(qtbot: QtBot, window: MainWindow,
                                                    field: str, enter) -> None:
    before = tablet_settings.load(window.ctx.replica)
    dialog = open_settings(qtbot, window)
    pick(dialog.photo_edge, "2560")  # a good change in the same save is not kept either
    enter(dialog)
    tap(qtbot, dialog.ok)
    assert dialog.isVisible()
    assert dialog.problems[field].isVisible()
    assert dialog.problems[field].text() == tr(f"settings.invalid.{field}")
    assert tablet_settings.load(window.ctx.replica) == before
    dialog.reject()


def test_a_saved_server_address_is_used_at_the_next_start(qtbot: QtBot, window: MainWindow,
                                                          data_dir: Path) -> None:
    dialog = open_settings(qtbot, window)
    assert dialog.server.text() == window.ctx.server_url  # the one it was started with
    dialog.server.clear()
    type_text(dialog.server, "https://fieldapp.gas.example")
    tap(qtbot, dialog.ok)
    assert window.ctx.server_url == "https://fieldapp.gas.example"
    window.shutdown()
    again = build_main_window(data_dir)
    qtbot.addWidget(again)
    try:
        assert again.ctx.server_url == "https://fieldapp.gas.example"
        # an address given on the command line still wins
        given = build_main_window(data_dir, "http://127.0.0.1:9")
        qtbot.addWidget(given)
        assert given.ctx.server_url == "http://127.0.0.1:9"
        given.shutdown()
    finally:
        again.shutdown()

"""Touch helpers for UI tests: tap the real widgets the way a finger would."""

from __future__ import annotations

import socket
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from fieldapp.errors import FieldAppError
from fieldapp.ui.main_window import MainWindow
from fieldapp.ui.taskman import Task


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tap(qtbot: QtBot, widget: QWidget, pos: QPoint | None = None) -> None:
    assert widget.isEnabled(), f"{widget.objectName()} is disabled"
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos or widget.rect().center())


def open_tab(qtbot: QtBot, win: MainWindow, page: QWidget) -> None:
    tabs = win.job_page.tabs
    bar = tabs.tabBar()
    tap(qtbot, bar, bar.tabRect(tabs.indexOf(page)).center())
    assert tabs.currentWidget() is page


def open_row(qtbot: QtBot, win: MainWindow, row: int) -> None:
    view = win.today.list
    rect = view.visualRect(win.today.model.index(row))
    tap(qtbot, view.viewport(), rect.center())


def move_button(win: MainWindow, target: str) -> QPushButton:
    return win.job_page.move_buttons[target]


def type_text(widget: QWidget, text: str) -> None:
    """Commit text as a Chinese input method does (QTest key clicks are ASCII only)."""
    event = QInputMethodEvent()
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def finished(task: Task[Any] | None) -> bool:
    """Wait for a background op a screen started; True when it succeeded (a refusal was
    shown by the screen, so here it only counts as False)."""
    if task is None:
        return False
    try:
        task.wait()
    except FieldAppError:
        return False
    return True

"""After a while without input the app locks: every screen out of sight until the offline
password is given; input keeps it open; Esc does not get past it."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from fieldapp.replica import unlock
from fieldapp.ui import ops
from fieldapp.ui.dialogs.idle_lock import SETTING, IdleLock, idle_minutes
from fieldapp.ui.dialogs.unlock_dialog import UnlockDialog
from fieldapp.ui.main_window import MainWindow
from tests.ui.ui_helpers import open_row, tap, type_text

MINUTES = 0.005  # 300 ms


def locking(qtbot: QtBot, window: MainWindow) -> IdleLock:
    unlock.remember(window.ctx.replica, "right-password")
    lock = IdleLock(window, MINUTES)
    qtbot.waitUntil(lambda: lock.is_locked, timeout=5_000)
    return lock


def test_it_locks_hides_everything_and_opens_with_the_password(qtbot: QtBot,
                                                               window: MainWindow) -> None:
    window.open_customer(window.ctx.replica.jobs.today()[0]["customer_id"])
    customer = [d for d in window.findChildren(QDialog) if d.isVisible()][0]
    lock = locking(qtbot, window)
    assert not window.centralWidget().isVisible() and not customer.isVisible()
    dialog = lock.dialog
    assert isinstance(dialog, UnlockDialog) and dialog.isVisible()

    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # cannot be dismissed
    assert lock.is_locked and isinstance(lock.dialog, UnlockDialog)
    type_text(lock.dialog.password, "wrong")
    tap(qtbot, lock.dialog.ok)
    window.ctx.tasks.wait_idle()  # the hash is checked in the background
    assert lock.is_locked and lock.dialog.status.text() == "密码不正确"
    with qtbot.waitSignal(lock.unlocked, timeout=10_000):  # argon2 on a busy machine
        type_text(lock.dialog.password, "right-password")
        tap(qtbot, lock.dialog.ok)
    assert window.centralWidget().isVisible() and customer.isVisible()
    assert lock.timer.isActive()  # and the wait starts again


def test_input_keeps_it_open(qtbot: QtBot, window: MainWindow) -> None:
    unlock.remember(window.ctx.replica, "right-password")
    lock = IdleLock(window, 0.05)  # 3 s: long enough that a loaded machine cannot outrun it
    lock.timer.setTimerType(Qt.TimerType.PreciseTimer)
    lock.timer.start()

    def deadline() -> float:  # the moment the lock would come, in ms
        return time.monotonic() * 1000 + lock.timer.remainingTime()

    for _ in range(4):  # each tap moves the lock's moment later
        qtbot.wait(100)
        before = deadline()
        qtbot.mouseClick(window.today.list.viewport(), Qt.MouseButton.LeftButton)
        assert deadline() > before + 50
    assert not lock.is_locked
    qtbot.waitUntil(lambda: lock.is_locked, timeout=10_000)


def test_a_lock_closed_after_the_window_shut_down_asks_nothing(qtbot: QtBot,
                                                                window: MainWindow) -> None:
    lock = locking(qtbot, window)
    window.shutdown()  # the app quits while locked: its dialogs close after the replica
    assert lock.dialog is not None
    lock.dialog.reject()  # before, it asked the closed replica for the session again
    assert lock.dialog is None


def test_no_lock_without_an_offline_password_or_when_switched_off(qtbot: QtBot,
                                                                   window: MainWindow) -> None:
    lock = IdleLock(window, MINUTES)
    qtbot.wait(500)
    assert not lock.is_locked and window.centralWidget().isVisible()  # nothing to unlock with
    assert idle_minutes(window) == 10
    window.ctx.run(ops.save_setting, key=SETTING, value="0")
    assert idle_minutes(window) == 0
    unlock.remember(window.ctx.replica, "right-password")
    off = IdleLock(window, 0)
    qtbot.wait(400)
    assert not off.is_locked and not off.timer.isActive()
    open_row(qtbot, window, 0)  # and the app works as ever

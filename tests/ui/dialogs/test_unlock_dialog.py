"""解锁 at start-up: the tablet's last password opens the app offline; a wrong one says so,
after the free tries the button counts down, and a locked app only offers an online login."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from fieldapp.replica import unlock
from fieldapp.ui import ops
from fieldapp.ui.dialogs.unlock_dialog import UnlockDialog
from fieldapp.ui.main_window import MainWindow
from tests.ui.ui_helpers import tap, type_text


def dialog(qtbot: QtBot, window: MainWindow) -> UnlockDialog:
    unlock.remember(window.ctx.replica, "right-password")
    assert ops.needs_unlock(window.ctx.replica)
    d = UnlockDialog(window.ctx, ops.session(window.ctx.replica))
    qtbot.addWidget(d)
    return d


def enter(qtbot: QtBot, d: UnlockDialog, text: str) -> None:
    type_text(d.password, text)
    tap(qtbot, d.ok)
    d.ctx.tasks.wait_idle()  # the hash is checked in the background


def test_the_right_password_opens(qtbot: QtBot, window: MainWindow) -> None:
    d = dialog(qtbot, window)
    assert "王建国（tech01）" in d.findChildren(type(d.status))[1].text()
    enter(qtbot, d, "wrong")
    assert d.status.text() == "密码不正确" and d.ok.isEnabled()
    assert d.password.text() == ""  # nothing typed stays on screen
    enter(qtbot, d, "right-password")
    assert d.result() == UnlockDialog.DialogCode.Accepted


def test_wrong_passwords_count_down_then_lock(qtbot: QtBot, window: MainWindow) -> None:
    d = dialog(qtbot, window)
    for _ in range(unlock.FREE_TRIES):
        enter(qtbot, d, "wrong")
    assert not d.ok.isEnabled() and d.ok.text() == f"请等待 {unlock.WAITS_S[0]} 秒"
    d._timer.timeout.emit()  # a second passes
    assert d.ok.text() == f"请等待 {unlock.WAITS_S[0] - 1} 秒"

    replica = window.ctx.replica
    replica.set_state(unlock.FAILURES_KEY, f"[{unlock.LOCK_AFTER}, 0]")
    d._wait = 1
    d._timer.timeout.emit()
    enter(qtbot, d, "right-password")
    assert "已锁定" in d.status.text() and not d.ok.isEnabled()
    assert d.online.isEnabled()
    tap(qtbot, d.online)
    assert d.result() == UnlockDialog.ONLINE

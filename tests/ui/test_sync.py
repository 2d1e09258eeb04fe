"""Sync from the top bar: off the UI thread, offline without fuss, and against the real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from fieldapp.replica import Replica, unlock
from fieldapp.ui.app import build_main_window
from fieldapp.ui.demo_seed import Seeded
from fieldapp.ui.dialogs.login_dialog import LoginDialog
from fieldapp.ui.i18n import tr
from fieldapp.ui.main_window import MainWindow
from tests.ui.live_server import demo_app, serving
from tests.ui.ui_helpers import move_button, open_row, tap

PASSWORD = "s3cret-pw"


def test_sync_while_offline_keeps_working(qtbot: QtBot, window: MainWindow,
                                          seeded: Seeded) -> None:
    window.ctx.replica.set_state("token", "stored-token")  # logged in earlier, now offline
    window.ctx.replica.jobs.transition(seeded.job_ids[0], "accepted")
    with qtbot.waitSignal(window.controller.sync_finished, timeout=10_000) as finished:
        tap(qtbot, window.top_bar.sync)
        # The click returned at once: the sync runs on its own thread.
        assert window.controller.busy and not window.top_bar.sync.isEnabled()
        assert window.top_bar.connection.text() == tr("top.syncing")
    result, error = finished.args
    assert result is None and error.code == "server_unreachable"
    assert window.controller.state == "offline"
    assert window.top_bar.connection.text() == "离线"
    assert window.top_bar.sync.isEnabled()
    assert window.toast.last_text == tr("sync.offline")
    assert window.top_bar.pending.text() == tr("top.pending", n=2)
    # Work goes on offline.
    open_row(qtbot, window, 1)
    tap(qtbot, move_button(window, "accepted"))
    assert window.top_bar.pending.text() == tr("top.pending", n=4)


def test_sync_without_login_asks_for_one(qtbot: QtBot, window: MainWindow) -> None:
    tap(qtbot, window.top_bar.sync)
    dialog = window.findChild(LoginDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.username.text() == "tech01"
    dialog.password.setText("whatever")
    with qtbot.waitSignal(window.controller.login_finished, timeout=10_000):
        tap(qtbot, dialog.ok)
    assert dialog.isVisible()
    assert dialog.status.text() == tr("error.server_unreachable")
    dialog.reject()


# -- against the real sync server ----------------------------------------------------------


@pytest.fixture
def server_url(tmp_path: Path) -> Iterator[str]:
    """The real FastAPI server on a free port, loaded with tech01 and the demo route."""
    with serving(demo_app(tmp_path / "server", PASSWORD)) as url:
        yield url


def test_first_login_then_sync_round_trip(qtbot: QtBot, tmp_path: Path,
                                          server_url: str) -> None:
    data = tmp_path / "tablet"
    win = build_main_window(data, server_url)
    qtbot.addWidget(win)
    try:
        assert win.today.model.rowCount() == 0
        progress: list[object] = []
        win.controller.progress.connect(progress.append)

        dialog = LoginDialog(win.controller, win)
        dialog.username.setText("tech01")
        dialog.password.setText("wrong")
        with qtbot.waitSignal(win.controller.login_finished, timeout=10_000):
            tap(qtbot, dialog.ok)
        assert dialog.status.text() == "用户名或密码错误"

        dialog.password.setText(PASSWORD)
        with qtbot.waitSignal(win.controller.sync_finished, timeout=20_000) as synced:
            tap(qtbot, dialog.ok)
        assert synced.args[1] is None, synced.args[1]
        assert dialog.result() == LoginDialog.DialogCode.Accepted
        assert win.controller.state == "online"
        assert win.top_bar.user.text() == "王建国 · 秦淮区"
        assert win.today.model.rowCount() == 3
        assert {p.phase for p in progress} >= {"upload", "push", "pull"}

        open_row(qtbot, win, 0)
        tap(qtbot, move_button(win, "accepted"))
        assert win.top_bar.pending.text() == tr("top.pending", n=2)
        with qtbot.waitSignal(win.controller.sync_finished, timeout=20_000) as synced:
            tap(qtbot, win.top_bar.sync)
        assert synced.args[1] is None, synced.args[1]
        assert synced.args[0].pushed == {"applied": 2}
        assert win.top_bar.pending.text() == tr("top.pending", n=0)
        assert win.toast.last_text.startswith("同步完成")
        assert win.top_bar.last_sync.text().startswith(tr("top.last_sync", time=""))
    finally:
        win.shutdown()
    check = Replica.open(data)
    try:
        assert check.outbox.counts()["pending"] == 0
        assert check.jobs.get("job-001")["status"] == "accepted"
        # the password that logged in online now opens the app offline
        assert unlock.check(check, PASSWORD).ok and not unlock.check(check, "wrong").ok
    finally:
        check.close()


def test_a_revoked_tablet_sends_its_work_erases_itself_and_says_so(
        qtbot: QtBot, tmp_path: Path, server_url: str) -> None:
    import requests

    from fieldapp.sync.client import SyncClient
    from fieldapp.ui.main_window import WipedNotice

    data = tmp_path / "tablet"
    first = Replica.open(data)
    try:
        client = SyncClient(first, server_url)
        client.login("tech01", PASSWORD)
        client.sync()
    finally:
        first.close()
    win = build_main_window(data, server_url)
    qtbot.addWidget(win)
    win.show()
    device = win.ctx.replica.device_id
    admin = requests.post(server_url + "/api/v1/auth/login", timeout=10, json={
        "username": "admin", "password": PASSWORD, "device_id": "office"}).json()["token"]
    requests.post(f"{server_url}/api/v1/admin/devices/{device}/revoke", timeout=10,
                  headers={"Authorization": f"Bearer {admin}"}).raise_for_status()
    open_row(qtbot, win, 0)
    tap(qtbot, move_button(win, "accepted"))  # offline work, after the revocation

    tap(qtbot, win.top_bar.sync)
    qtbot.waitUntil(lambda: isinstance(win.centralWidget(), WipedNotice), timeout=20_000)
    notice = win.centralWidget()
    assert "全部工作已上传" in notice.text.text()
    assert win.ctx.replica is None and list(data.iterdir()) == []
    tap(qtbot, notice.close_button)
    assert not win.isVisible()


def test_a_restored_server_is_told_to_the_technician(qtbot: QtBot, tmp_path: Path,
                                                    server_url: str) -> None:
    """The server's history changed (restored from a backup): the sync resends and says so."""
    import sqlite3

    win = build_main_window(tmp_path / "tablet", server_url)
    qtbot.addWidget(win)
    try:
        dialog = LoginDialog(win.controller, win)
        dialog.username.setText("tech01")
        dialog.password.setText(PASSWORD)
        with qtbot.waitSignal(win.controller.sync_finished, timeout=20_000) as synced:
            tap(qtbot, dialog.ok)
        assert synced.args[1] is None, synced.args[1]
        open_row(qtbot, win, 0)
        tap(qtbot, move_button(win, "accepted"))
        with qtbot.waitSignal(win.controller.sync_finished, timeout=20_000) as synced:
            tap(qtbot, win.top_bar.sync)
        assert synced.args[1] is None and not synced.args[0].server_restored

        db = sqlite3.connect(tmp_path / "server" / "server.sqlite3")
        db.execute("UPDATE server_state SET value = 'restored-1' WHERE key = 'sync.epoch'")
        db.commit()
        db.close()
        with qtbot.waitSignal(win.controller.sync_finished, timeout=20_000) as synced:
            tap(qtbot, win.top_bar.sync)
        assert synced.args[1] is None, synced.args[1]
        report = synced.args[0]
        assert report.server_restored and report.resent == 2
        assert (("info", tr("sync.server_restored", n=2)) in win.toast.history)
        assert "备份" in tr("sync.server_restored", n=2)
    finally:
        win.shutdown()


def test_auto_sync_starts_at_once_and_retries_while_work_waits(
        qtbot: QtBot, window: MainWindow, seeded: Seeded) -> None:
    window.ctx.replica.set_state("token", "stored-token")
    window.ctx.replica.jobs.transition(seeded.job_ids[0], "accepted")
    finished: list[object] = []
    window.controller.sync_finished.connect(lambda result, error: finished.append(error))
    window.controller.auto_timer.setInterval(100)

    window.start()

    qtbot.waitUntil(lambda: len(finished) >= 2, timeout=10_000)
    window.controller.auto_timer.stop()  # a third attempt may be under way: let it end
    qtbot.waitUntil(lambda: window.controller.state != "syncing", timeout=10_000)
    assert all(getattr(e, "code", None) == "server_unreachable" for e in finished)
    assert window.controller.state == "offline"
    # Automatic attempts stay quiet: no toast for every retry.
    assert window.toast.history == []


def test_automatic_retries_back_off_while_the_server_is_away(
        qtbot: QtBot, window: MainWindow, seeded: Seeded) -> None:
    controller = window.controller
    clock = [1000.0]
    controller.now = lambda: clock[0]
    window.ctx.replica.set_state("token", "stored-token")
    window.ctx.replica.jobs.transition(seeded.job_ids[0], "accepted")  # work waits
    waits = []
    for _ in range(6):
        with qtbot.waitSignal(controller.sync_finished, timeout=10_000):
            clock[0] = controller.retry_at  # the timer fires once the wait is over
            controller._on_timer()
        waits.append(controller.retry_at - clock[0])
        clock[0] += 1  # a minute's tick that comes too soon starts nothing
        controller._on_timer()
        assert not controller.busy
    assert waits == [60, 120, 240, 480, 900, 900]  # doubling, at most 15 minutes
    assert controller.failures == 6
    with qtbot.waitSignal(controller.sync_finished, timeout=10_000):
        tap(qtbot, window.top_bar.sync)  # by hand: at once, whatever the wait

"""An emergency dispatched while the tablet is online: the wake listener's long poll
answers, the tablet syncs, and a red alert sounds within seconds; 接单并查看 accepts the
job, opens it and tells the server. Against the real server over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from fastapi import FastAPI
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from fieldapp.ui.app import build_main_window
from fieldapp.ui.dialogs.unlock_dialog import UnlockDialog
from fieldapp.ui.main_window import MainWindow
from tests.ui.live_server import demo_app, serving
from tests.ui.ui_helpers import tap

PASSWORD = "s3cret-pw"
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[FastAPI, str]]:
    app = demo_app(tmp_path / "server", PASSWORD)
    with serving(app) as url:
        yield app, url


def office(url: str) -> dict[str, str]:
    resp = requests.post(url + "/api/v1/auth/login", timeout=10, json={
        "username": "admin", "password": PASSWORD, "device_id": "office-desk"})
    assert resp.status_code == 200, resp.text
    return {"Authorization": "Bearer " + resp.json()["token"]}


def dispatch_emergency(url: str, headers: dict[str, str], customer: str) -> str:
    resp = requests.post(url + "/api/v1/office/jobs", headers=headers, timeout=10, json={
        "kind": "repair", "customer": customer, "priority": 1,
        "due_at": "2026-12-06T18:00:00+08:00", "summary": "厨房燃气泄漏报警，用户已撤离"})
    assert resp.status_code == 201, resp.text
    job_id: str = resp.json()["id"]
    resp = requests.post(url + f"/api/v1/office/jobs/{job_id}/assign", headers=headers,
                         timeout=10, json={"username": "tech01"})
    assert resp.status_code == 200, resp.text
    return job_id


def online_window(qtbot: QtBot, data: Path, url: str, sounds: list[float]) -> MainWindow:
    win = build_main_window(data, url)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    with qtbot.waitSignal(win.controller.sync_finished, timeout=20_000):
        win.controller.login("tech01", PASSWORD)
    win.emergencies._sound = lambda: sounds.append(time.monotonic())
    win.start()
    return win


def test_an_emergency_reaches_the_online_tablet_and_is_accepted(
        qtbot: QtBot, tmp_path: Path, served: tuple[FastAPI, str]) -> None:
    app, url = served
    sounds: list[float] = []
    win = online_window(qtbot, tmp_path / "tablet", url, sounds)
    try:
        assert win.emergencies.alert is None  # nothing urgent on the morning's route
        qtbot.waitUntil(lambda: app.state.server.wake.waiting == 1, timeout=10_000)
        job_id = dispatch_emergency(url, office(url), "cust-002")
        dispatched = time.monotonic()
        qtbot.waitUntil(lambda: win.emergencies.alert is not None, timeout=10_000)
        latency = time.monotonic() - dispatched
        assert latency < 5, latency  # not the 15 minutes of the timed pull
        alert = win.emergencies.alert
        assert alert is not None and alert.job_id == job_id
        text = "\n".join(alert.lines)
        assert "厨房燃气泄漏报警" in text
        customer = win.ctx.replica.jobs.get(job_id)
        assert customer["customer_address"] and customer["customer_address"] in text
        qtbot.waitUntil(lambda: len(sounds) >= 2, timeout=5_000)  # it keeps sounding
        SHOTS.mkdir(parents=True, exist_ok=True)
        alert.grab().save(str(SHOTS / "tablet_emergency_alert.png"))

        with qtbot.waitSignal(win.controller.sync_finished, timeout=20_000):
            tap(qtbot, alert.findChild(QPushButton, "emergencyAccept"))
        heard = len(sounds)
        assert win.ctx.replica.jobs.get(job_id)["status"] == "accepted"
        assert win.stack.currentWidget() is win.job_page
        assert win.toast.last_text.startswith("已接紧急工单")
        with app.state.server.db.read() as conn:
            status = conn.execute("SELECT status FROM jobs WHERE id = ?", [job_id]).fetchone()
        assert status[0] == "accepted"  # the dispatcher sees it taken on
        qtbot.wait(2_000)
        assert len(sounds) == heard and win.emergencies.alert is None  # quiet now
    finally:
        win.shutdown()


def test_a_locked_tablet_alerts_without_the_customer(
        qtbot: QtBot, tmp_path: Path, served: tuple[FastAPI, str]) -> None:
    app, url = served
    sounds: list[float] = []
    win = online_window(qtbot, tmp_path / "tablet", url, sounds)
    try:
        assert win.idle_lock is not None
        win.idle_lock.lock()
        assert win.idle_lock.is_locked
        qtbot.waitUntil(lambda: app.state.server.wake.waiting == 1, timeout=10_000)
        job_id = dispatch_emergency(url, office(url), "cust-003")
        qtbot.waitUntil(lambda: win.emergencies.alert is not None, timeout=10_000)
        alert = win.emergencies.alert
        assert alert is not None and alert.locked and sounds
        address = win.ctx.replica.jobs.get(job_id)["customer_address"]
        assert address not in "\n".join(alert.lines)
        assert "解锁" in "\n".join(alert.lines)
        alert.grab().save(str(SHOTS / "tablet_emergency_locked.png"))
        # "Unlock" puts the alert away for the lock's password; unlocking shows it in full
        alert.done(alert.UNLOCK)
        assert win.emergencies.alert is None
        unlock_dialog = win.idle_lock.dialog
        assert isinstance(unlock_dialog, UnlockDialog)
        unlock_dialog.password.setText(PASSWORD)
        tap(qtbot, unlock_dialog.ok)
        qtbot.waitUntil(lambda: win.emergencies.alert is not None, timeout=10_000)
        full = win.emergencies.alert
        assert full is not None and not full.locked
        assert address in "\n".join(full.lines)
        full.done(full.LATER)
        assert win.emergencies.alert is None and job_id in win.emergencies.snoozed
        assert win.ctx.replica.jobs.get(job_id)["status"] == "dispatched"  # not taken on
    finally:
        win.shutdown()

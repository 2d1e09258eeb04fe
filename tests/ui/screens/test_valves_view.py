"""关阀分析 on the job page, by touch: hidden until the tablet holds its district's network,
then the valves to close for a leak at the customer, nearest first, each recorded closed on
the job with one tap; a leak off the network is said in words."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from fieldapp.network.bundle import pack
from fieldapp.network.model import VALVE_CLOSED
from fieldapp.replica import Replica
from fieldapp.sync import network_files
from fieldapp.ui.demo_seed import Seeded
from fieldapp.ui.main_window import MainWindow
from tests.network.network_files import at, layers
from tests.ui.ui_helpers import finished, open_row, open_tab, tap

SHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"


def side_load(replica: Replica) -> str:
    """The district's network, kept as a sync keeps it."""
    data, _ = pack(dict(layers()))
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    assert network_files.keep(replica, sha, data)
    return sha


def move_customer(replica: Replica, customer_id: str, x: float, y: float) -> None:
    place = at(x, y)
    with replica.transaction():
        replica.db.execute("UPDATE customers SET lat = ?, lon = ? WHERE id = ?",
                           [place["lat"], place["lon"], customer_id])


def buttons(window: MainWindow) -> list:
    view = window.job_page.valves
    return [b for b in view.findChildren(type(view.at_customer), "closeValve")
            if b.isVisible()]


def test_the_valves_to_close_are_found_and_recorded_closed_by_touch(
        qtbot: QtBot, window: MainWindow, seeded: Seeded, check: Replica) -> None:
    page = window.job_page
    open_row(qtbot, window, 0)
    assert not page.tabs.isTabVisible(page.tabs.indexOf(page.valves))  # no network yet
    tap(qtbot, page.back)
    side_load(check)
    job_id = seeded.job_ids[0]
    customer = check.jobs.get(job_id)["customer_id"]
    move_customer(check, customer, 175, 1)
    open_row(qtbot, window, 0)
    assert page.job["id"] == job_id
    assert page.tabs.tabText(page.tabs.indexOf(page.valves)) == "关阀分析"
    open_tab(qtbot, window, page.valves)
    view = page.valves
    tap(qtbot, view.at_customer)
    assert finished(view.task)
    qtbot.waitUntil(lambda: len(buttons(window)) == 3)  # the new rows are shown
    assert "泄漏点：用户地址" in view.where.text() and "管线 M1" in view.where.text()
    lines = [w.text() for w in view.findChildren(type(view.where), "valveLine")
             if w.isVisible()]
    assert lines[:3] == ["阀门 V1　沿管线 75 米 · 直线 75 米", "阀门 V3　沿管线 85 米 · 直线 66 米",
                         "阀门 V2　沿管线 25 米 · 直线 25 米"]
    shown = [w.text() for w in view.findChildren(type(view.where)) if w.isVisible()]
    assert any("入户管 3 条（M-001、M-002、M-003）" in t for t in shown)
    assert [b.text() for b in buttons(window)] == ["标记已关闭"] * 3

    tap(qtbot, buttons(window)[0])  # V1, the nearest to close
    qtbot.waitUntil(lambda: [b.text() for b in buttons(window)] == [
        "✓ 已关闭", "标记已关闭", "标记已关闭"])
    assert not buttons(window)[0].isEnabled() and buttons(window)[1].isEnabled()
    window.grab().save(str(SHOTS / "tablet_valves.png"))
    closed = [h for h in check.interactions.for_job(job_id) if h["kind"] == VALVE_CLOSED]
    assert [h["text"] for h in closed] == ["V1"]
    assert check.outbox.counts()["pending"] >= 1  # it goes to the office with the next sync
    open_tab(qtbot, window, page.history)
    assert "关闭阀门 V1" in page.history.entries.item(0).text()


def test_a_leak_off_the_network_is_said_in_words(
        qtbot: QtBot, window: MainWindow, seeded: Seeded, check: Replica) -> None:
    side_load(check)
    job_id = seeded.job_ids[0]
    move_customer(check, check.jobs.get(job_id)["customer_id"], 175, 500)
    page = window.job_page
    open_row(qtbot, window, 0)
    open_tab(qtbot, window, page.valves)
    tap(qtbot, page.valves.at_customer)
    assert not finished(page.valves.task)
    qtbot.waitUntil(lambda: window.toast.last_text != "")
    assert window.toast.last_text == "50 米内没有管线：泄漏点不在管网上"
    assert buttons(window) == []

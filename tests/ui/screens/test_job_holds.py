"""挂起 / 恢复处理 / 退单 on the job page, by touch: the reason is picked in the dialog, the
job page says why the job is on hold, resuming goes back to where the work stood, and a
handed-back job offers no more moves."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from fieldapp.replica import Replica
from fieldapp.ui.demo_seed import Seeded
from fieldapp.ui.dialogs.hold_dialog import HoldDialog
from fieldapp.ui.main_window import MainWindow
from tests.ui.ui_helpers import move_button, open_row, tap, type_text

SHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"


def hold_dialog(qtbot: QtBot, window: MainWindow, kind: str) -> HoldDialog:
    tap(qtbot, window.job_page.holds.buttons[kind])
    dialog = window.job_page.holds.dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_on_hold_and_resumed_by_touch(qtbot: QtBot, window: MainWindow, seeded: Seeded,
                                      check: Replica) -> None:
    job_id = seeded.job_ids[0]
    open_row(qtbot, window, 0)
    page = window.job_page
    assert set(page.holds.buttons) == {"return"}  # not started: hand back, not hold
    tap(qtbot, move_button(window, "accepted"))
    tap(qtbot, move_button(window, "in_service"))
    assert set(page.holds.buttons) == {"suspend", "return"}

    dialog = hold_dialog(qtbot, window, "suspend")
    tap(qtbot, dialog.ok)  # nothing picked yet
    assert dialog.isVisible() and dialog.problem.text() == "请选择一个原因"
    tap(qtbot, dialog.reason_buttons["waiting_parts"])
    assert dialog.parts_label.text().startswith("待料需先")  # no part asked for yet
    tap(qtbot, dialog.ok)
    assert dialog.isVisible()
    tap(qtbot, dialog.reason_buttons["customer_not_home"])
    type_text(dialog.note, "电话无人接听，已留言")
    SHOTS.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(SHOTS / "tablet_hold_dialog.png"))
    tap(qtbot, dialog.ok)
    assert not dialog.isVisible()
    assert page.status.text() == "已挂起"
    assert page.holds.why.text() == "挂起：客户不在家（电话无人接听，已留言）"
    assert page.move_buttons == {} and set(page.holds.buttons) == {"resume", "return"}
    assert window.toast.last_text.endswith("已挂起")
    qtbot.wait(100)  # the old buttons are deleted on the next turn of the event loop
    window.grab().save(str(SHOTS / "tablet_job_on_hold.png"))
    assert check.jobs.get(job_id)["status"] == "suspended"

    tap(qtbot, page.holds.buttons["resume"])
    assert page.status.text() == "服务中" and not page.holds.why.isVisible()
    assert check.jobs.get(job_id)["status"] == "in_service"


def test_handed_back_with_another_reason(qtbot: QtBot, window: MainWindow, seeded: Seeded,
                                         check: Replica) -> None:
    job_id = seeded.job_ids[0]
    open_row(qtbot, window, 0)
    page = window.job_page
    dialog = hold_dialog(qtbot, window, "return")
    tap(qtbot, dialog.reason_buttons["other"])
    tap(qtbot, dialog.ok)
    assert dialog.isVisible() and "写明原因" in dialog.problem.text()
    type_text(dialog.note, "用户已搬离")
    tap(qtbot, dialog.ok)
    assert page.status.text() == "已退单"
    assert page.holds.why.text() == "退单：其他（用户已搬离）"
    assert page.move_buttons == {} and page.holds.buttons == {}
    assert check.jobs.get(job_id)["status"] == "returned"

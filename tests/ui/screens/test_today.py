"""今日工单: the list model, opening a job by tapping it, and 扫码找客户."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from fieldapp.demo.barcodes import write_barcode_png
from fieldapp.replica import Replica
from fieldapp.ui.demo_seed import Seeded, seed
from fieldapp.ui.i18n import tr
from fieldapp.ui.main_window import MainWindow
from fieldapp.ui.widgets.jobs_model import JOB_ROLE
from tests.ui.ui_helpers import finished, open_row, tap


def test_today_lists_the_seeded_jobs_in_route_order(window: MainWindow, seeded: Seeded) -> None:
    model = window.today.model
    ids = [model.index(r).data(JOB_ROLE)["id"] for r in range(model.rowCount())]
    assert ids == seeded.job_ids
    first = model.index(0).data()
    assert "09:00" in first and "张秀英" in first and "已派单" in first and "安检" in first
    assert tr("today.summary", date="", n=3).split("·")[-1].strip() in window.today.summary.text()


def test_emergencies_come_first(qtbot: QtBot, tmp_path: Path, unreachable_url: str) -> None:
    from fieldapp.ui.app import build_main_window

    replica = Replica.open(tmp_path / "rich")
    seeded = seed(replica, rich=True)
    replica.close()
    win = build_main_window(tmp_path / "rich", unreachable_url)
    qtbot.addWidget(win)
    try:
        model = win.today.model
        rows = [model.index(r).data(JOB_ROLE) for r in range(model.rowCount())]
        assert [r["id"] for r in rows] == seeded.job_ids
        assert rows[0]["priority"] == 1 and "紧急" in model.index(0).data()
    finally:
        win.shutdown()


def test_tapping_a_row_opens_the_job(qtbot: QtBot, window: MainWindow, seeded: Seeded) -> None:
    open_row(qtbot, window, 1)
    assert window.stack.currentWidget() is window.job_page
    assert window.job_page.job["id"] == seeded.job_ids[1]
    assert window.job_page.number.text() == window.job_page.job["number"]
    assert window.job_page.status.text() == "已派单"
    assert set(window.job_page.move_buttons) == {"accepted"}
    tap(qtbot, window.job_page.back)
    assert window.stack.currentWidget() is window.today


def test_scanning_a_meter_label_opens_that_customers_job(
        window: MainWindow, seeded: Seeded, tmp_path: Path, check: Replica) -> None:
    label = write_barcode_png(seeded.barcodes["cust-002"], tmp_path / "meter.png")
    window.today.scan_file(label).wait()
    assert window.stack.currentWidget() is window.job_page
    assert window.job_page.job["customer_id"] == "cust-002"
    scans = list(check.db.query("SELECT * FROM scans"))
    assert [(s["code"], s["matched_customer_id"], s["source"]) for s in scans] == [
        (seeded.barcodes["cust-002"], "cust-002", "image")]


def test_unknown_code_says_so_and_offers_typing(qtbot: QtBot, window: MainWindow) -> None:
    window.today.code.setText("GM0000000000")
    tap(qtbot, window.today.find)
    assert window.stack.currentWidget() is window.today
    assert window.toast.last_text == tr("today.unknown_code", code="GM0000000000")
    assert window.today.code.text() == "GM0000000000"


def test_typed_code_finds_the_customer(qtbot: QtBot, window: MainWindow, seeded: Seeded) -> None:
    qtbot.keyClicks(window.today.code, seeded.barcodes["cust-003"])
    tap(qtbot, window.today.find)
    assert window.job_page.job["customer_id"] == "cust-003"


def test_image_without_a_barcode_is_explained(window: MainWindow, tmp_path: Path) -> None:
    from PIL import Image

    blank = tmp_path / "wall.png"
    Image.new("RGB", (320, 200), "white").save(blank)
    assert not finished(window.today.scan_file(blank))
    assert window.toast.last_text == tr("error.no_barcode")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG not really")
    assert not finished(window.today.scan_file(broken))
    assert window.toast.last_text == tr("error.not_an_image")


def test_a_job_left_open_from_yesterday_is_marked_overdue(
        qtbot: QtBot, tmp_path: Path, unreachable_url: str) -> None:
    import datetime as dt

    from fieldapp.local_time import LOCAL_ZONE
    from fieldapp.ui.app import build_main_window

    yesterday = dt.datetime.now(LOCAL_ZONE).date() - dt.timedelta(days=1)
    replica = Replica.open(tmp_path / "late")
    seed(replica, day=yesterday)
    replica.close()
    win = build_main_window(tmp_path / "late", unreachable_url)
    qtbot.addWidget(win)
    try:
        assert win.today.model.rowCount() == 3
        line = win.today.model.index(0).data()
        assert line.startswith(f"{tr('today.overdue')} {yesterday:%m-%d} 09:00")
    finally:
        win.shutdown()


def test_filters_narrow_the_list_and_say_how_many_are_shown(qtbot: QtBot,
                                                            window: MainWindow) -> None:
    screen = window.today
    window.ctx.replica.db.execute("UPDATE jobs SET kind = 'repair', priority = 1 WHERE id = ?",
                                  [screen.model.job_at(0)["id"]])
    screen.refresh()
    total = screen.model.rowCount()
    kinds = [screen.model.job_at(i)["kind"] for i in range(total)]
    screen.filter_kind.setCurrentIndex(screen.filter_kind.findData("inspection"))
    assert screen.model.rowCount() == kinds.count("inspection") < total
    assert screen.shown.text() == f"显示 {kinds.count('inspection')} 单"
    assert screen.summary.text().endswith(f"共 {total} 单")  # the day's count stays
    screen.filter_priority.setCurrentIndex(screen.filter_priority.findData(1))
    assert screen.model.rowCount() == 0 and not screen.empty.isHidden()
    assert screen.empty.text() == "没有符合筛选条件的工单"
    window.set_language("en")  # the choices follow the language, the choice stays
    assert screen.filter_kind.currentText() == "Inspection"
    assert screen.model.rowCount() == 0
    for box in (screen.filter_kind, screen.filter_priority):
        box.setCurrentIndex(0)
    assert screen.model.rowCount() == total and screen.shown.text() == ""

"""记录 on the job page: a note is added offline and listed with the status changes; 拨打电话
and 导航 hand the system a tel: and a map link, and the call is logged."""

from __future__ import annotations

from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from pytestqt.qtbot import QtBot

from fieldapp.replica import Replica
from fieldapp.ui.demo_seed import Seeded
from fieldapp.ui.main_window import MainWindow
from tests.ui.ui_helpers import move_button, open_row, open_tab, tap


class Opened(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url.toString(QUrl.ComponentFormattingOption.FullyEncoded))


def test_a_note_is_kept_and_listed_with_the_status_changes(
        qtbot: QtBot, window: MainWindow, seeded: Seeded, check: Replica) -> None:
    open_row(qtbot, window, 1)
    tap(qtbot, move_button(window, "accepted"))
    page = window.job_page
    open_tab(qtbot, window, page.history)
    history = page.history
    assert history.entries.count() == 1 and "已接单" in history.entries.item(0).text()
    tap(qtbot, history.add)  # nothing typed
    assert window.toast.last_text == "备注不能为空"
    history.note.setPlainText("用户要求下午六点后上门")
    tap(qtbot, history.add)
    assert history.note.toPlainText() == ""
    assert history.entries.count() == 2
    assert history.entries.item(0).text().endswith("用户要求下午六点后上门")
    job_id = page.job["id"]
    [note] = [h for h in check.interactions.for_job(job_id) if h["source"] == "interaction"]
    assert note["text"] == "用户要求下午六点后上门"


def test_call_and_navigate_open_the_systems_apps(qtbot: QtBot, window: MainWindow,
                                                 seeded: Seeded, check: Replica) -> None:
    open_row(qtbot, window, 1)
    page = window.job_page
    opened = Opened()
    for scheme in ("tel", "https"):
        QDesktopServices.setUrlHandler(scheme, opened, "open")
    try:
        tap(qtbot, page.call)
        tap(qtbot, page.navigate)
    finally:
        for scheme in ("tel", "https"):
            QDesktopServices.unsetUrlHandler(scheme)
    phone = page.job["customer_phone"]
    assert opened.urls[0] == "tel:" + "".join(ch for ch in phone if ch.isdigit())
    assert opened.urls[1].startswith("https://uri.amap.com/marker?position=")
    assert "coordinate=wgs84" in opened.urls[1]
    calls = [h for h in check.interactions.for_job(page.job["id"]) if h["kind"] == "call"]
    assert [c["text"] for c in calls] == [phone]
    assert window.toast.last_text == "已在地图应用中打开导航"


def test_parts_are_requested_from_the_catalogue(qtbot: QtBot, window: MainWindow,
                                                seeded: Seeded, check: Replica) -> None:
    open_row(qtbot, window, 1)
    page = window.job_page
    open_tab(qtbot, window, page.parts)
    parts = page.parts
    assert parts.entries.count() == 0 and not parts.empty.isHidden()
    parts.part.setCurrentIndex(parts.part.findData("P-HOSE-15"))
    parts.quantity.setValue(2)
    parts.note.setText("原软管龟裂")
    tap(qtbot, parts.request)
    assert window.toast.last_text == "领料申请已保存，同步后送达库房"
    assert parts.entries.count() == 1
    assert "金属波纹管 1.5米 × 2" in parts.entries.item(0).text()
    assert "待处理" in parts.entries.item(0).text()
    [row] = check.parts.for_job(page.job["id"])
    assert (row["part"], row["quantity"], row["note"]) == ("P-HOSE-15", 2, "原软管龟裂")

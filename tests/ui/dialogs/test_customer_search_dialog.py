"""搜索客户 from the today screen: results as you type, a tap opens the customer's 360°."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel
from pytestqt.qtbot import QtBot

from fieldapp.ui.dialogs.customer_search import CustomerSearchDialog
from fieldapp.ui.main_window import CustomerDialog, MainWindow
from tests.ui.ui_helpers import tap, type_text


def test_typing_finds_and_a_tap_opens_the_customer(qtbot: QtBot, window: MainWindow) -> None:
    tap(qtbot, window.today.search)
    dialog = window.findChild(CustomerSearchDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.model.rowCount() == 0 and dialog.count.text().startswith("输入任意关键字")
    type_text(dialog.query, "中华路")
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=3_000)
    assert dialog.count.text() == "找到 1 户"
    shown = dialog.model.index(0).data()
    assert "张秀英" in shown and "320100012345" in shown

    rect = dialog.results.visualRect(dialog.model.index(0))
    qtbot.mouseClick(dialog.results.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    opened = [d for d in window.findChildren(CustomerDialog) if d.isVisible()]
    assert len(opened) == 1
    assert any("张秀英" in shown.text() for shown in opened[0].findChildren(QLabel))
    for d in window.findChildren(QDialog):
        d.close()


def test_nothing_found_says_so(qtbot: QtBot, window: MainWindow) -> None:
    dialog = window.search_customers()
    type_text(dialog.query, "没有这个人")
    dialog.query.returnPressed.emit()
    assert dialog.model.rowCount() == 0 and dialog.count.text() == "找到 0 户"
    dialog.close()


def test_the_360_view_charts_two_years_of_use(qtbot: QtBot, window: MainWindow) -> None:
    from fieldapp.ui.widgets.usage_chart import UsageChart

    window.open_customer("cust-001")
    dialog = [d for d in window.findChildren(CustomerDialog) if d.isVisible()][0]
    chart = dialog.findChild(UsageChart)
    assert chart is not None and len(chart.months) == 24
    known = [v for _, v in chart.months if v is not None]
    assert len(known) == 23 and max(known) == 46.0  # the current month is not read yet
    assert chart.scale_top() == 50
    assert any("近12个月" in shown.text() for shown in dialog.findChildren(QLabel))
    image = chart.grab().toImage()
    just_above_axis = image.height() - 26 - 3
    colours = {image.pixelColor(x, just_above_axis).name() for x in range(image.width())}
    assert {"#42a5f5", "#1565c0"} <= colours  # the year before, and the last 12 months
    dialog.close()

"""知识库 from the top bar: search as you type, matches in bold, an article opens beside."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from fieldapp.ui.main_window import MainWindow
from tests.replica.test_kb_search import load
from tests.ui.ui_helpers import tap, type_text


def test_search_as_you_type_and_open_an_article(qtbot: QtBot, window: MainWindow) -> None:
    load(window.ctx.replica)
    tap(qtbot, window.top_bar.kb)
    dialog = window.kb_dialog
    assert dialog is not None and dialog.isVisible()
    type_text(dialog.query, "热电偶")
    qtbot.waitUntil(lambda: dialog.results.count() == 1, timeout=3000)
    shown = dialog.results.itemWidget(dialog.results.item(0)).text()
    assert "<b>热电偶</b>" in shown and "灶具熄火保护失灵的处理" in shown
    dialog.results.itemClicked.emit(dialog.results.item(0))
    assert "热电偶位置偏移" in dialog.article.text()

    dialog.query.clear()
    type_text(dialog.query, "不存在的故障")
    qtbot.waitUntil(lambda: dialog.empty.isVisible(), timeout=3000)
    assert dialog.results.count() == 0

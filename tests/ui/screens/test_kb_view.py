"""知识库 from the top bar: search as you type, matches in bold, an article opens beside."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from fieldapp.kb.article import fetched_dir
from fieldapp.sync import kb_figures
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


def test_an_article_shows_the_figure_the_sync_fetched(qtbot: QtBot, window: MainWindow,
                                                      tmp_path: Path) -> None:
    """A figure uploaded in the office, fetched after a sync into the tablet's folder, is
    drawn in the article with no network; one not fetched yet shows its caption."""
    image = QImage(120, 80, QImage.Format.Format_RGB32)
    image.fill(QColor("#d9534f"))
    image.save(str(tmp_path / "figure.png"))
    data = (tmp_path / "figure.png").read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    assert kb_figures.keep(window.ctx.replica.data_dir, f"{sha}.png", data)
    load(window.ctx.replica, [("kb-fig", "表具显示 E03 的处理", "故障代码",
                               f"E03 为强磁干扰。\n![屏幕显示 E03]({sha}.png)\n"
                               f"![还没下载的图]({'0' * 64}.png)", "[]")])
    tap(qtbot, window.top_bar.kb)
    dialog = window.kb_dialog
    assert dialog is not None
    type_text(dialog.query, "强磁干扰")
    qtbot.waitUntil(lambda: dialog.results.count() == 1, timeout=3000)
    dialog.results.itemClicked.emit(dialog.results.item(0))
    shown = dialog.article.text()
    kept = fetched_dir(window.ctx.replica.data_dir) / f"{sha}.png"
    assert f'<img src="{kept.as_uri()}"' in shown and "<i>屏幕显示 E03</i>" in shown
    assert "还没下载的图 （图片缺失）" in shown  # fetched at the next sync:
    assert kb_figures.wanted(window.ctx.replica) == [f"{'0' * 64}.png"]
    dialog.grab().save(str(tmp_path / "kb_figure.png"))

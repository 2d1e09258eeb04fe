"""知识库: search the offline knowledge base as you type, or browse a category; results show
the matched text in bold; a tap opens the article (with its figures) beside the list. A
repair form's fault opens it on that fault's search."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from fieldapp.kb.article import IMAGE_DIR, article_html, fetched_dir
from fieldapp.replica.kb import marked_html
from fieldapp.ui import ops
from fieldapp.ui.context import AppContext
from fieldapp.ui.i18n import tr
from fieldapp.ui.widgets.controls import button, label

SEARCH_DELAY_MS = 250  # typing pauses this long before the search runs


class KnowledgeDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("page")
        self.setWindowTitle(tr("kb.title"))
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.query = QLineEdit()
        self.query.setObjectName("kbQuery")
        self.query.setPlaceholderText(tr("kb.placeholder"))
        self.query.setClearButtonEnabled(True)
        top.addWidget(self.query, 1)
        close = button(tr("job.close"), role="primary")
        close.clicked.connect(self.accept)
        top.addWidget(close)
        layout.addLayout(top)
        self.categories = QHBoxLayout()
        self.categories.setSpacing(8)
        self.category_group = QButtonGroup(self)
        self.category_group.setExclusive(True)
        self.category: str | None = None
        for value in [None, *(self.ctx.run(ops.kb_categories) or [])]:
            chip = button(value or tr("kb.all_categories"), name=f"kbCategory_{value or 'all'}")
            chip.setCheckable(True)
            chip.setProperty("answer", "category")
            chip.setChecked(value is None)
            chip.clicked.connect(lambda _=False, v=value: self.choose_category(v))
            self.category_group.addButton(chip)
            self.categories.addWidget(chip)
        self.categories.addStretch(1)
        layout.addLayout(self.categories)
        body = QHBoxLayout()
        self.results = QListWidget()
        self.results.setObjectName("kbResults")
        self.results.setWordWrap(True)
        self.results.itemClicked.connect(self._open)
        body.addWidget(self.results, 2)
        self.article_id: str | None = None
        self.article = label(wrap=True, selectable=True)
        self.article.setObjectName("kbArticle")
        self.article.setTextFormat(Qt.TextFormat.RichText)
        self.article.setAlignment(Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.article)
        body.addWidget(scroll, 3)
        layout.addLayout(body, 1)
        self.empty = label(tr("kb.nothing"), name="muted")
        self.empty.hide()
        layout.addWidget(self.empty)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.search)
        self.query.textChanged.connect(lambda _t: self._timer.start())
        if parent is not None:
            self.resize(parent.width() - 120, parent.height() - 100)

    def choose_category(self, category: str | None) -> None:
        self.category = category
        for chip in self.category_group.buttons():
            chip.setChecked(chip.objectName() == f"kbCategory_{category or 'all'}")
        self.search()

    def look_up(self, query: str) -> list[dict[str, Any]]:
        """Search ``query`` in every category and open the best article."""
        self.choose_category(None)
        self.query.blockSignals(True)
        self.query.setText(query)
        self.query.blockSignals(False)
        hits = self.search()
        if hits:
            self._open(self.results.item(0))
        return hits

    def search(self) -> list[dict[str, Any]]:
        self._timer.stop()
        text = self.query.text().strip()
        if text:
            hits = self.ctx.run(ops.kb_search, text=text, category=self.category) or []
        elif self.category:
            hits = self.ctx.run(ops.kb_in_category, category=self.category) or []
        else:
            hits = []
        self.results.clear()
        for hit in hits:
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, hit["id"])
            shown = QLabel(f"<b>{html.escape(hit['title'])}</b>"
                           f" <span style='color:#6b7785'>{html.escape(hit['category'] or '')}"
                           f"</span><br>{marked_html(hit['snippet'])}")
            shown.setWordWrap(True)
            shown.setContentsMargins(8, 6, 8, 6)
            item.setSizeHint(shown.sizeHint())
            self.results.addItem(item)
            self.results.setItemWidget(item, shown)
        self.empty.setVisible(bool(text or self.category) and not hits)
        return hits

    def _open(self, item: QListWidgetItem) -> None:
        article = self.ctx.run(ops.kb_article, article_id=item.data(Qt.ItemDataRole.UserRole))
        if article is None:
            return
        folders = [IMAGE_DIR, fetched_dir(self.ctx.replica.data_dir)]
        self.article.setText(article_html(article, folders, missing=tr("kb.image_missing")))
        self.article_id = article["id"]

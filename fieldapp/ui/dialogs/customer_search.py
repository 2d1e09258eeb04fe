"""搜索客户: find any customer on the tablet by name, account, phone, address or meter code,
as you type; a tap opens their 360° view."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QLineEdit,
    QListView,
    QScroller,
    QVBoxLayout,
    QWidget,
)

from fieldapp.ui import ops
from fieldapp.ui.context import AppContext
from fieldapp.ui.i18n import tr
from fieldapp.ui.widgets.controls import close_row, label

TYPING_PAUSE_MS = 250
Index = QModelIndex | QPersistentModelIndex


class CustomerResultsModel(QAbstractListModel):
    IdRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 (Qt's API)
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return tr("search.row", name=row["name"], account=row["account_no"] or "—",
                      phone=row["phone"] or "—", address=row["address"] or "")
        if role == self.IdRole:
            return row["id"]
        return None


class CustomerSearchDialog(QDialog):
    open_customer = Signal(str)  # customer id

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, text: str = "") -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("page")
        self.setWindowTitle(tr("search.title"))
        self.setMinimumSize(760, 560)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.addWidget(label(tr("search.title"), name="screenTitle"))
        self.query = QLineEdit(text)
        self.query.setObjectName("customerQuery")
        self.query.setPlaceholderText(tr("search.placeholder"))
        self.query.setClearButtonEnabled(True)
        layout.addWidget(self.query)
        self.count = label(name="muted")
        layout.addWidget(self.count)
        self.model = CustomerResultsModel()
        self.results = QListView()
        self.results.setObjectName("customerResults")
        self.results.setModel(self.model)
        self.results.setWordWrap(True)
        self.results.setSpacing(4)
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        QScroller.grabGesture(self.results.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        self.results.clicked.connect(self._chosen)
        layout.addWidget(self.results, 1)
        layout.addLayout(close_row(self))
        # Search once typing pauses, not on every key: the list does not flicker.
        self._pause = QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.setInterval(TYPING_PAUSE_MS)
        self._pause.timeout.connect(self.search)
        self.query.textChanged.connect(lambda _: self._pause.start())
        self.query.returnPressed.connect(self.search)
        self.search()

    def search(self) -> None:
        self._pause.stop()
        text = self.query.text().strip()
        rows = self.ctx.run(ops.search_customers, text=text) if text else []
        self.model.set_rows(rows or [])
        self.count.setText(tr("search.count", n=len(rows or [])) if text
                           else tr("search.hint"))

    def _chosen(self, index: QModelIndex) -> None:
        self.open_customer.emit(index.data(CustomerResultsModel.IdRole))

"""Small building blocks shared by the screens: cards, chips, buttons and the toast."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QColor, QMouseEvent
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fieldapp.ui.i18n import tr


def set_prop(widget: QWidget, name: str, value: object) -> None:
    """Set a style property and re-apply the style sheet (Qt does not do it by itself)."""
    if widget.property(name) == value:
        return
    widget.setProperty(name, value)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def button(text: str = "", *, role: str | None = None, name: str | None = None,
           parent: QWidget | None = None) -> QPushButton:
    btn = QPushButton(text, parent)
    if role:
        btn.setProperty("role", role)
    if name:
        btn.setObjectName(name)
    btn.setCursor(Qt.CursorShape.PointingHandCursor)
    btn.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    return btn


def close_row(dialog: QDialog) -> QHBoxLayout:
    """A dialog's bottom row: one big 关闭 on the right."""
    row = QHBoxLayout()
    row.addStretch(1)
    close = button(tr("job.close"), role="primary", name="closeDialog")
    close.clicked.connect(dialog.accept)
    row.addWidget(close)
    return row


def label(text: str = "", *, name: str | None = None, wrap: bool = False,
          selectable: bool = False) -> QLabel:
    lbl = QLabel(text)
    if name:
        lbl.setObjectName(name)
    lbl.setWordWrap(wrap)
    if selectable:
        lbl.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return lbl


def chip(text: str = "", colour: QColor | str = "#607d8b") -> QLabel:
    lbl = QLabel(text)
    lbl.setObjectName("chip")
    set_chip(lbl, text, colour)
    return lbl


def set_chip(lbl: QLabel, text: str, colour: QColor | str) -> None:
    name = colour.name() if isinstance(colour, QColor) else colour
    lbl.setText(text)
    lbl.setStyleSheet(f"background: {name};")


def clear_layout(layout: QVBoxLayout | QHBoxLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget()
        if widget is not None:
            widget.deleteLater()
        elif item.layout() is not None:
            clear_layout(item.layout())  # type: ignore[arg-type]


class Card(QFrame):
    """A white rounded panel with an optional title; put content in ``body``."""

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 16, 20, 16)
        outer.setSpacing(10)
        self.title = label(title, name="cardTitle")
        self.title.setVisible(bool(title))
        outer.addWidget(self.title)
        self.body = QVBoxLayout()
        self.body.setSpacing(8)
        outer.addLayout(self.body)

    def set_title(self, text: str) -> None:
        self.title.setText(text)
        self.title.setVisible(bool(text))


class Toast(QLabel):
    """The one place messages appear: a rounded note over the bottom of its parent window."""

    SHOW_MS = {"info": 4000, "success": 3000, "error": 7000}

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("toast")
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hide()
        self.history: list[tuple[str, str]] = []  # (level, text): also what tests read
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)
        parent.installEventFilter(self)

    @property
    def last_text(self) -> str:
        return self.history[-1][1] if self.history else ""

    def show_message(self, text: str, level: str = "info") -> None:
        self.history.append((level, text))
        del self.history[:-50]
        set_prop(self, "level", level)
        self.setText(text)
        self._place()
        self.show()
        self.raise_()
        self._timer.start(self.SHOW_MS.get(level, 4000))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.hide()  # a tap dismisses it early

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False

    def _place(self) -> None:
        parent = self.parentWidget()
        # As wide as the sentence needs, within what fits comfortably on the screen.
        self.ensurePolished()
        natural = self.fontMetrics().horizontalAdvance(self.text()) + 64
        self.setFixedWidth(max(320, min(natural, 760, parent.width() - 80)))
        self.adjustSize()
        self.move((parent.width() - self.width()) // 2, parent.height() - self.height() - 36)

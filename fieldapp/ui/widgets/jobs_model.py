"""Today's jobs as a Qt list model, and the delegate that paints each one as a touch card."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from fieldapp.local_time import as_local
from fieldapp.ui import theme
from fieldapp.ui.i18n import tr
from fieldapp.ui.widgets.formatting import time_of, today

JOB_ROLE = Qt.ItemDataRole.UserRole + 1
_Index = QModelIndex | QPersistentModelIndex


def is_overdue(job: dict[str, Any]) -> bool:
    """Due on an earlier day and still in the list (the list only keeps open ones)."""
    due = as_local(job["due_at"])
    return due is not None and due.date() < today()


def short_date(value: str | None) -> str:
    due = as_local(value)
    return due.strftime("%m-%d") if due else ""


def job_line(job: dict[str, Any]) -> str:
    """The row as one sentence: what screen readers say and what tests can compare."""
    when = (f"{tr('today.overdue')} {short_date(job['due_at'])} " if is_overdue(job) else "")
    return " · ".join([
        when + time_of(job["due_at"]), job["number"], tr(f"kind.{job['kind']}"),
        tr(f"status.{job['status']}"), job.get("customer_name") or "",
        job.get("customer_address") or "", tr(f"priority.{job['priority']}"),
    ])


class JobListModel(QAbstractListModel):
    def __init__(self) -> None:
        super().__init__()
        self._jobs: list[dict[str, Any]] = []

    def set_jobs(self, jobs: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self._jobs = list(jobs)
        self.endResetModel()

    def retranslate(self) -> None:
        if self._jobs:
            self.dataChanged.emit(self.index(0), self.index(len(self._jobs) - 1))

    def job_at(self, row: int) -> dict[str, Any]:
        return self._jobs[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt's default)
        return 0 if parent.isValid() else len(self._jobs)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._jobs):
            return None
        job = self._jobs[index.row()]
        if role == JOB_ROLE:
            return job
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return job_line(job)
        return None


class JobCardDelegate(QStyledItemDelegate):
    """A card: time and priority on the left, customer and address, status on the right."""

    HEIGHT = 118
    MARGIN = 8

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        # Rows always span the viewport; a width here would only invite a horizontal scrollbar.
        return QSize(1, self.HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        job = index.data(JOB_ROLE)
        if job is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        card = option.rect.adjusted(16, self.MARGIN // 2, -16, -self.MARGIN // 2)
        pressed = bool(option.state & QStyle.StateFlag.State_Selected)
        self._card(painter, card, job, pressed)
        base = QFont(option.font)
        left = card.left() + 28
        # Time and priority column; a job left open from an earlier day shows its date in red.
        overdue = is_overdue(job)
        self._text(painter, base, 26, True, theme.DANGER if overdue else theme.INK,
                   QRect(left, card.top() + 14, 110, 36),
                   short_date(job["due_at"]) if overdue else time_of(job["due_at"]))
        self._badge(painter, base, QRect(left, card.top() + 62, 0, 30),
                    tr(f"priority.{job['priority']}"), theme.priority_colour(job["priority"]))
        # Customer, job number and address.
        status_width = 150
        mid = QRect(left + 130, card.top() + 12, card.width() - 130 - status_width - 70, 32)
        name = job.get("customer_name") or ""
        self._text(painter, base, 21, True, theme.INK, mid, name)
        kind = tr(f"kind.{job['kind']}")
        meta = f"{job['number']}  ·  {kind}"
        if overdue:
            meta = f"{tr('today.overdue')}  ·  {meta}"
        if job.get("summary"):
            meta += f"  ·  {job['summary']}"
        self._text(painter, base, 16, False, theme.MUTED, mid.translated(0, 34), meta)
        self._text(painter, base, 16, False, theme.MUTED, mid.translated(0, 62),
                   job.get("customer_address") or "")
        # Status chip and a chevron telling the finger this row opens.
        chip = QRect(card.right() - status_width - 40, card.center().y() - 17, status_width, 34)
        self._badge(painter, base, chip, tr(f"status.{job['status']}"),
                    theme.status_colour(job["status"]), align_right=True)
        self._text(painter, base, 28, False, "#9aa5b1",
                   QRect(card.right() - 36, card.top(), 24, card.height()), "›")
        painter.restore()

    @staticmethod
    def _card(painter: QPainter, rect: QRect, job: dict[str, Any], pressed: bool) -> None:
        path = QPainterPath()
        path.addRoundedRect(rect, 12, 12)
        painter.setPen(QPen(QColor(theme.BORDER), 1))
        painter.fillPath(path, QColor("#e3ecf7" if pressed else theme.SURFACE))
        painter.drawPath(path)
        stripe = QPainterPath()
        stripe.addRoundedRect(rect.left(), rect.top(), 8, rect.height(), 4, 4)
        painter.fillPath(stripe, theme.priority_colour(job["priority"]))

    @staticmethod
    def _text(painter: QPainter, base: QFont, px: int, bold: bool, colour: str, rect: QRect,
              text: str) -> None:
        font = QFont(base)
        font.setPixelSize(px)
        font.setBold(bold)
        painter.setFont(font)
        painter.setPen(QColor(colour))
        elided = QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         elided)

    @staticmethod
    def _badge(painter: QPainter, base: QFont, rect: QRect, text: str, colour: QColor,
               align_right: bool = False) -> None:
        font = QFont(base)
        font.setPixelSize(16)
        font.setBold(True)
        painter.setFont(font)
        width = QFontMetrics(font).horizontalAdvance(text) + 24
        x = rect.right() - width if align_right else rect.left()
        box = QRect(x, rect.top(), width, rect.height())
        path = QPainterPath()
        path.addRoundedRect(box, 7, 7)
        painter.fillPath(path, colour)
        painter.setPen(QColor("white"))
        painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text)

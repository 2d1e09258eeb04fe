"""用气趋势: a bar per month for the last 24 months, drawn with QPainter.

QtCharts is not in PySide6-Essentials and matplotlib would add ~40 MB to the tablet build
for one chart; 24 bars with a scale and month labels are a short paint routine."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from fieldapp.ui import theme

BAR = "#42a5f5"
BAR_RECENT = "#1565c0"  # the last 12 months stand out from the year before


class UsageChart(QWidget):
    def __init__(self, months: list[tuple[str, float | None]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("usageChart")
        self.months = months
        self.setMinimumHeight(200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(520, 210)

    def scale_top(self) -> float:
        """The scale's top: the largest month rounded up to a round number."""
        top = max((v for _, v in self.months if v is not None), default=0.0)
        step = 10 if top <= 100 else 50 if top <= 500 else 100
        return max(step, -(-top // step) * step)

    def paintEvent(self, event) -> None:  # noqa: N802, ANN001 (Qt's name and type)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(self.font())
        font.setPixelSize(13)
        painter.setFont(font)
        left, right, top, bottom = 44, 8, 10, 26
        plot = QRectF(left, top, self.width() - left - right, self.height() - top - bottom)
        scale = self.scale_top()
        painter.setPen(QPen(QColor(theme.BORDER), 1))
        for i in range(3):  # 0, half, top
            y = plot.bottom() - plot.height() * i / 2
            painter.drawLine(int(plot.left()), int(y), int(plot.right()), int(y))
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(QRectF(0, y - 9, left - 6, 18),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             f"{scale * i / 2:g}")
            painter.setPen(QPen(QColor(theme.BORDER), 1))
        n = max(len(self.months), 1)
        slot = plot.width() / n
        for i, (month, value) in enumerate(self.months):
            x = plot.left() + i * slot
            if value is not None and value > 0:
                h = plot.height() * value / scale
                colour = BAR_RECENT if i >= n - 12 else BAR
                painter.fillRect(QRectF(x + slot * 0.15, plot.bottom() - h, slot * 0.7, h),
                                 QColor(colour))
            if month.endswith(("-01", "-04", "-07", "-10")):
                painter.setPen(QColor(theme.MUTED))
                painter.drawText(QRectF(x - slot, plot.bottom() + 4, slot * 3, 18),
                                 Qt.AlignmentFlag.AlignHCenter, _short(month))
        painter.end()


def _short(month: str) -> str:
    year, mm = month.split("-")
    return f"{year[2:]}/{int(mm)}"

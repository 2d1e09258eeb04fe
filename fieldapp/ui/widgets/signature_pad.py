"""A signature pad for finger, pen and mouse that keeps the strokes, not just the picture.

Each stroke is a list of points ``[x, y, t_ms, pressure]``: position in pad pixels, time in
milliseconds since the first touch of the signature, and pressure 0..1 (0.5 when the input
has none). Timing and pressure make a stronger record than the image alone, and the core
renders the PNG from exactly these points.
"""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QTabletEvent,
    QTouchEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

Point = list[float]
Stroke = list[Point]

DEFAULT_PRESSURE = 0.5
MIN_STEP_PX = 1.0  # closer points add nothing but noise and size
INK = QColor("#10233f")


def _width(pressure: float) -> float:
    return 1.6 + 4.0 * pressure


class SignaturePad(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("signaturePad")
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(240)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self._strokes: list[Stroke] = []
        self._current: Stroke | None = None
        self._clock = QElapsedTimer()
        self._hint = ""

    # -- public API -------------------------------------------------------------------------
    def strokes(self) -> list[Stroke]:
        """A copy of the finished strokes, ready for ``Evidence.add_signature``."""
        return [[list(p) for p in stroke] for stroke in self._strokes]

    def is_empty(self) -> bool:
        return not any(len(s) >= 2 for s in self._strokes)

    def clear(self) -> None:
        self._strokes.clear()
        self._current = None
        self._clock.invalidate()
        self.update()
        self.changed.emit()

    def undo(self) -> None:
        if self._strokes:
            self._strokes.pop()
            self.update()
            self.changed.emit()

    def set_hint(self, text: str) -> None:
        self._hint = text
        self.update()

    # -- recording ----------------------------------------------------------------------------
    def _point(self, pos: QPointF, pressure: float | None) -> Point:
        if not self._clock.isValid():
            self._clock.start()
        p = DEFAULT_PRESSURE if pressure is None or pressure <= 0 else min(pressure, 1.0)
        return [round(pos.x(), 1), round(pos.y(), 1), float(self._clock.elapsed()), round(p, 3)]

    def _begin(self, pos: QPointF, pressure: float | None) -> None:
        self._current = [self._point(pos, pressure)]
        self._strokes.append(self._current)
        self.update()

    def _extend(self, pos: QPointF, pressure: float | None) -> None:
        if self._current is None:
            return
        last = self._current[-1]
        if abs(pos.x() - last[0]) + abs(pos.y() - last[1]) < MIN_STEP_PX:
            return
        self._current.append(self._point(pos, pressure))
        self.update()

    def _end(self, pos: QPointF | None = None, pressure: float | None = None) -> None:
        if self._current is None:
            return
        if pos is not None:
            self._extend(pos, pressure)
        if len(self._current) < 2:
            # A tap is a dot: keep it drawable and valid by doubling the point.
            self._current.append([*self._current[0][:2], self._current[0][2] + 1,
                                  self._current[0][3]])
        self._current = None
        self.update()
        self.changed.emit()

    # -- input events -------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._begin(event.position(), None)
            event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        # Follow the stroke we started rather than event.buttons(), which synthetic or
        # remote-desktop events do not always fill in.
        self._extend(event.position(), None)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._end(event.position())
            event.accept()

    def tabletEvent(self, event: QTabletEvent) -> None:
        # Accepting the pen event stops Qt from also sending the synthesized mouse event.
        kind = event.type()
        if kind == QEvent.Type.TabletPress:
            self._begin(event.position(), event.pressure())
        elif kind == QEvent.Type.TabletMove:
            self._extend(event.position(), event.pressure())
        elif kind == QEvent.Type.TabletRelease:
            self._end(event.position(), event.pressure())
        event.accept()

    def event(self, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd,
                    QEvent.Type.TouchCancel):
            assert isinstance(event, QTouchEvent)
            points = event.points()
            if not points:
                return True
            # One finger writes; a second finger resting on the glass is ignored.
            point = points[0]
            if kind == QEvent.Type.TouchBegin:
                self._begin(point.position(), point.pressure())
            elif kind == QEvent.Type.TouchUpdate:
                self._extend(point.position(), point.pressure())
            else:
                self._end(point.position() if kind == QEvent.Type.TouchEnd else None)
            event.accept()
            return True
        return super().event(event)

    # -- drawing ------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        # The widget paints every pixel (opaque), the corners outside the rounded frame too.
        painter.fillRect(self.rect(), QColor("#ffffff"))
        rect = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        frame = QPainterPath()
        frame.addRoundedRect(rect, 12, 12)
        painter.fillPath(frame, QColor("#ffffff"))
        painter.setPen(QPen(QColor("#b0bec5"), 2, Qt.PenStyle.DashLine))
        painter.drawPath(frame)
        baseline = rect.bottom() - rect.height() * 0.28
        painter.setPen(QPen(QColor("#cfd8dc"), 2))
        painter.drawLine(QPointF(rect.left() + 40, baseline), QPointF(rect.right() - 40, baseline))
        painter.setPen(QPen(QColor("#90a4ae"), 2))
        font = painter.font()
        font.setPixelSize(30)
        painter.setFont(font)
        painter.drawText(QPointF(rect.left() + 36, baseline - 10), "×")
        if not self._strokes and self._hint:
            font.setPixelSize(22)
            painter.setFont(font)
            painter.setPen(QColor("#9aa7b2"))
            painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), self._hint)
        for stroke in self._strokes:
            self._draw_stroke(painter, stroke)
        painter.end()

    @staticmethod
    def _draw_stroke(painter: QPainter, stroke: Stroke) -> None:
        """Quadratic curves through the midpoints: smooth lines even from sparse samples."""
        pts = [QPointF(p[0], p[1]) for p in stroke]
        pressures = [p[3] if len(p) > 3 else DEFAULT_PRESSURE for p in stroke]
        if len(pts) < 3:
            painter.setPen(QPen(INK, _width(pressures[0]), Qt.PenStyle.SolidLine,
                                Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
            painter.drawLine(pts[0], pts[-1])
            return
        start = pts[0]
        for i in range(1, len(pts) - 1):
            mid = (pts[i] + pts[i + 1]) / 2
            path = QPainterPath(start)
            path.quadTo(pts[i], mid)
            painter.setPen(QPen(INK, _width(pressures[i]), Qt.PenStyle.SolidLine,
                                Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
            painter.drawPath(path)
            start = mid
        painter.drawLine(start, pts[-1])

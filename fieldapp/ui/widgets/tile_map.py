"""A map drawn by the app itself: the offline basemap's tiles (``fieldapp.basemap``) under
the gas network, the route, the jobs and the technician's position.

A native view rather than a web page: it opens no socket and loads nothing from anywhere
but the basemap file (raster tiles as they are, vector ones drawn by ``basemap.vector``),
and needs no QtWebEngine (which would add a browser to the frozen build). One finger drags,
two pinch, a tap on a job opens it; the mouse wheel, the arrow keys and + / − work too.
Zoom is continuous; tiles past the file's deepest zoom are drawn enlarged from it.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QPolygonF,
    QTouchEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from fieldapp.basemap.mercator import TILE, lonlat, metres_per_pixel, world
from fieldapp.basemap.tiles import Basemap

LonLat = tuple[float, float]
MIN_ZOOM, MAX_ZOOM = 3.0, 19.0
TAP_SLOP = 10  # px a finger may move and still tap
HIT = 26  # px around a job's dot a tap still hits (a gloved finger)
KEPT_TILES = 160  # decoded tiles kept (256 KB each): a few screens' worth of panning
LAND = QColor("#eef0ea")
# The mains run under the streets: drawn thin and see-through, so the street shows.
PIPE, SERVICE = QColor(208, 135, 0, 190), QColor(224, 180, 92, 190)
VALVE, VALVE_SHUT = QColor("#2c5aa0"), QColor("#d93025")
ROUTE, ME = QColor("#1f6feb"), QColor("#0b57d0")


@dataclass(frozen=True)
class MapJob:
    id: str
    lon: float
    lat: float
    colour: str
    number: int | None  # its place in the route
    emergency: bool = False


@dataclass(frozen=True)
class MapValve:
    id: str
    lon: float
    lat: float
    shut: bool


class TileMap(QWidget):
    job_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.basemap: Basemap | None = None
        self.zoom = 15.0
        self.centre = world(118.8, 32.05, 0)  # world pixels at zoom 0
        self.jobs: list[MapJob] = []
        self.route: list[LonLat] = []
        self.pipes: list[tuple[list[LonLat], bool]] = []  # line, a service line?
        self.valves: list[MapValve] = []
        self.me: tuple[float, float, float | None] | None = None  # lon, lat, accuracy m
        self.show_network = True
        self._tiles: OrderedDict[tuple[int, int, int], QPixmap | None] = OrderedDict()
        self.tiles_drawn = 0  # of the last paint: for tests and the legend
        self._press: QPointF | None = None
        self._last: QPointF | None = None
        self._moved = False
        self._pinch: tuple[float, float] | None = None  # finger distance and zoom at start
        self.setMinimumSize(320, 240)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
        self.setObjectName("tileMap")

    # -- what is shown ------------------------------------------------------------------------
    def set_basemap(self, basemap: Basemap | None) -> None:
        if self.basemap is not None and self.basemap is not basemap:
            self.basemap.close()
        self.basemap = basemap
        self._tiles.clear()
        self.update()

    def set_layers(self, *, jobs: Sequence[MapJob] = (), route: Sequence[LonLat] = (),
                   pipes: Sequence[tuple[list[LonLat], bool]] = (),
                   valves: Sequence[MapValve] = (),
                   me: tuple[float, float, float | None] | None = None) -> None:
        self.jobs, self.route, self.pipes = list(jobs), list(route), list(pipes)
        self.valves, self.me = list(valves), me
        self.update()

    def fit(self, points: Sequence[LonLat] | None = None) -> None:
        """Show every job and the technician (or ``points``), as close as they allow."""
        if points is None:
            points = [(j.lon, j.lat) for j in self.jobs] + ([self.me[:2]] if self.me else [])
        if not points and self.basemap is not None:
            w, s, e, n = self.basemap.bounds
            points = [(w, s), (e, n)]
        if not points:
            return
        xs, ys = zip(*(world(lon, lat, 0) for lon, lat in points), strict=True)
        self.centre = ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
        span = max((max(xs) - min(xs)) / max(1, self.width() - 80),
                   (max(ys) - min(ys)) / max(1, self.height() - 80), 1e-9)
        self.set_zoom(min(17.0, math.log2(1 / span)))

    def centre_on(self, lon: float, lat: float, zoom: float | None = None) -> None:
        self.centre = world(lon, lat, 0)
        if zoom is not None:
            self.zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        self.update()

    def set_zoom(self, zoom: float, about: QPointF | None = None) -> None:
        """Zoom keeping the ground under ``about`` (the widget's middle when not given)."""
        zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        if about is not None:
            before = self._ground(about)
            self.zoom = zoom
            after = self._ground(about)
            self.centre = (self.centre[0] + before[0] - after[0],
                           self.centre[1] + before[1] - after[1])
        self.zoom = zoom
        self.update()

    def screen(self, lon: float, lat: float) -> QPointF:
        x, y = world(lon, lat, 0)
        k = 2.0 ** self.zoom
        return QPointF((x - self.centre[0]) * k + self.width() / 2,
                       (y - self.centre[1]) * k + self.height() / 2)

    def job_at(self, point: QPointF) -> str | None:
        best: tuple[float, str] | None = None
        for job in self.jobs:
            p = self.screen(job.lon, job.lat)
            d = math.hypot(p.x() - point.x(), p.y() - point.y())
            if d <= HIT and (best is None or d < best[0]):
                best = (d, job.id)
        return best[1] if best else None

    def _ground(self, point: QPointF) -> tuple[float, float]:
        k = 2.0 ** self.zoom
        return (self.centre[0] + (point.x() - self.width() / 2) / k,
                self.centre[1] + (point.y() - self.height() / 2) / k)

    def pan(self, dx: float, dy: float) -> None:
        k = 2.0 ** self.zoom
        self.centre = (self.centre[0] - dx / k, self.centre[1] - dy / k)
        self.update()

    # -- drawing ------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), LAND)
        self.tiles_drawn = self._draw_tiles(p)
        self._draw_network(p)
        self._draw_route(p)
        self._draw_jobs(p)
        self._draw_me(p)
        self._draw_scale(p)
        p.end()

    def _draw_tiles(self, p: QPainter) -> int:
        basemap = self.basemap
        if basemap is None or self.zoom < basemap.min_zoom - 2:
            return 0
        tz = int(max(basemap.min_zoom, min(basemap.max_zoom, round(self.zoom))))
        size = TILE * 2.0 ** (self.zoom - tz)  # a tile's side on screen
        left, top = self._ground(QPointF(0, 0))
        k = 2.0 ** tz
        x0, y0 = int(left * k // TILE), int(top * k // TILE)
        cols, rows = int(self.width() / size) + 2, int(self.height() / size) + 2
        ox = (x0 * TILE / k - self.centre[0]) * 2.0 ** self.zoom + self.width() / 2
        oy = (y0 * TILE / k - self.centre[1]) * 2.0 ** self.zoom + self.height() / 2
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        drawn = 0
        for i in range(cols):
            for j in range(rows):
                pixmap = self._tile(tz, x0 + i, y0 + j)
                if pixmap is not None:
                    p.drawPixmap(QRectF(ox + i * size, oy + j * size, size + 0.5, size + 0.5),
                                 pixmap, QRectF(pixmap.rect()))
                    drawn += 1
        return drawn

    def _tile(self, z: int, x: int, y: int) -> QPixmap | None:
        key = (z, x, y)
        if key in self._tiles:
            self._tiles.move_to_end(key)
            return self._tiles[key]
        data = self.basemap.image(z, x, y) if self.basemap is not None else None
        pixmap: QPixmap | None = None
        if data:
            pixmap = QPixmap()
            if not pixmap.loadFromData(data):
                pixmap = None  # a damaged tile: the land colour shows through
        self._tiles[key] = pixmap
        while len(self._tiles) > KEPT_TILES:
            self._tiles.popitem(last=False)
        return pixmap

    def _line(self, line: Sequence[LonLat]) -> QPolygonF:
        # A polygon, not a QPainterPath: PySide6 6.12's QPainterPath.lineTo drops a
        # reference to None each call, and a long network takes the interpreter down.
        return QPolygonF([self.screen(lon, lat) for lon, lat in line])

    def _draw_network(self, p: QPainter) -> None:
        if not self.show_network or self.zoom < 13:
            return  # a city's mains at this scale are a smear
        for line, service in self.pipes:
            if service and self.zoom < 16:
                continue
            p.setPen(QPen(SERVICE if service else PIPE, 1.2 if service else 2.0))
            p.drawPolyline(self._line(line))
        for v in self.valves if self.zoom >= 15 else ():
            pt = self.screen(v.lon, v.lat)
            p.setPen(QPen(QColor("white"), 1.5))
            p.setBrush(VALVE_SHUT if v.shut else VALVE)
            p.drawRect(QRectF(pt.x() - 4.5, pt.y() - 4.5, 9, 9))
        p.setBrush(Qt.BrushStyle.NoBrush)

    def _draw_route(self, p: QPainter) -> None:
        if len(self.route) >= 2:
            pen = QPen(ROUTE, 3.0, Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.drawPolyline(self._line(self.route))

    def _draw_jobs(self, p: QPainter) -> None:
        font = QFont(self.font())
        font.setBold(True)
        font.setPixelSize(13)
        p.setFont(font)
        for job in sorted(self.jobs, key=lambda j: -(j.number or 0)):  # the first on top
            pt = self.screen(job.lon, job.lat)
            if job.emergency:
                p.setPen(QPen(QColor("#d93025"), 3))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawEllipse(pt, 19, 19)
            p.setPen(QPen(QColor("white"), 2))
            p.setBrush(QBrush(QColor(job.colour)))
            p.drawEllipse(pt, 14, 14)
            if job.number is not None:
                p.setPen(QColor("white"))
                p.drawText(QRectF(pt.x() - 14, pt.y() - 14, 28, 28),
                           Qt.AlignmentFlag.AlignCenter, str(job.number))

    def _draw_me(self, p: QPainter) -> None:
        if self.me is None:
            return
        lon, lat, accuracy = self.me
        pt = self.screen(lon, lat)
        if accuracy:
            r = accuracy / metres_per_pixel(lat, self.zoom)
            p.setPen(QPen(ME, 1))
            p.setBrush(QColor(11, 87, 208, 40))
            p.drawEllipse(pt, r, r)
        p.setPen(QPen(QColor("white"), 3))
        p.setBrush(ME)
        p.drawEllipse(pt, 8, 8)

    def _draw_scale(self, p: QPainter) -> None:
        lat = lonlat(*self.centre, 0)[1]
        per_px = metres_per_pixel(lat, self.zoom)
        metres = next(m for m in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000,
                                  50000, 100000, 200000, 500000, 1e6, 2e6, 5e6)
                      if m / per_px >= 60)
        width = metres / per_px
        y = self.height() - 14
        p.setPen(QPen(QColor("#222"), 2))
        p.drawLine(QPointF(12, y), QPointF(12 + width, y))
        text = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
        p.drawText(QPointF(14, y - 5), text)
        if self.basemap is not None and self.basemap.attribution:
            p.drawText(QRectF(0, y - 14, self.width() - 8, 18),
                       Qt.AlignmentFlag.AlignRight, self.basemap.attribution)

    # -- fingers, mouse and keys --------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._press = self._last = event.position()
        self._moved = False

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._last is not None:
            self._drag(event.position())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._release(event.position())

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.set_zoom(self.zoom + event.angleDelta().y() / 480, event.position())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        step = {Qt.Key.Key_Left: (80, 0), Qt.Key.Key_Right: (-80, 0),
                Qt.Key.Key_Up: (0, 80), Qt.Key.Key_Down: (0, -80)}.get(Qt.Key(event.key()))
        if step:
            self.pan(*step)
        elif event.key() in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.set_zoom(self.zoom + 1)
        elif event.key() == Qt.Key.Key_Minus:
            self.set_zoom(self.zoom - 1)
        elif event.key() == Qt.Key.Key_Home:
            self.fit()
        else:
            super().keyPressEvent(event)

    def event(self, event: QEvent) -> bool:
        if isinstance(event, QTouchEvent):
            self._touch(event)
            return True
        return super().event(event)

    def _touch(self, event: QTouchEvent) -> None:
        points = [tp.position() for tp in event.points()]
        kind = event.type()
        if kind == QEvent.Type.TouchBegin and points:
            self._press = self._last = points[0]
            self._moved, self._pinch = False, None
        elif kind == QEvent.Type.TouchUpdate and len(points) >= 2:
            a, b = points[0], points[1]
            apart = max(1.0, math.hypot(a.x() - b.x(), a.y() - b.y()))
            if self._pinch is None:
                self._pinch = (apart, self.zoom)
            self._moved = True
            self.set_zoom(self._pinch[1] + math.log2(apart / self._pinch[0]),
                          QPointF((a.x() + b.x()) / 2, (a.y() + b.y()) / 2))
        elif kind == QEvent.Type.TouchUpdate and points and self._pinch is None:
            self._drag(points[0])
        elif kind in (QEvent.Type.TouchEnd, QEvent.Type.TouchCancel):
            if kind == QEvent.Type.TouchEnd and points and self._pinch is None:
                self._release(points[0])
            self._press = self._last = self._pinch = None

    def _drag(self, at: QPointF) -> None:
        if self._press is None or self._last is None:
            return
        if math.hypot(at.x() - self._press.x(), at.y() - self._press.y()) > TAP_SLOP:
            self._moved = True
        if self._moved:
            self.pan(at.x() - self._last.x(), at.y() - self._last.y())
        self._last = at

    def _release(self, at: QPointF) -> None:
        tapped = self._press is not None and not self._moved
        self._press = self._last = None
        if tapped:
            job = self.job_at(at)
            if job is not None:
                self.job_clicked.emit(job)

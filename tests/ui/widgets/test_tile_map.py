"""The app's own map view: each tile drawn where Web Mercator puts it (checked pixel by pixel
on tiles whose colour names them), enlarged past the file's deepest zoom, a damaged tile
left blank; one finger drags, two pinch, a tap on a job opens it; keys and the wheel zoom;
and no socket is opened while it draws."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from fieldapp.basemap import vector
from fieldapp.basemap.mercator import lonlat, tile_of
from fieldapp.basemap.tiles import open_basemap
from fieldapp.basemap.write import write_pmtiles
from fieldapp.ui.widgets.tile_map import LAND, MapJob, TileMap
from tests.basemap.basemaps import (
    AREA,
    colour,
    coloured_tiles,
    pmtiles_file,
    rgb,
    vector_tiles,
)

HERE = (118.80, 32.02)
PLACES = [(118.797, 32.018), (118.803, 32.022), (118.7995, 32.0213), (118.8012, 32.0185)]


@pytest.fixture
def view(qtbot: QtBot, tmp_path: Path) -> Iterator[TileMap]:
    widget = TileMap()
    qtbot.addWidget(widget)
    widget.resize(640, 480)
    widget.set_basemap(open_basemap(pmtiles_file(tmp_path / "t.pmtiles")))
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.set_basemap(None)


def shot(widget: TileMap) -> QImage:
    return widget.grab().toImage()


def rgb_at(image: QImage, point: QPointF) -> tuple[int, int, int]:
    c = image.pixelColor(int(point.x()), int(point.y()))
    return c.red(), c.green(), c.blue()


def test_each_tile_is_drawn_where_web_mercator_puts_it(view: TileMap) -> None:
    for zoom in (14.0, 15.0, 15.4, 16.0):
        view.centre_on(*HERE, zoom)
        image = shot(view)
        tz = round(zoom)
        for lon, lat in PLACES:
            assert rgb_at(image, view.screen(lon, lat)) == colour(tz, *tile_of(lon, lat, tz))
        assert view.tiles_drawn >= 4


def test_past_the_deepest_zoom_the_deepest_tiles_are_enlarged(view: TileMap) -> None:
    view.centre_on(*HERE, 18.5)
    image = shot(view)
    assert rgb_at(image, view.screen(*HERE)) == colour(16, *tile_of(*HERE, 16))


def test_a_damaged_tile_leaves_the_land_showing(qtbot: QtBot, tmp_path: Path) -> None:
    bad = tile_of(118.808, 32.028, 16)
    tiles = [(z, x, y, b"\x89PNG\r\n\x1a\n but then nothing" if (z, x, y) == (16, *bad)
              else data) for z, x, y, data in coloured_tiles()]
    widget = TileMap()
    qtbot.addWidget(widget)
    widget.resize(640, 480)
    widget.set_basemap(open_basemap(write_pmtiles(tmp_path / "d.pmtiles", tiles, bounds=AREA,
                                                  name="d")))
    widget.centre_on(118.808, 32.028, 16)
    image = shot(widget)
    assert rgb_at(image, widget.screen(118.808, 32.028)) == (LAND.red(), LAND.green(),
                                                            LAND.blue())
    widget.set_basemap(None)


def test_a_tap_on_a_job_opens_it_and_a_drag_moves_the_ground_with_the_finger(
        qtbot: QtBot, view: TileMap) -> None:
    view.set_layers(jobs=[MapJob("job-a", *PLACES[0], "#12939a", 1),
                          MapJob("job-b", *PLACES[1], "#9334e6", 2)])
    view.centre_on(*HERE, 15)
    at = view.screen(*PLACES[1]).toPoint()
    with qtbot.waitSignal(view.job_clicked) as clicked:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=at + QPoint(8, 6))  # a fingertip off
    assert clicked.args == ["job-b"]
    opened: list[str] = []
    view.job_clicked.connect(opened.append)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))  # the land: nothing
    start = view.screen(*PLACES[0])
    QTest.mousePress(view, Qt.MouseButton.LeftButton, pos=at)
    for step in range(1, 11):
        QTest.mouseMove(view, at + QPoint(10 * step, -4 * step))
    QTest.mouseRelease(view, Qt.MouseButton.LeftButton, pos=at + QPoint(100, -40))
    moved = view.screen(*PLACES[0])
    assert (moved.x() - start.x(), moved.y() - start.y()) == pytest.approx((100, -40), abs=1)
    assert opened == []  # a drag that began on a job does not open it


def test_two_fingers_pinch_about_their_middle(qtbot: QtBot, view: TileMap) -> None:
    view.centre_on(*HERE, 15)
    device = QTest.createTouchDevice()
    view.centre_on(118.805, 32.025, 15)  # the fingers well off the widget's middle
    middle = view.screen(*PLACES[2]).toPoint()
    a, b = middle - QPoint(40, 0), middle + QPoint(40, 0)
    QTest.touchEvent(view, device).press(0, a).press(1, b).commit()
    QTest.touchEvent(view, device).move(0, a).move(1, b).commit()
    QTest.touchEvent(view, device).move(0, a - QPoint(40, 0)).move(1, b + QPoint(40, 0)).commit()
    QTest.touchEvent(view, device).release(0, a - QPoint(40, 0)).release(
        1, b + QPoint(40, 0)).commit()
    assert view.zoom == pytest.approx(16.0, abs=0.01)  # the fingers twice as far apart
    # The ground between the fingers stays between them (give or take the pixel or two
    # QTest's touch points are placed off by); zoomed about the widget's middle it would
    # have moved by tens of pixels.
    after = view.screen(*PLACES[2])
    assert abs(after.x() - middle.x()) < 5 and abs(after.y() - middle.y()) < 5


def test_one_finger_drags_and_a_tap_opens(qtbot: QtBot, view: TileMap) -> None:
    view.set_layers(jobs=[MapJob("job-a", *PLACES[0], "#12939a", 1)])
    view.centre_on(*HERE, 15)
    device = QTest.createTouchDevice()
    at = view.screen(*PLACES[0]).toPoint()
    with qtbot.waitSignal(view.job_clicked) as clicked:
        QTest.touchEvent(view, device).press(0, at).commit()
        QTest.touchEvent(view, device).release(0, at).commit()
    assert clicked.args == ["job-a"]
    QTest.touchEvent(view, device).press(0, at).commit()
    QTest.touchEvent(view, device).move(0, at + QPoint(60, 30)).commit()
    QTest.touchEvent(view, device).release(0, at + QPoint(60, 30)).commit()
    moved = view.screen(*PLACES[0])
    assert (moved.x() - at.x(), moved.y() - at.y()) == pytest.approx((60, 30), abs=1.5)


def test_keys_and_the_wheel_zoom_and_pan(qtbot: QtBot, view: TileMap) -> None:
    view.centre_on(*HERE, 15)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Plus)
    assert view.zoom == 16
    qtbot.keyClick(view, Qt.Key.Key_Minus)
    qtbot.keyClick(view, Qt.Key.Key_Minus)
    assert view.zoom == 14
    before = view.screen(*HERE)
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert view.screen(*HERE).x() == pytest.approx(before.x() + 80)
    centre = QPointF(320, 240)
    wheel = QWheelEvent(centre, view.mapToGlobal(centre), QPoint(), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view, wheel)
    assert view.zoom == pytest.approx(14.25)
    view.set_layers(jobs=[MapJob("a", *PLACES[0], "#000000", 1),
                          MapJob("b", *PLACES[1], "#000000", 2)])
    qtbot.keyClick(view, Qt.Key.Key_Home)  # every job in view
    for lon, lat in PLACES[:2]:
        p = view.screen(lon, lat)
        assert 0 < p.x() < view.width() and 0 < p.y() < view.height()


def test_drawing_opens_no_socket(monkeypatch: pytest.MonkeyPatch, view: TileMap) -> None:
    def refuse(*_args: object) -> None:
        raise AssertionError("the map tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    for zoom in (13.0, 15.0, 17.5):
        view.centre_on(*HERE, zoom)
        shot(view)
    assert view.tiles_drawn > 0


def test_a_vector_basemap_is_drawn_from_its_vector_tiles(qtbot: QtBot, tmp_path: Path) -> None:
    widget = TileMap()
    qtbot.addWidget(widget)
    widget.resize(640, 480)
    widget.set_basemap(open_basemap(write_pmtiles(tmp_path / "v.pmtiles", vector_tiles(),
                                                  bounds=AREA, name="v", image="pbf")))
    widget.centre_on(*HERE, 15)
    x, y = tile_of(*HERE, 15)
    in_water = lonlat(x * 256 + 60, y * 256 + 60, 15)  # the tiles' left halves are water
    on_land = lonlat(x * 256 + 180, y * 256 + 100, 15)
    image = shot(widget)
    assert rgb_at(image, widget.screen(*in_water)) == rgb(vector.WATER)
    assert rgb_at(image, widget.screen(*on_land)) == rgb(vector.LAND)
    widget.set_basemap(None)


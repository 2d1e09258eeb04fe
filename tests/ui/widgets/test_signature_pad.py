"""The signature pad records [x, y, t_ms, pressure] from mouse, pen and touch."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QPointingDevice, QTabletEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from fieldapp.capture.signature import render_png
from fieldapp.ui.widgets.signature_pad import DEFAULT_PRESSURE, SignaturePad


def _pad(qtbot: QtBot) -> SignaturePad:
    pad = SignaturePad()
    pad.resize(600, 260)
    qtbot.addWidget(pad)
    pad.show()
    qtbot.waitExposed(pad)
    return pad


def _stroke(qtbot: QtBot, pad: SignaturePad, y: int) -> None:
    qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(20, y))
    for x in range(40, 200, 20):
        qtbot.mouseMove(pad, QPoint(x, y + x // 10))
    qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(220, y))


def test_mouse_strokes_are_points_with_time_and_pressure(qtbot: QtBot) -> None:
    pad = _pad(qtbot)
    with qtbot.waitSignal(pad.changed):
        _stroke(qtbot, pad, 60)
    (stroke,) = pad.strokes()
    assert stroke[0][:2] == [20.0, 60.0] and stroke[-1][:2] == [220.0, 60.0]
    times = [p[2] for p in stroke]
    assert times == sorted(times) and times[0] >= 0
    assert {p[3] for p in stroke} == {DEFAULT_PRESSURE}
    assert render_png(pad.strokes()).startswith(b"\x89PNG")


def test_undo_removes_the_last_stroke_and_clear_everything(qtbot: QtBot) -> None:
    pad = _pad(qtbot)
    _stroke(qtbot, pad, 60)
    _stroke(qtbot, pad, 140)
    assert len(pad.strokes()) == 2
    pad.undo()
    assert len(pad.strokes()) == 1 and pad.strokes()[0][0][1] == 60.0
    pad.clear()
    assert pad.strokes() == [] and pad.is_empty()


def test_a_tap_is_a_dot_not_an_empty_stroke(qtbot: QtBot) -> None:
    pad = _pad(qtbot)
    qtbot.mouseClick(pad, Qt.MouseButton.LeftButton, pos=QPoint(50, 50))
    (dot,) = pad.strokes()
    assert len(dot) == 2 and dot[0][:2] == dot[1][:2]


def test_pen_pressure_is_recorded(qtbot: QtBot) -> None:
    pad = _pad(qtbot)
    device = QPointingDevice.primaryPointingDevice()

    def pen(kind: QTabletEvent.Type, x: float, pressure: float) -> None:
        pos = QPointF(x, 80)
        event = QTabletEvent(kind, device, pos, pad.mapToGlobal(pos), pressure, 0, 0, 0, 0, 0,
                             Qt.KeyboardModifier.NoModifier, Qt.MouseButton.LeftButton,
                             Qt.MouseButton.LeftButton)
        QApplication.sendEvent(pad, event)

    pen(QTabletEvent.Type.TabletPress, 30, 0.2)
    pen(QTabletEvent.Type.TabletMove, 60, 0.6)
    pen(QTabletEvent.Type.TabletMove, 90, 0.9)
    pen(QTabletEvent.Type.TabletRelease, 120, 0.4)
    (stroke,) = pad.strokes()
    assert [p[3] for p in stroke] == [0.2, 0.6, 0.9, 0.4]


def test_a_finger_writes_too(qtbot: QtBot) -> None:
    from PySide6.QtTest import QTest

    pad = _pad(qtbot)
    finger = QTest.createTouchDevice()
    QTest.touchEvent(pad, finger).press(0, QPoint(30, 100), pad).commit()
    for x in (60, 90, 120):
        QTest.touchEvent(pad, finger).move(0, QPoint(x, 110), pad).commit()
    QTest.touchEvent(pad, finger).release(0, QPoint(150, 120), pad).commit()
    (stroke,) = pad.strokes()
    assert [p[:2] for p in stroke] == [[30, 100], [60, 110], [90, 110], [120, 110], [150, 120]]

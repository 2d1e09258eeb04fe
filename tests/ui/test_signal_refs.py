"""Signals emitted and disconnected from Python leave the references to True and False as
they were: with this PySide each ``emit()`` took one away, and a few thousand emits
aborted the process (``Fatal Python error: bool_dealloc``), or it aborted at exit. Run in
a fresh interpreter each, since the failure is an abort."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

SIGNALS = """
import sys, warnings
import fieldapp.ui
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QPushButton

class Source(QObject):
    plain = Signal()
    flag = Signal(bool)

app = QApplication([])
source, button, got = Source(), QPushButton(), []
source.flag.connect(got.append)
before = sys.getrefcount(True), sys.getrefcount(False)
for _ in range(20_000):  # several times the references to True this process holds
    source.plain.emit()
    source.flag.emit(False)
    button.clicked.emit()  # one of Qt's own signals, emitted from Python
def slot():
    pass
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # disconnecting what is not connected warns
    for _ in range(5_000):
        source.plain.connect(slot)
        source.plain.disconnect(slot)  # True
        source.plain.disconnect(slot)  # False
del got[:]
print(*before, sys.getrefcount(True), sys.getrefcount(False))
"""

TABLET = """
import sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication([])
from fieldapp.replica import Replica
from fieldapp.ui.app import build_main_window
from fieldapp.ui.demo_seed import seed

data = Path(sys.argv[1])
replica = Replica.open(data)
seed(replica)
replica.close()
window = build_main_window(data, "http://127.0.0.1:9")
window.show()
app.processEvents()
before = sys.getrefcount(True)
for _ in range(20):  # results of background work handed to the UI thread, 10,000 of them
    for _ in range(500):
        window.ctx.tasks.run_on_main(lambda: None)
    app.processEvents()
after = sys.getrefcount(True)
window.shutdown()
window.close()
window.deleteLater()
app.processEvents()
print(before, after)
"""


def run(script: str, *args: str) -> list[int]:
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT),
                               "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Fatal Python error" not in done.stderr
    return [int(n) for n in done.stdout.split()]


def test_emits_and_disconnects_leave_true_and_false_their_references() -> None:
    true_before, false_before, true_after, false_after = run(SIGNALS)
    # A few references either way are the interpreter's own; 20,000 lost would be thousands.
    assert abs(true_after - true_before) < 50 and abs(false_after - false_before) < 50


def test_the_tablet_survives_ten_thousand_background_deliveries(tmp_path: Path) -> None:
    before, after = run(TABLET, str(tmp_path / "replica"))
    assert abs(after - before) < 50


PAINTING = """
import sys
import fieldapp.ui
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QApplication, QLabel

app = QApplication([])
image, label = QImage(64, 64, QImage.Format.Format_RGB32), QLabel()
painter, pen = QPainter(image), QPen(QColor("red"), 2)
before = sys.getrefcount(None)
for n in range(100_000):  # far more than the references to None this process holds
    painter.setPen(pen)
    painter.drawLine(QPointF(0, 0), QPointF(9, n % 64))
    label.setText("x")
painter.end()
print(before, sys.getrefcount(None))
"""


def test_a_hundred_thousand_void_qt_calls_leave_none_alive() -> None:
    # This PySide returns None from every method that returns nothing without its
    # reference: 300,000 such calls (a few minutes of panning a map of a district's mains)
    # took the interpreter down before None was pinned.
    _before, after = run(PAINTING)  # run() asserts the process ended without an abort
    assert after > 1 << 40  # more references than any run could lose (3.12: immortal)

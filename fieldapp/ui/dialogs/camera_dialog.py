"""The camera, live: 扫码 decodes every frame until a barcode is found; 拍照 keeps the frame
on screen as a photo (watermarked like any other once attached). Frames are read and
decoded on a worker thread, so the preview never waits for the decoder.

    dialog = CameraDialog(ctx, CameraDialog.SCAN)    # .code / .symbology once accepted
    dialog = CameraDialog(ctx, CameraDialog.PHOTO)   # .photo_path once accepted
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QMetaObject, QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from fieldapp.capture.camera import (
    CameraUnavailable,
    camera_from_config,
    decode_frame,
    guide_box,
)
from fieldapp.capture.camera import frame_jpeg as encode_jpeg
from fieldapp.ui.context import AppContext
from fieldapp.ui.i18n import tr
from fieldapp.ui.taskman import Task
from fieldapp.ui.widgets.controls import button, label

FRAME_MS = 66  # ~15 frames a second: smooth enough to aim, light on a tablet's CPU
SETTING = "camera.source"


class _Grabber(QObject):
    frame = Signal(object)  # numpy BGR frame
    decoded = Signal(str, str)  # code, symbology
    failed = Signal(str)  # a FieldAppError code

    def __init__(self, spec: str | None, scanning: bool) -> None:
        super().__init__()
        self.spec, self.scanning = spec, scanning
        self.source = None
        self.timer: QTimer | None = None

    @Slot()
    def start(self) -> None:
        try:
            self.source = camera_from_config(self.spec)
        except CameraUnavailable as exc:
            self.failed.emit(exc.code)
            return
        self.timer = QTimer()
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        frame = self.source.read() if self.source is not None else None
        if frame is None:
            return
        self.frame.emit(frame)
        if self.scanning:
            found = decode_frame(frame)
            if found:
                self.scanning = False
                self.decoded.emit(found[0].text, found[0].symbology)

    @Slot()
    def stop(self) -> None:
        if self.timer is not None:
            self.timer.stop()
            self.timer = None  # let go here, on the thread that made it
        if self.source is not None:
            self.source.close()
            self.source = None


class CameraDialog(QDialog):
    SCAN, PHOTO = "scan", "photo"
    FROM_FILE = 2  # done(): the user chose to pick a file instead

    def __init__(self, ctx: AppContext, mode: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.mode = ctx, mode
        self.code: str | None = None
        self.symbology: str | None = None
        self.photo_path: Path | None = None
        self.last_frame: np.ndarray | None = None
        self.setObjectName("page")
        self.setWindowTitle(tr(f"camera.title.{mode}"))
        self.setMinimumSize(900, 640)
        layout = QVBoxLayout(self)
        self.hint = label(tr(f"camera.hint.{mode}"), name="muted", wrap=True)
        layout.addWidget(self.hint)
        self.preview = QLabel()
        self.preview.setObjectName("cameraPreview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(640, 360)
        self.preview.setStyleSheet("background: #000; color: #fff;")
        layout.addWidget(self.preview, 1)
        row = QHBoxLayout()
        self.cancel = button(tr("camera.cancel"), name="cameraCancel")
        self.cancel.clicked.connect(self.reject)
        self.from_file = button(tr("camera.from_file"), name="cameraFromFile")
        self.from_file.clicked.connect(lambda: self.done(self.FROM_FILE))
        self.shutter = button(tr("camera.shutter"), role="primary", name="cameraShutter")
        self.shutter.setMinimumWidth(200)
        self.shutter.setEnabled(False)
        self.shutter.clicked.connect(self.take_photo)
        self.shutter.setVisible(mode == self.PHOTO)
        row.addWidget(self.cancel)
        row.addWidget(self.from_file)
        row.addStretch(1)
        row.addWidget(self.shutter)
        layout.addLayout(row)

        from fieldapp.ui import ops

        spec = self.ctx.run(ops.setting, key=SETTING)
        self._thread = QThread(self)
        self._thread.setObjectName("fieldapp-camera")
        self.grabber = _Grabber(spec, scanning=mode == self.SCAN)
        self.grabber.moveToThread(self._thread)
        self._thread.started.connect(self.grabber.start)
        self.grabber.frame.connect(self._show_frame)
        self.grabber.decoded.connect(self._decoded)
        self.grabber.failed.connect(self._failed)
        self.finished.connect(self._shut)
        self._thread.start()

    def _show_frame(self, frame: np.ndarray) -> None:
        self.last_frame = frame
        self.shutter.setEnabled(True)
        rgb = np.ascontiguousarray(frame[:, :, ::-1])
        h, w = rgb.shape[:2]
        image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        shown = QPixmap.fromImage(image).scaled(
            self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation)
        if self.mode == self.SCAN:  # where to aim: only this box is decoded
            x0, y0, x1, y1 = guide_box(shown.width(), shown.height())
            painter = QPainter(shown)
            painter.setPen(QPen(QColor("#ffeb3b"), 3))
            painter.drawRect(x0, y0, x1 - x0, y1 - y0)
            painter.end()
        self.preview.setPixmap(shown)

    def _decoded(self, code: str, symbology: str) -> None:
        self.code, self.symbology = code, symbology
        self.accept()

    def _failed(self, code: str) -> None:
        self.preview.setText(tr(f"camera.{code}"))
        self.hint.setText(tr("camera.use_file"))

    def take_photo(self) -> Path | None:
        if self.last_frame is None:
            return None
        folder = Path(tempfile.mkdtemp(prefix="fieldapp-camera-"))
        self.photo_path = folder / "camera.jpg"
        self.photo_path.write_bytes(encode_jpeg(self.last_frame))
        self.accept()
        return self.photo_path

    def _shut(self) -> None:
        if self._thread.isRunning():  # the grabber stops on its own thread, then the thread
            QMetaObject.invokeMethod(self.grabber, "stop",
                                     Qt.ConnectionType.BlockingQueuedConnection)
        self._thread.quit()
        self._thread.wait(3000)


def open_camera(ctx: AppContext, mode: str, parent: QWidget, *,
                from_file: Callable[[], object],
                taken: Callable[[Path], object] | None = None,
                read: Callable[[str, str | None], object] | None = None) -> CameraDialog:
    """Open the camera and hand its outcome on: a photo's file (removed afterwards: it
    lives on only watermarked, in the replica), a code read, or the wish to pick a file."""
    dialog = CameraDialog(ctx, mode, parent)

    def done(result: int) -> None:
        if result == CameraDialog.FROM_FILE:
            from_file()
        elif result == QDialog.DialogCode.Accepted and dialog.photo_path and taken:
            photo = dialog.photo_path

            def remove() -> None:
                photo.unlink(missing_ok=True)
                photo.parent.rmdir()

            try:
                task = taken(photo)
            except BaseException:
                remove()
                raise
            if isinstance(task, Task):  # developed in the background: removed once it ended
                task.then(remove)
            else:
                remove()
        elif result == QDialog.DialogCode.Accepted and dialog.code and read:
            read(dialog.code, dialog.symbology)

    dialog.finished.connect(done)
    dialog.open()
    return dialog

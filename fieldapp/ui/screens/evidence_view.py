"""照片与扫码: hazard and site photos for the job, and checking the meter by its barcode."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt, QTimer
from PySide6.QtGui import QIcon, QImageReader, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fieldapp.changes import Changes
from fieldapp.position import Position
from fieldapp.ui import ops
from fieldapp.ui.context import AppContext
from fieldapp.ui.dialogs.camera_dialog import CameraDialog, open_camera
from fieldapp.ui.i18n import tr
from fieldapp.ui.i18n.messages import scan_verdict
from fieldapp.ui.taskman import Task
from fieldapp.ui.widgets.controls import Card, button, clear_layout, label, set_prop
from fieldapp.ui.widgets.formatting import stamp

THUMB = QSize(200, 150)
def thumbnail(data: bytes) -> QPixmap:
    """A small copy decoded at thumbnail size, so a 12 MP photo never loads in full."""
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid():
        reader.setScaledSize(size.scaled(THUMB, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    return QPixmap.fromImage(image) if not image.isNull() else QPixmap()


class EvidenceView(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.job_id: str | None = None
        self._thumbs: dict[str, QPixmap] = {}
        columns = QHBoxLayout(self)
        columns.setContentsMargins(16, 12, 16, 16)
        columns.setSpacing(16)

        # Photos.
        self.photos_card = Card()
        head = QHBoxLayout()
        self.photo_count = label(name="muted")
        self.gps = label(name="muted")
        self.add_photo = button(role="primary", name="addPhoto")
        self.add_photo.clicked.connect(self.photo_with_camera)
        head.addWidget(self.photo_count)
        head.addStretch(1)
        head.addWidget(self.gps)
        self.delete_photo = button(name="deletePhoto")
        self.delete_photo.setEnabled(False)
        self.delete_photo.clicked.connect(self._delete_tapped)
        head.addWidget(self.delete_photo)
        head.addWidget(self.add_photo)
        self.photos_card.body.addLayout(head)
        self.photos = QListWidget()
        self.photos.setObjectName("photoList")
        self.photos.setViewMode(QListView.ViewMode.IconMode)
        self.photos.setIconSize(THUMB)
        self.photos.setResizeMode(QListView.ResizeMode.Adjust)
        self.photos.setMovement(QListView.Movement.Static)
        self.photos.setSpacing(8)
        self.photos.itemSelectionChanged.connect(self._disarm)
        self.photos_card.body.addWidget(self.photos, 1)
        # Deleting takes two taps (no dialog to dismiss on a tablet); the first arms it.
        self._armed = QTimer(self)
        self._armed.setSingleShot(True)
        self._armed.setInterval(4000)
        self._armed.timeout.connect(self._disarm)
        self.no_photos = label(name="muted")
        self.photos_card.body.addWidget(self.no_photos)
        columns.addWidget(self.photos_card, 3)

        # Meter barcode check.
        self.scan_card = Card()
        self.scan_image = button(role="primary", name="scanMeter")
        self.scan_image.clicked.connect(self._pick_scan)
        self.scan_card.body.addWidget(self.scan_image)
        typed = QHBoxLayout()
        self.code = QLineEdit()
        self.code.setObjectName("meterCode")
        self.code.returnPressed.connect(self.record_typed)
        self.record = button(name="recordCode")
        self.record.clicked.connect(self.record_typed)
        typed.addWidget(self.code, 1)
        typed.addWidget(self.record)
        self.scan_card.body.addLayout(typed)
        self.result = label(name="banner", wrap=True)
        self.result.hide()
        self.scan_card.body.addWidget(self.result)
        self.scans_title = label(name="cardTitle")
        self.scan_card.body.addSpacing(8)
        self.scan_card.body.addWidget(self.scans_title)
        self.scan_rows = QVBoxLayout()
        self.scan_rows.setSpacing(4)
        self.scan_card.body.addLayout(self.scan_rows)
        self.scan_card.body.addStretch(1)
        columns.addWidget(self.scan_card, 2)

        ctx.changes_applied.connect(self._on_changes)
        ctx.language_changed.connect(self.retranslate)
        self.retranslate()

    def retranslate(self) -> None:
        self.photos_card.set_title(tr("evidence.photos"))
        self.add_photo.setText(tr("evidence.add_photo"))
        self.no_photos.setText(tr("evidence.no_photos"))
        self._disarm()
        self.scan_card.set_title(tr("evidence.scan"))
        self.scan_image.setText(tr("evidence.scan_image"))
        self.code.setPlaceholderText(tr("evidence.code_placeholder"))
        self.record.setText(tr("evidence.record_code"))
        self.scans_title.setText(tr("evidence.scans"))
        self.result.hide()
        self.refresh()

    def set_job(self, job_id: str) -> None:
        self.job_id = job_id
        self.result.hide()
        self.code.clear()
        self.show_position(self.ctx.position())
        self.refresh()

    def refresh(self) -> None:
        self._refresh_photos()
        self._refresh_scans()

    def _selected_photo(self) -> str | None:
        items = self.photos.selectedItems()
        return items[0].data(Qt.ItemDataRole.UserRole) if items else None

    def _disarm(self) -> None:
        self._armed.stop()
        self.delete_photo.setText(tr("evidence.delete_photo"))
        self.delete_photo.setEnabled(self._selected_photo() is not None)

    def _delete_tapped(self) -> None:
        attachment_id = self._selected_photo()
        if attachment_id is None:
            return
        if not self._armed.isActive():
            self.delete_photo.setText(tr("evidence.delete_confirm"))
            self._armed.start()
            return
        self._armed.stop()
        self.ctx.run(ops.delete_photo, attachment_id=attachment_id)
        self._disarm()

    def _refresh_photos(self) -> None:
        if self.job_id is None:
            return
        photos = self.ctx.run(ops.job_photos, job_id=self.job_id) or []
        self.photos.clear()
        for photo in photos:
            sha = photo["sha256"]
            if sha not in self._thumbs:
                data = self.ctx.run(ops.blob_bytes, sha256=sha)
                self._thumbs[sha] = thumbnail(data) if data is not None else QPixmap()
            item = QListWidgetItem(QIcon(self._thumbs[sha]), stamp(photo["captured_at"]))
            item.setData(Qt.ItemDataRole.UserRole, photo["id"])
            self.photos.addItem(item)
        self.photo_count.setText(tr("evidence.photo_count", n=len(photos)))
        self.no_photos.setVisible(not photos)

    def _refresh_scans(self) -> None:
        if self.job_id is None:
            return
        clear_layout(self.scan_rows)
        for scan in self.ctx.run(ops.job_scans, job_id=self.job_id) or []:
            verdict = "match" if scan.verdict == "match" else (
                "unknown" if scan.verdict == "unknown" else "other")
            text = tr("evidence.scan_line", time=stamp(scan.scanned_at), code=scan.code,
                      source=tr(f"evidence.source.{scan.source}"),
                      result=tr(f"evidence.result.{verdict}"))
            row = label(text, name="muted" if verdict == "match" else "problem")
            self.scan_rows.addWidget(row)

    def _on_changes(self, changes: Changes) -> None:
        if not self.job_id:
            return
        if changes.touches("attachments"):
            self._refresh_photos()
        if changes.touches("scans"):
            self._refresh_scans()

    # -- photo --------------------------------------------------------------------------------
    def photo_with_camera(self) -> CameraDialog:
        """拍照 with the live camera; 从图片选择 in it picks a file instead."""
        return open_camera(self.ctx, CameraDialog.PHOTO, self, from_file=self._pick_photo,
                           taken=self.attach_file)

    def _pick_photo(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("evidence.pick_photo"), str(Path.home()),
                                              tr("today.image_filter"))
        if path:
            self.attach_file(path)

    def attach_file(self, path: str | Path) -> Task[Changes] | None:
        """Watermark and attach a photo file with the current fix, in the background; the
        reason is shown if it is refused. No fix never stops it: the photo then says
        无GPS定位. None when no job is open."""
        if self.job_id is None:
            return None
        position = self.ctx.position()
        self.show_position(position)
        key = "evidence.photo_added" if position else "evidence.photo_added_no_gps"
        return self.ctx.slow(ops.slow.attach_photo(self.job_id, path, position),
                             done=lambda _c: self.ctx.notify(tr(key), "success"))

    def show_position(self, position: Position | None) -> None:
        if position is None:
            self.gps.setText(tr("evidence.gps_none"))
            self._restyle(self.gps, "problem")  # red: the technician should know
            return
        accuracy = f"{position.accuracy_m:.0f}" if position.accuracy_m is not None \
            else tr("evidence.gps_unknown_accuracy")
        self.gps.setText(tr("evidence.gps_fix", lat=position.lat, lon=position.lon,
                            accuracy=accuracy, simulated=tr("evidence.gps_simulated")
                            if position.simulated else ""))
        self._restyle(self.gps, "muted")

    @staticmethod
    def _restyle(widget: QWidget, name: str) -> None:
        if widget.objectName() != name:
            widget.setObjectName(name)
            widget.style().unpolish(widget)
            widget.style().polish(widget)

    # -- meter check --------------------------------------------------------------------------
    def _pick_scan(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("today.pick_image"), str(Path.home()),
                                              tr("today.image_filter"))
        if path:
            self.scan_file(path)

    def scan_file(self, path: str | Path) -> Task[ops.ScanOutcome]:
        """Decode a photo of the meter's label in the background, then say whose it is."""
        return self.ctx.slow(ops.slow.scan_image(path, self.job_id), done=self._show_outcome)

    def record_typed(self) -> ops.ScanOutcome | None:
        code = self.code.text().strip()
        if not code or self.job_id is None:
            return None
        outcome = self.ctx.run(ops.record_code, code=code, job_id=self.job_id)
        if outcome is not None:
            self.code.clear()
            self._show_outcome(outcome)
        return outcome

    def _show_outcome(self, outcome: ops.ScanOutcome) -> None:
        text, level = scan_verdict(outcome.code, outcome.verdict,
                                   outcome.customer["name"] if outcome.customer else "")
        self.result.setText(text)
        set_prop(self.result, "level", level)
        self.result.show()

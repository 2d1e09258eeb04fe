"""签名: the customer signs on the pad, the technician confirms, the saved signature shows."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from fieldapp.changes import Changes
from fieldapp.ui import ops
from fieldapp.ui.context import AppContext
from fieldapp.ui.controls import Card, button, label
from fieldapp.ui.formatting import stamp
from fieldapp.ui.i18n import tr
from fieldapp.ui.signature_pad import SignaturePad


class SignatureView(QWidget):
    signed_changed = Signal(bool)  # whether the job has a saved signature

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.job_id: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 16)
        layout.setSpacing(12)

        self.intro = label(name="signatureIntro", wrap=True)
        layout.addWidget(self.intro)

        # Drawing: the pad and its controls.
        self.drawing = Card()
        self.pad = SignaturePad()
        self.pad.changed.connect(self._update_buttons)
        self.drawing.body.addWidget(self.pad, 1)
        controls = QHBoxLayout()
        controls.setSpacing(12)
        self.clear = button(name="signatureClear")
        self.clear.clicked.connect(self.pad.clear)
        self.undo = button(name="signatureUndo")
        self.undo.clicked.connect(self.pad.undo)
        self.signer_label = label(name="muted")
        self.signer = QLineEdit()
        self.signer.setObjectName("signerName")
        self.signer.textChanged.connect(self._update_buttons)
        self.confirm = button(role="success", name="signatureConfirm")
        self.confirm.setMinimumWidth(180)
        self.confirm.clicked.connect(self.confirm_signature)
        controls.addWidget(self.clear)
        controls.addWidget(self.undo)
        controls.addSpacing(24)
        controls.addWidget(self.signer_label)
        controls.addWidget(self.signer, 1)
        controls.addWidget(self.confirm)
        self.drawing.body.addLayout(controls)
        layout.addWidget(self.drawing, 1)

        # Saved: the signature as stored, and a way to sign again.
        self.saved = Card()
        self.saved_text = label(name="banner")
        self.saved_image = label()
        self.saved_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.saved_image.setObjectName("savedSignature")
        self.again = button(name="signAgain")
        self.again.clicked.connect(self._sign_again)
        self.saved.body.addWidget(self.saved_text)
        self.saved.body.addWidget(self.saved_image, 1)
        again_row = QHBoxLayout()
        again_row.addStretch(1)
        again_row.addWidget(self.again)
        self.saved.body.addLayout(again_row)
        layout.addWidget(self.saved, 1)
        self.saved.hide()

        ctx.changes_applied.connect(self._on_changes)
        ctx.language_changed.connect(self.retranslate)
        self.retranslate()

    def retranslate(self) -> None:
        self.intro.setText(tr("signature.intro"))
        self.pad.set_hint(tr("signature.hint"))
        self.clear.setText(tr("signature.clear"))
        self.undo.setText(tr("signature.undo"))
        self.signer_label.setText(tr("signature.signer"))
        self.signer.setPlaceholderText(tr("signature.signer_placeholder"))
        self.confirm.setText(tr("signature.confirm"))
        self.again.setText(tr("signature.again"))
        self.refresh()

    def set_job(self, job_id: str, signer_name: str = "") -> None:
        self.job_id = job_id
        self.pad.clear()
        # The account holder usually signs; a family member can overwrite the name.
        self.signer.setText(signer_name)
        self.refresh()

    def refresh(self) -> None:
        if self.job_id is None:
            return
        signatures = self.ctx.run(ops.job_signatures, job_id=self.job_id) or []
        latest = signatures[-1] if signatures else None
        self.drawing.setVisible(latest is None)
        self.saved.setVisible(latest is not None)
        if latest is not None:
            self.saved_text.setText(tr("signature.saved_by", name=latest["signer_name"],
                                       time=stamp(latest["signed_at"])))
            data = self.ctx.run(ops.blob_bytes, sha256=latest["sha256"])
            pixmap = QPixmap()
            if data is not None:
                pixmap.loadFromData(data)
            if not pixmap.isNull():
                self.saved_image.setPixmap(pixmap.scaledToWidth(
                    min(pixmap.width(), 800), Qt.TransformationMode.SmoothTransformation))
        self.signed_changed.emit(latest is not None)
        self._update_buttons()

    def _update_buttons(self) -> None:
        has_ink = not self.pad.is_empty()
        self.clear.setEnabled(has_ink)
        self.undo.setEnabled(has_ink)
        self.confirm.setEnabled(has_ink and bool(self.signer.text().strip()))

    def _sign_again(self) -> None:
        self.pad.clear()
        self.saved.hide()
        self.drawing.show()

    def confirm_signature(self) -> None:
        if self.job_id is None:
            return
        result = self.ctx.run(ops.add_signature, job_id=self.job_id, strokes=self.pad.strokes(),
                              signer_name=self.signer.text())
        if result is not None:
            self.pad.clear()
            self.ctx.notify(tr("signature.saved"), "success")

    def _on_changes(self, changes: Changes) -> None:
        if self.job_id and changes.touches("signatures"):
            self.refresh()

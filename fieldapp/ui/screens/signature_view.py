"""签名: the customer signs on the pad, the technician confirms, the saved signature shows.

The rules are the core's (``fieldapp.replica.signing`` through ``ops``): the pad is offered only
on a complete form, and a signature the form changed after is shown void, with the pad to
sign again."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from fieldapp.changes import Changes
from fieldapp.ui import ops
from fieldapp.ui.context import AppContext
from fieldapp.ui.i18n import tr
from fieldapp.ui.widgets.controls import Card, button, label
from fieldapp.ui.widgets.formatting import stamp
from fieldapp.ui.widgets.signature_pad import SignaturePad


class SignatureView(QWidget):
    signed_changed = Signal(str)  # the latest signature: "none", "valid" or "void"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.job_id: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 16)
        layout.setSpacing(12)

        self.intro = label(name="signatureIntro", wrap=True)
        layout.addWidget(self.intro)
        # Why the pad is not offered (the form is incomplete), or why a new signature is asked.
        self.blocked = label(name="signatureBlocked", wrap=True)
        self.void = label(name="signatureVoid", wrap=True)
        layout.addWidget(self.blocked)
        layout.addWidget(self.void)
        self.blocked.hide()
        self.void.hide()

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
        self.bound = label(name="muted", wrap=True)
        self.saved_image = label()
        self.saved_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.saved_image.setObjectName("savedSignature")
        self.again = button(name="signAgain")
        self.again.clicked.connect(self._sign_again)
        self.saved.body.addWidget(self.saved_text)
        self.saved.body.addWidget(self.bound)
        self.saved.body.addWidget(self.saved_image, 1)
        again_row = QHBoxLayout()
        again_row.addStretch(1)
        again_row.addWidget(self.again)
        self.saved.body.addLayout(again_row)
        layout.addWidget(self.saved, 1)
        self.saved.hide()
        layout.addStretch(0)  # takes the room only when neither card is shown (blocked)

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
        status = self.ctx.run(ops.signature_status, job_id=self.job_id)
        if status is None:
            return
        self.status = status
        latest = status.latest
        blocked = bool(status.missing) and status.state != "valid"
        self.blocked.setVisible(blocked)
        if blocked:
            labels = "、".join(g["label"] for g in status.missing[:8])
            more = " …" if len(status.missing) > 8 else ""
            self.blocked.setText(tr("signature.incomplete", n=len(status.missing),
                                    labels=labels + more))
        self.void.setVisible(status.state == "void")
        if latest is not None:
            when = stamp(latest["signed_at"])
            self.void.setText(tr("signature.void", name=latest["signer_name"], time=when))
        # The pad when there is nothing valid yet and the form is complete; a void signature
        # stays on show above it (it is evidence), with the pad to sign again.
        drawing = status.state != "valid" and not blocked
        self.drawing.setVisible(drawing)
        self.saved.setVisible(latest is not None and not drawing)
        self.again.setVisible(status.state == "valid")
        if latest is not None:
            self.saved_text.setText(tr("signature.saved_by", name=latest["signer_name"],
                                       time=stamp(latest["signed_at"])))
            self.bound.setText(tr("signature.bound", hash=latest.get("content_hash") or "—"))
            data = self.ctx.run(ops.blob_bytes, sha256=latest["sha256"])
            pixmap = QPixmap()
            if data is not None:
                pixmap.loadFromData(data)
            if not pixmap.isNull():
                self.saved_image.setPixmap(pixmap.scaledToWidth(
                    min(pixmap.width(), 800), Qt.TransformationMode.SmoothTransformation))
        self.signed_changed.emit(status.state)
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
        # What the signature binds: a new answer or photo can make it void, or the form
        # complete enough to sign.
        if self.job_id and changes.touches("signatures", "answers", "attachments",
                                           "submissions", "hazards"):
            self.refresh()

"""The job page's 挂起 / 恢复处理 / 退单 buttons and the line saying why a job is on hold:
each opens ``HoldDialog`` for the reason, then writes the status change and its reason in
one step (``replica.holds``)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from fieldapp.domain import holds
from fieldapp.ui import ops
from fieldapp.ui.context import AppContext
from fieldapp.ui.dialogs.hold_dialog import HoldDialog
from fieldapp.ui.i18n import language, tr
from fieldapp.ui.widgets.controls import button, clear_layout, label


class HoldButtons(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.job: dict[str, Any] | None = None
        self.dialog: HoldDialog | None = None
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.setSpacing(12)
        # Why the job is on hold: placed by the job page beside the customer's line.
        self.why = label(name="holdReason", wrap=True)
        self.buttons: dict[str, QPushButton] = {}  # suspend / resume / return -> its button

    def show_for(self, job: dict[str, Any]) -> None:
        self.job = job
        for old in self.buttons.values():
            old.hide()  # at once: clear_layout deletes them only at the next event loop turn
        clear_layout(self.row)
        self.buttons = {}
        for kind in self.ctx.run(ops.hold_moves, status=job["status"]) or []:
            btn = button(tr(f"hold.{kind}"), role="primary" if kind == holds.RESUME else None,
                         name=f"hold_{kind}")
            btn.setMinimumHeight(52)
            btn.clicked.connect(lambda _=False, k=kind: self.start(k))
            self.row.addWidget(btn)
            self.buttons[kind] = btn
        why = (self.ctx.run(ops.hold_reason, job_id=job["id"])
               if job["status"] in ("suspended", "returned") else None)
        self.why.setText(holds.describe(str(why["kind"]), str(why["text"]), language())
                         if why else "")
        self.why.setVisible(bool(why))
        self.setVisible(bool(self.buttons))

    def start(self, kind: str) -> None:
        """Resume at once; suspend and return ask why first."""
        if self.job is None:
            return
        job_id = self.job["id"]
        if kind == holds.RESUME:
            self._done(self.ctx.run(ops.resume_job, job_id=job_id), "resumed")
            return
        parts = [p for p in self.ctx.run(ops.part_requests, job_id=job_id) or []
                 if p["state"] == "requested"]
        self.dialog = HoldDialog(kind, parts, self)
        self.dialog.accepted.connect(lambda: self._chosen(kind, job_id))
        self.dialog.open()

    def _chosen(self, kind: str, job_id: str) -> None:
        dialog = self.dialog
        assert dialog is not None and dialog.reason is not None
        note = dialog.note.text()
        if kind == holds.SUSPEND:
            result = self.ctx.run(ops.suspend_job, job_id=job_id, reason=dialog.reason,
                                  note=note, part_request_id=dialog.part_request_id)
            self._done(result, "suspended")
        else:
            self._done(self.ctx.run(ops.hand_back_job, job_id=job_id, reason=dialog.reason,
                                    note=note), "returned")

    def _done(self, result: object, what: str) -> None:
        if result is not None and self.job is not None:
            self.ctx.notify(tr(f"hold.done.{what}", number=self.job["number"]), "success")

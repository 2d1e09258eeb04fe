"""领料: ask the stores for parts from the catalogue for this job, and see each request's
answer (待处理, 已发料, 已驳回 with the office's reply) once a sync brings it."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from fieldapp.changes import Changes
from fieldapp.domain.parts import MAX_QUANTITY
from fieldapp.ui import ops
from fieldapp.ui.context import AppContext
from fieldapp.ui.controls import button, label
from fieldapp.ui.formatting import stamp
from fieldapp.ui.i18n import tr


class PartsView(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.job_id: str | None = None
        self.setObjectName("page")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        row = QHBoxLayout()
        self.part = QComboBox()
        self.part.setObjectName("partChoice")
        self.part.setMinimumHeight(46)
        self.part.setMinimumWidth(260)
        self.quantity = QSpinBox()
        self.quantity.setObjectName("partQuantity")
        self.quantity.setRange(1, MAX_QUANTITY)
        self.quantity.setMinimumHeight(46)
        self.note = QLineEdit()
        self.note.setObjectName("partNote")
        self.request = button(role="primary", name="requestPart")
        self.request.clicked.connect(self.submit)
        row.addWidget(self.part)
        row.addWidget(self.quantity)
        row.addWidget(self.note, 1)
        row.addWidget(self.request)
        layout.addLayout(row)
        self.requests = QListWidget()
        self.requests.setObjectName("partRequests")
        self.requests.setWordWrap(True)
        self.requests.setSpacing(8)
        layout.addWidget(self.requests, 1)
        self.empty = label(name="muted")
        layout.addWidget(self.empty)
        ctx.changes_applied.connect(self._on_changes)
        ctx.language_changed.connect(self.retranslate)
        self.retranslate()

    def retranslate(self) -> None:
        self.note.setPlaceholderText(tr("parts.note"))
        self.request.setText(tr("parts.request"))
        self.empty.setText(tr("parts.empty"))
        self.part.clear()
        for code, name in self.ctx.run(ops.parts_catalogue) or []:
            self.part.addItem(f"{name}（{code}）", code)
        self.refresh()

    def set_job(self, job_id: str | None) -> None:
        self.job_id = job_id
        self.note.clear()
        self.quantity.setValue(1)
        self.refresh()

    def refresh(self) -> None:
        self.requests.clear()
        if self.job_id is None:
            return
        for r in self.ctx.run(ops.part_requests, job_id=self.job_id) or []:
            line = tr("parts.line", time=stamp(r["requested_at"]), name=r["name"],
                      n=r["quantity"], state=tr(f"parts.state.{r['state']}"))
            if r["reply"]:
                line += "\n" + tr("parts.reply", reply=r["reply"])
            self.requests.addItem(line)
        self.empty.setVisible(self.requests.count() == 0)

    def submit(self) -> None:
        if self.job_id is None or self.part.currentData() is None:
            return
        done = self.ctx.run(ops.request_part, job_id=self.job_id, part=self.part.currentData(),
                            quantity=self.quantity.value(), note=self.note.text())
        if done is not None:
            self.note.clear()
            self.quantity.setValue(1)
            self.ctx.notify(tr("parts.requested"), "success")

    def _on_changes(self, changes: Changes) -> None:
        if self.job_id is not None and changes.touches("part_requests"):
            self.refresh()

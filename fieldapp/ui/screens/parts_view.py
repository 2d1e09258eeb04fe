"""领料: ask the stores for parts from the catalogue for this job, and see each request's
answer (待处理, 已发料, 已驳回 with the office's reply) once a sync brings it."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QSpinBox, QVBoxLayout, QWidget

from fieldapp.domain.parts import MAX_QUANTITY
from fieldapp.ui import ops
from fieldapp.ui.context import AppContext
from fieldapp.ui.i18n import tr
from fieldapp.ui.screens.job_panel import JobPanel
from fieldapp.ui.widgets.controls import button
from fieldapp.ui.widgets.formatting import stamp


class PartsView(JobPanel):
    WATCHED = ("part_requests",)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "partRequests", parent)

    def build_input(self, layout: QVBoxLayout) -> None:
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
        for widget in (self.part, self.quantity):
            row.addWidget(widget)
        row.addWidget(self.note, 1)
        row.addWidget(self.request)
        layout.addLayout(row)

    def retranslate(self) -> None:
        self.note.setPlaceholderText(tr("parts.note"))
        self.request.setText(tr("parts.request"))
        self.empty.setText(tr("parts.empty"))
        self.part.clear()
        for code, name in self.ctx.run(ops.parts_catalogue) or []:
            self.part.addItem(f"{name}（{code}）", code)
        super().retranslate()

    def clear_input(self) -> None:
        self.note.clear()
        self.quantity.setValue(1)

    def lines(self) -> list[str]:
        out = []
        for r in self.ctx.run(ops.part_requests, job_id=self.job_id) or []:
            line = tr("parts.line", time=stamp(r["requested_at"]), name=r["name"],
                      n=r["quantity"], state=tr(f"parts.state.{r['state']}"))
            out.append(line + ("\n" + tr("parts.reply", reply=r["reply"]) if r["reply"] else ""))
        return out

    def submit(self) -> None:
        if self.job_id is None or self.part.currentData() is None:
            return
        done = self.ctx.run(ops.request_part, job_id=self.job_id, part=self.part.currentData(),
                            quantity=self.quantity.value(), note=self.note.text())
        if done is not None:
            self.clear_input()
            self.ctx.notify(tr("parts.requested"), "success")

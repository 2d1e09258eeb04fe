"""记录: a job's notes, calls and status changes, newest first, and a box for a new note."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QVBoxLayout, QWidget

from fieldapp.domain import holds
from fieldapp.network.model import VALVE_CLOSED
from fieldapp.ui import ops
from fieldapp.ui.context import AppContext
from fieldapp.ui.i18n import language, tr
from fieldapp.ui.screens.job_panel import JobPanel
from fieldapp.ui.widgets.controls import button
from fieldapp.ui.widgets.formatting import stamp


class JobHistoryView(JobPanel):
    WATCHED = ("interactions", "jobs", "job_status_history")

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "jobHistory", parent)

    def build_input(self, layout: QVBoxLayout) -> None:
        self.note = QPlainTextEdit()
        self.note.setObjectName("jobNote")
        self.note.setFixedHeight(96)
        layout.addWidget(self.note)
        row = QHBoxLayout()
        row.addStretch(1)
        self.add = button(role="primary", name="addNote")
        self.add.clicked.connect(self.add_note)
        row.addWidget(self.add)
        layout.addLayout(row)

    def retranslate(self) -> None:
        self.note.setPlaceholderText(tr("history.placeholder"))
        self.add.setText(tr("history.add"))
        self.empty.setText(tr("history.empty"))
        super().retranslate()

    def clear_input(self) -> None:
        self.note.clear()

    def lines(self) -> list[str]:
        out = []
        for e in self.ctx.run(ops.job_log, job_id=self.job_id) or []:
            if e["source"] == "status":
                text = tr("history.status", to=tr(f"status.{e['kind']}"))
            elif e["kind"] == "call":
                text = tr("history.call", number=e["text"] or "")
            elif e["kind"] == VALVE_CLOSED:
                text = tr("history.valve", valve=e["text"] or "")
            elif e["kind"] in holds.HOLD_KINDS:
                text = holds.describe(e["kind"], e["text"], language())
            else:
                text = e["text"]
            out.append(f"{stamp(e['at'])}  {e['by_user'] or ''}\n{text}")
        return out

    def add_note(self) -> None:
        if self.job_id is None:
            return
        done = self.ctx.run(ops.add_interaction, job_id=self.job_id, kind="note",
                            text=self.note.toPlainText())
        if done is not None:
            self.note.clear()
            self.ctx.notify(tr("history.saved"), "success")

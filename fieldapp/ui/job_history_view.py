"""记录: a job's notes, calls and status changes, newest first, and a box for a new note."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QListWidget, QPlainTextEdit, QVBoxLayout, QWidget

from fieldapp.changes import Changes
from fieldapp.ui import ops
from fieldapp.ui.context import AppContext
from fieldapp.ui.controls import button, label
from fieldapp.ui.formatting import stamp
from fieldapp.ui.i18n import tr


class JobHistoryView(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.job_id: str | None = None
        self.setObjectName("page")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
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
        self.entries = QListWidget()
        self.entries.setObjectName("jobHistory")
        self.entries.setWordWrap(True)
        self.entries.setSpacing(8)
        layout.addWidget(self.entries, 1)
        self.empty = label(name="muted")
        layout.addWidget(self.empty)
        ctx.changes_applied.connect(self._on_changes)
        ctx.language_changed.connect(self.retranslate)
        self.retranslate()

    def retranslate(self) -> None:
        self.note.setPlaceholderText(tr("history.placeholder"))
        self.add.setText(tr("history.add"))
        self.empty.setText(tr("history.empty"))
        self.refresh()

    def set_job(self, job_id: str | None) -> None:
        self.job_id = job_id
        self.note.clear()
        self.refresh()

    def refresh(self) -> None:
        self.entries.clear()
        if self.job_id is None:
            return
        for e in self.ctx.run(ops.job_log, job_id=self.job_id) or []:
            if e["source"] == "status":
                text = tr("history.status", to=tr(f"status.{e['kind']}"))
            elif e["kind"] == "call":
                text = tr("history.call", number=e["text"] or "")
            else:
                text = e["text"]
            self.entries.addItem(f"{stamp(e['at'])}  {e['by_user'] or ''}\n{text}")
        self.empty.setVisible(self.entries.count() == 0)

    def add_note(self) -> None:
        if self.job_id is None:
            return
        done = self.ctx.run(ops.add_interaction, job_id=self.job_id, kind="note",
                            text=self.note.toPlainText())
        if done is not None:
            self.note.clear()
            self.ctx.notify(tr("history.saved"), "success")

    def _on_changes(self, changes: Changes) -> None:
        if self.job_id is not None and changes.touches("interactions", "jobs",
                                                        "job_status_history"):
            self.refresh()

"""A job page tab that is an input above a list of what was entered (记录, 领料): the list
follows the job and refreshes when one of its tables changes."""

from __future__ import annotations

from PySide6.QtWidgets import QListWidget, QVBoxLayout, QWidget

from fieldapp.changes import Changes
from fieldapp.ui.context import AppContext
from fieldapp.ui.widgets.controls import label


class JobPanel(QWidget):
    WATCHED: tuple[str, ...] = ()  # tables whose changes refresh the list

    def __init__(self, ctx: AppContext, list_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.job_id: str | None = None
        self.setObjectName("page")
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(16, 12, 16, 12)
        self.build_input(self.layout_)
        self.entries = QListWidget()
        self.entries.setObjectName(list_name)
        self.entries.setWordWrap(True)
        self.entries.setSpacing(8)
        self.layout_.addWidget(self.entries, 1)
        self.empty = label(name="muted")
        self.layout_.addWidget(self.empty)
        ctx.changes_applied.connect(self._on_changes)
        ctx.language_changed.connect(self.retranslate)
        self.retranslate()

    def build_input(self, layout: QVBoxLayout) -> None:
        raise NotImplementedError

    def retranslate(self) -> None:
        self.refresh()

    def lines(self) -> list[str]:
        """The list's entries for the current job, newest first."""
        raise NotImplementedError

    def set_job(self, job_id: str | None) -> None:
        self.job_id = job_id
        self.clear_input()
        self.refresh()

    def clear_input(self) -> None:
        pass

    def refresh(self) -> None:
        self.entries.clear()
        if self.job_id is None:
            return
        self.entries.addItems(self.lines())
        self.empty.setVisible(self.entries.count() == 0)

    def _on_changes(self, changes: Changes) -> None:
        if self.job_id is not None and changes.touches(*self.WATCHED):
            self.refresh()

"""完成 → 核对: before a job completes, what it carries is shown once more (form, hazards,
photos, signature, notes), so nothing is closed by a stray tap; 确认完成 completes it."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QDialog, QGridLayout, QHBoxLayout, QVBoxLayout, QWidget

from fieldapp.ui.i18n import tr
from fieldapp.ui.widgets.controls import button, label


class CompletionDialog(QDialog):
    def __init__(self, summary: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.setWindowTitle(tr("complete.title"))
        self.setModal(True)
        self.setMinimumWidth(560)
        job = summary["job"]
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 28, 32, 24)
        layout.setSpacing(14)
        layout.addWidget(label(tr("complete.title"), name="screenTitle"))
        layout.addWidget(label(tr("complete.intro", number=job["number"],
                                  name=job.get("customer_name") or ""), wrap=True))
        grid = QGridLayout()
        grid.setHorizontalSpacing(24)
        form = (tr(f"complete.form.{summary['form_state']}", n=summary["answers"])
                if summary["form_state"] else tr("complete.form.none"))
        rows = [("complete.form", form),
                ("complete.hazards", tr("complete.count", n=summary["hazards"])),
                ("complete.photos", tr("complete.count", n=summary["photos"])),
                ("complete.signature", summary["signer"] or tr("complete.unsigned")),
                ("complete.notes", tr("complete.count", n=summary["notes"]))]
        self.values: dict[str, str] = {}
        for i, (key, value) in enumerate(rows):
            grid.addWidget(label(tr(key), name="muted"), i, 0)
            grid.addWidget(label(value, wrap=True), i, 1)
            self.values[key] = value
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid)
        if summary["hazards"]:
            layout.addWidget(label(tr("complete.hazard_warning", n=summary["hazards"]),
                                   name="problem", wrap=True))
        buttons = QHBoxLayout()
        self.back = button(tr("complete.back"), name="completeBack")
        self.back.clicked.connect(self.reject)
        self.confirm = button(tr("complete.confirm"), role="success", name="completeConfirm")
        self.confirm.clicked.connect(self.accept)
        buttons.addWidget(self.back)
        buttons.addStretch(1)
        buttons.addWidget(self.confirm)
        layout.addLayout(buttons)

"""Why a job stops: the reason as one big tap (挂起: 客户不在家, 待料, …; 退单: 技能或工具不符,
…), a note (needed for 其他), and for 待料 the job's part request it waits for. 确定 hands
the choice back; nothing is written here."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from fieldapp.domain import holds
from fieldapp.ui.i18n import language, tr
from fieldapp.ui.widgets.controls import button, label


class HoldDialog(QDialog):
    def __init__(self, kind: str, part_requests: list[dict[str, Any]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self.setObjectName("page")
        self.setWindowTitle(tr(f"hold.title.{kind}"))
        self.setModal(True)
        self.setMinimumWidth(620)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 20)
        layout.setSpacing(12)
        layout.addWidget(label(tr(f"hold.title.{kind}"), name="screenTitle"))
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.reason_buttons: dict[str, Any] = {}
        grid = QGridLayout()
        grid.setSpacing(10)
        zh = language() == "zh"
        for i, (code, names) in enumerate(holds.reasons(kind).items()):
            btn = button(names[0 if zh else 1], name=f"reason_{code}")
            btn.setCheckable(True)
            btn.setProperty("answer", "reason")  # the form's choice look: filled when picked
            btn.setMinimumHeight(56)
            self.group.addButton(btn)
            self.reason_buttons[code] = btn
            grid.addWidget(btn, i // 2, i % 2)
        layout.addLayout(grid)
        self.parts = QComboBox()
        self.parts.setObjectName("holdPart")
        for request in part_requests:
            self.parts.addItem(f"{request['name']} × {request['quantity']}", request["id"])
        self.parts_label = label(tr("hold.part") if part_requests else tr("hold.no_part"),
                                 name="muted", wrap=True)
        layout.addWidget(self.parts_label)
        layout.addWidget(self.parts)
        self.note = QLineEdit()
        self.note.setObjectName("holdNote")
        self.note.setMaxLength(holds.MAX_NOTE)
        self.note.setPlaceholderText(tr("hold.note"))
        layout.addWidget(self.note)
        self.problem = label(name="problem", wrap=True)
        layout.addWidget(self.problem)
        row = QHBoxLayout()
        row.addStretch(1)
        cancel = button(tr("hold.cancel"), name="holdCancel")
        cancel.clicked.connect(self.reject)
        self.ok = button(tr("hold.ok"), role="primary", name="holdOk")
        self.ok.clicked.connect(self._confirm)
        row.addWidget(cancel)
        row.addWidget(self.ok)
        layout.addLayout(row)
        self.group.buttonToggled.connect(lambda *_: self._show_parts())
        self._show_parts()

    @property
    def reason(self) -> str | None:
        return next((code for code, btn in self.reason_buttons.items() if btn.isChecked()),
                    None)

    @property
    def part_request_id(self) -> str | None:
        if self.reason != holds.WAITING_PARTS or self.parts.count() == 0:
            return None
        value = self.parts.currentData()
        return str(value) if value else None

    def _show_parts(self) -> None:
        self.problem.setText("")
        waiting = self.reason == holds.WAITING_PARTS
        self.parts_label.setVisible(waiting)
        self.parts.setVisible(waiting and self.parts.count() > 0)

    def _confirm(self) -> None:
        if self.reason is None:
            self.problem.setText(tr("hold.pick"))
        elif self.reason == "other" and not self.note.text().strip():
            self.problem.setText(tr("hold.need_note"))
        elif self.reason == holds.WAITING_PARTS and self.part_request_id is None:
            self.problem.setText(tr("hold.no_part"))
        else:
            self.accept()

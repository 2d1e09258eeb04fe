"""One job: header, the big status buttons the state machine allows, and the work tabs."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTabWidget, QVBoxLayout, QWidget

from fieldapp.changes import Changes
from fieldapp.domain.kinds import FORM_FOR_KIND
from fieldapp.domain.navigation import navigation_url, phone_url
from fieldapp.errors import FieldAppError
from fieldapp.ui import ops, theme
from fieldapp.ui.context import AppContext
from fieldapp.ui.dialogs.completion_dialog import CompletionDialog
from fieldapp.ui.i18n import tr
from fieldapp.ui.screens.customer_view import CustomerView
from fieldapp.ui.screens.evidence_view import EvidenceView
from fieldapp.ui.screens.form_view import FormView
from fieldapp.ui.screens.job_history_view import JobHistoryView
from fieldapp.ui.screens.job_holds import HoldButtons
from fieldapp.ui.screens.parts_view import PartsView
from fieldapp.ui.screens.signature_view import SignatureView
from fieldapp.ui.screens.valves_view import ValvesView
from fieldapp.ui.widgets.controls import Card, button, chip, clear_layout, label, set_chip, set_prop
from fieldapp.ui.widgets.formatting import stamp


class JobPage(QWidget):
    back_requested = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.job: dict[str, Any] | None = None
        self.setObjectName("page")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 0)
        layout.setSpacing(8)

        header = Card()
        top = QHBoxLayout()
        top.setSpacing(14)
        self.back = button(role="flat", name="backButton")
        self.back.clicked.connect(self._go_back)
        self.number = label(name="screenTitle")
        self.kind = chip()
        self.status = chip()
        # Whether the server has the job's own last change: shown beside the status it is about.
        self.sync_state = label(name="syncState")
        self.priority = chip()
        self.due = label(name="muted")
        for widget in (self.back, self.number, self.kind, self.status, self.sync_state,
                       self.priority, self.due):
            top.addWidget(widget, 0, Qt.AlignmentFlag.AlignVCenter)
        top.addStretch(1)
        self.moves = QHBoxLayout()
        self.moves.setSpacing(12)
        self.move_buttons: dict[str, QPushButton] = {}  # target status -> its button
        top.addLayout(self.moves)
        self.holds = HoldButtons(ctx)  # 挂起 / 恢复处理 / 退单, and why it is on hold
        top.addWidget(self.holds)
        header.body.addLayout(top)
        second = QHBoxLayout()
        second.setSpacing(24)
        self.customer_line = label(name="jobCustomer", wrap=True)
        self.summary = label(name="muted")
        second.addWidget(self.customer_line, 1)
        second.addWidget(self.holds.why)
        second.addWidget(self.summary)
        self.call = button(name="callCustomer")
        self.call.clicked.connect(self.call_customer)
        self.navigate = button(name="navigate")
        self.navigate.clicked.connect(self.open_navigation)
        second.addWidget(self.call)
        second.addWidget(self.navigate)
        header.body.addLayout(second)
        header.layout().setContentsMargins(20, 10, 20, 12)
        layout.addWidget(header)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("jobTabs")
        self.tabs.setDocumentMode(True)
        self.customer = CustomerView(ctx)
        self.form = FormView(ctx)
        self.evidence = EvidenceView(ctx)
        self.signature = SignatureView(ctx)
        self.history = JobHistoryView(ctx)
        self.parts = PartsView(ctx)
        self.valves = ValvesView(ctx)
        self.tabs.addTab(self.customer, "")
        self.tabs.addTab(self.form, "")
        self.tabs.addTab(self.evidence, "")
        self.tabs.addTab(self.signature, "")
        self.tabs.addTab(self.parts, "")
        self.tabs.addTab(self.valves, "")
        self.tabs.addTab(self.history, "")
        self._form_counts = (0, 0)
        self._signed = "none"
        self.form.progress_changed.connect(self._on_form_progress)
        self.signature.signed_changed.connect(self._on_signed)
        layout.addWidget(self.tabs, 1)

        ctx.changes_applied.connect(self._on_changes)
        ctx.language_changed.connect(self.retranslate)
        self.retranslate()

    # -- showing a job ----------------------------------------------------------------------
    def show_job(self, job_id: str) -> bool:
        job = self.ctx.run(ops.job, job_id=job_id)
        if job is None:
            return False
        self.job = job
        uses_form = job["kind"] in FORM_FOR_KIND
        self.tabs.setTabVisible(self.tabs.indexOf(self.form), uses_form)
        self.customer.show_customer(job["customer_id"])
        if uses_form:
            self.form.set_job(job_id)
        else:
            self.form.job_id = None
        self.evidence.set_job(job_id)
        self.signature.set_job(job_id, job.get("customer_name") or "")
        self.history.set_job(job_id)
        self.parts.set_job(job_id)
        self.valves.set_job(job_id)
        self.tabs.setTabVisible(self.tabs.indexOf(self.valves),
                                bool(self.ctx.run(ops.has_network)))
        self.tabs.setCurrentWidget(self.form if uses_form and job["status"] == "in_service"
                                   else self.customer)
        self._show_header()
        return True

    def refresh_header(self) -> None:
        if self.job is None:
            return
        job = self.ctx.run(ops.job, job_id=self.job["id"])
        if job is None:
            if self.isVisible():
                self.ctx.notify(tr("job.gone"), "error")
            self.leave()
            self.back_requested.emit()
            return
        self.job = job
        self._show_header()

    def _show_header(self) -> None:
        job = self.job
        assert job is not None
        self.number.setText(job["number"])
        set_chip(self.kind, tr(f"kind.{job['kind']}"), theme.PRIMARY_DARK)
        set_chip(self.status, tr(f"status.{job['status']}"), theme.status_colour(job["status"]))
        self._show_sync_state()
        set_chip(self.priority, tr(f"priority.{job['priority']}"),
                 theme.priority_colour(job["priority"]))
        self.due.setText(tr("job.due", time=stamp(job["due_at"])))
        parts = [job.get("customer_name"), job.get("customer_phone"), job.get("customer_address")]
        self.customer_line.setText("  ·  ".join(p for p in parts if p))
        self.summary.setText(job.get("summary") or "")
        self.summary.setVisible(bool(job.get("summary")))
        self._show_moves(job["status"])
        self.holds.show_for(job)

    def _show_sync_state(self) -> None:
        if self.job is None:
            return
        state = self.ctx.run(ops.job_sync_state, job_id=self.job["id"]) or "synced"
        set_prop(self.sync_state, "state", state)
        self.sync_state.setText(tr(f"sync_state.{state}"))

    def _show_moves(self, status: str) -> None:
        clear_layout(self.moves)
        self.move_buttons = {}
        targets = self.ctx.run(ops.next_moves, status=status) or []
        for i, target in enumerate(targets):
            role = "success" if target == "completed" else ("primary" if i == 0 else None)
            btn = button(tr(f"move.{target}"), role=role, name=f"move_{target}")
            btn.setMinimumWidth(150)
            btn.setMinimumHeight(56)
            btn.clicked.connect(lambda _=False, t=target: self.move_to(t))
            self.moves.addWidget(btn)
            self.move_buttons[target] = btn

    def move_to(self, target: str) -> None:
        if self.job is None:
            return
        self.setFocus()  # a field being typed in saves first (editingFinished)
        if target == "completed":
            summary = self.ctx.run(ops.completion_summary, job_id=self.job["id"])
            if summary is not None and not summary["missing"]:
                self.confirming = CompletionDialog(summary, self)
                self.confirming.accepted.connect(lambda: self._move(target))
                self.confirming.open()
                return
        self._move(target)

    def _move(self, target: str) -> None:
        if self.job is None:
            return
        result = self.ctx.run(ops.transition_job, job_id=self.job["id"], target=target,
                              failed=self._on_move_refused)
        if result is not None:
            self.ctx.notify(tr("move.done", number=self.job["number"],
                               status=tr(f"status.{target}")), "success")

    def _on_move_refused(self, error: FieldAppError) -> None:
        """Take the technician to what is missing for completion."""
        missing = error.params.get("missing") or []
        if "form" in missing:
            self.tabs.setCurrentWidget(self.form)
        elif "signature" in missing:
            self.tabs.setCurrentWidget(self.signature)

    # -- tabs and updates -------------------------------------------------------------------
    def retranslate(self) -> None:
        self.back.setText(tr("job.back"))
        self.tabs.setTabText(self.tabs.indexOf(self.customer), tr("job.tab.customer"))
        self.tabs.setTabText(self.tabs.indexOf(self.evidence), tr("job.tab.evidence"))
        self.tabs.setTabText(self.tabs.indexOf(self.history), tr("job.tab.history"))
        self.tabs.setTabText(self.tabs.indexOf(self.parts), tr("job.tab.parts"))
        self.tabs.setTabText(self.tabs.indexOf(self.valves), tr("valves.tab"))
        self.call.setText(tr("job.call"))
        self.navigate.setText(tr("job.navigate"))
        self._on_form_progress(*self._form_counts)
        self._on_signed(self._signed)
        if self.job is not None:
            self._show_header()

    def _on_form_progress(self, done: int, total: int) -> None:
        self._form_counts = (done, total)
        self.tabs.setTabText(self.tabs.indexOf(self.form),
                             tr("job.tab.form_progress", done=done, total=total) if total
                             else tr("job.tab.form"))

    def _on_signed(self, state: str) -> None:
        self._signed = state
        key = {"valid": "job.tab.signature_done", "void": "job.tab.signature_void"}.get(
            state, "job.tab.signature")
        self.tabs.setTabText(self.tabs.indexOf(self.signature), tr(key))

    def _on_changes(self, changes: Changes) -> None:
        if self.job is not None and changes.touches("jobs", "customers"):
            self.refresh_header()
        elif self.job is not None and changes.touches("outbox", "sync"):
            self._show_sync_state()  # a sync answered the outbox: the job itself is unchanged

    def leave(self) -> None:
        """Stop following the job, so a hidden page does no work on every change."""
        self.setFocus()  # a field being typed in saves first (editingFinished)
        self.job = None
        self.customer.customer_id = None
        self.form.job_id = None
        self.evidence.job_id = None
        self.signature.job_id = None
        self.history.job_id = None
        self.parts.job_id = None

    # -- out of the app ---------------------------------------------------------------------
    def call_customer(self) -> str | None:
        """Dial the customer (the system's phone or softphone app) and log the call."""
        if self.job is None:
            return None
        url = phone_url(self.job.get("customer_phone"))
        if url is None:
            self.ctx.notify(tr("job.no_phone"), "error")
            return None
        self.ctx.run(ops.add_interaction, job_id=self.job["id"], kind="call",
                     text=self.job["customer_phone"])
        QDesktopServices.openUrl(QUrl(url))
        self.ctx.notify(tr("job.calling", number=self.job["customer_phone"]))
        return url

    def open_navigation(self) -> str | None:
        if self.job is None:
            return None
        url = navigation_url(self.job.get("customer_lat"), self.job.get("customer_lon"),
                             self.job.get("customer_name") or self.job["number"])
        if url is None:
            self.ctx.notify(tr("job.no_position"), "error")
            return None
        QDesktopServices.openUrl(QUrl(url))
        self.ctx.notify(tr("job.navigating"))
        return url

    def _go_back(self) -> None:
        self.leave()
        self.back_requested.emit()

"""同步问题: every change the server refused or settled otherwise, and why, in words.

The screen only reads: nothing here resolves, resends or deletes a change. The data stays on
the tablet and on the server for the supervisor; the technician is told exactly that, so a
red number in the top bar never reads as lost work.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QScroller,
    QVBoxLayout,
    QWidget,
)

from fieldapp.changes import Changes
from fieldapp.ui import ops, theme
from fieldapp.ui.context import AppContext
from fieldapp.ui.i18n import CATALOGUE, pick, tr
from fieldapp.ui.i18n.messages import describe_rejection
from fieldapp.ui.widgets.controls import button, chip, clear_layout, label, set_prop
from fieldapp.ui.widgets.formatting import stamp

STATE_COLOURS = {"rejected": theme.DANGER, "conflict": theme.WARNING}
# Kinds of change whose label is followed by the value the technician gave.
_WITH_VALUE = ("scan", "customer_phone", "reading", "signature")


# -- words for the data from ops.sync_problems --------------------------------------------


def value_text(value: ops.ShownValue | None) -> str:
    if value is None or value.kind == "empty":
        return tr("problems.empty_value")
    if value.kind == "status":
        return tr(f"status.{value.value}")
    if value.kind == "label":
        return pick(value.label)
    if value.kind == "submission":
        return tr(f"customer.submission.{value.value}")
    if value.kind == "time":
        return stamp(value.value) or str(value.value)
    if isinstance(value.value, list):
        return tr("error.list_sep").join(str(v) for v in value.value)
    return str(value.value)


def _quoted(value: ops.ShownValue) -> str:
    text = value_text(value)
    return text if value.kind == "empty" else tr("problems.quoted", value=text)


def what_text(p: ops.SyncProblem) -> str:
    """What the change was, e.g. 工单 AJ…-0001 状态改为 服务中, or 安检表 第3项『…』答案."""
    number = p.job_number or "—"
    if p.what == "job_status":
        return tr("change.job_status", number=number, status=value_text(p.values.get("status")))
    if p.what == "status_log":
        return tr("change.status_log", number=number,
                  from_status=value_text(p.values.get("from_status")),
                  to_status=value_text(p.values.get("to_status")))
    if p.what == "record":
        return tr("change.record", table=p.table)
    if p.what == "answer":
        question = pick(p.question) or "—"
        what = (tr("change.answer", n=p.question_number, question=question)
                if p.question_number else tr("change.answer_unnumbered", question=question))
        given = p.values.get("value")
    else:
        what = tr(f"change.{p.what}")
        given = next(iter(p.values.values()), None) if p.what in _WITH_VALUE else None
    if given is None or given.kind == "empty":
        return what
    return tr("problems.with_value", what=what, value=value_text(given))


def context_text(p: ops.SyncProblem) -> str:
    """Which job and customer, and when the technician made the change."""
    parts = []
    if p.job_number and p.what not in ("job_status", "status_log"):
        parts.append(tr("problems.job", number=p.job_number))
    if p.customer_name:
        parts.append(p.customer_name)
    parts.append(tr("problems.made_at", time=stamp(p.at)))
    return tr("problems.sep").join(parts)


def reason_lines(p: ops.SyncProblem) -> list[str]:
    """Why: the refusal in words, or for a conflict what was kept and what was saved."""
    if p.state != "conflict":
        return [describe_rejection(p.reason)]
    if not p.conflicts:
        return [tr("problems.conflict_unknown")]
    lines = []
    for c in p.conflicts:
        if c.mine_kept:
            text = tr("problems.conflict_mine", mine=_quoted(c.kept), theirs=_quoted(c.preserved))
        else:
            text = tr("problems.conflict_kept", kept=_quoted(c.kept),
                      preserved=_quoted(c.preserved))
        if len(p.conflicts) > 1:  # say which field each line is about
            key = f"field.{c.field}"
            text = tr("problems.field_line", field=tr(key) if key in CATALOGUE else c.field,
                      text=text)
        lines.append(text)
    return lines


# -- widgets ------------------------------------------------------------------------------


class ProblemCard(QFrame):
    """One problem: state, what it was, where and when, and why."""

    def __init__(self, problem: ops.SyncProblem) -> None:
        super().__init__()
        self.problem = problem
        self.setObjectName("card")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 12, 20, 14)
        outer.setSpacing(4)
        top = QHBoxLayout()
        top.setSpacing(12)
        self.state = chip(tr(f"sync_state.{problem.state}"),
                          STATE_COLOURS.get(problem.state, theme.MUTED))
        self.what = label(what_text(problem), name="problemWhat", wrap=True)
        top.addWidget(self.state, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.what, 1)
        outer.addLayout(top)
        self.context = label(context_text(problem), name="muted", wrap=True)
        outer.addWidget(self.context)
        self.reasons: list[QLabel] = []
        for line in reason_lines(problem):
            reason = label(line, name="problemReason", wrap=True)
            set_prop(reason, "state", problem.state)
            if problem.detail:
                reason.setToolTip(problem.detail)  # the server's own words, for the supervisor
            outer.addWidget(reason)
            self.reasons.append(reason)

    def texts(self) -> list[str]:
        """Everything the card says, top to bottom."""
        return [self.state.text(), self.what.text(), self.context.text(),
                *(r.text() for r in self.reasons)]


class SyncProblemsPage(QWidget):
    back_requested = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("page")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 0)
        layout.setSpacing(10)
        header = QHBoxLayout()
        header.setSpacing(14)
        self.back = button(role="flat", name="problemsBack")
        self.back.clicked.connect(self.back_requested)
        self.title = label(name="screenTitle")
        self.count = label(name="muted")
        header.addWidget(self.back)
        header.addWidget(self.title)
        header.addWidget(self.count)
        header.addStretch(1)
        layout.addLayout(header)
        self.intro = label(name="banner", wrap=True)
        set_prop(self.intro, "level", "info")
        layout.addWidget(self.intro)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        QScroller.grabGesture(self.scroll.viewport(), QScroller.ScrollerGestureType.TouchGesture)
        content = QWidget()
        self.list = QVBoxLayout(content)
        self.list.setContentsMargins(0, 0, 4, 16)
        self.list.setSpacing(10)
        self.scroll.setWidget(content)
        layout.addWidget(self.scroll, 1)
        self.empty = label(name="muted")
        self.empty.setContentsMargins(8, 24, 8, 24)
        layout.addWidget(self.empty)
        self.cards: list[ProblemCard] = []

        ctx.changes_applied.connect(self._on_changes)
        ctx.language_changed.connect(self._on_language)
        self._retranslate()  # the list itself is read when the page is shown

    def _retranslate(self) -> None:
        self.back.setText(tr("problems.back"))
        self.title.setText(tr("problems.title"))
        self.intro.setText(tr("problems.intro"))
        self.empty.setText(tr("problems.empty"))

    def refresh(self) -> None:
        self._retranslate()
        problems = self.ctx.run(ops.sync_problems) or []
        clear_layout(self.list)
        self.cards = [ProblemCard(p) for p in problems]
        for card in self.cards:
            self.list.addWidget(card)
        self.list.addStretch(1)
        self.count.setText(tr("problems.count", n=len(problems)))
        self.empty.setVisible(not problems)
        self.scroll.setVisible(bool(problems))

    def _on_language(self) -> None:
        if self.isVisible():
            self.refresh()
        else:
            self._retranslate()

    def _on_changes(self, changes: Changes) -> None:
        # A sync answers the outbox; a hidden page waits until it is shown again.
        if self.isVisible() and changes.touches("outbox", "sync"):
            self.refresh()

"""客户360: everything the tablet knows about the customer, read-only, on two columns."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from fieldapp.billing.tariff import yuan
from fieldapp.changes import Changes
from fieldapp.domain import holds
from fieldapp.domain.customer_tags import STANDARD_TAGS
from fieldapp.network.model import VALVE_CLOSED
from fieldapp.ui import ops
from fieldapp.ui.context import AppContext
from fieldapp.ui.i18n import language, tr
from fieldapp.ui.widgets.controls import Card, button, clear_layout, label
from fieldapp.ui.widgets.formatting import date_of
from fieldapp.ui.widgets.usage_chart import UsageChart

WATCHED = ("customers", "meters", "readings", "contracts", "payments", "bills", "jobs",
           "interactions",
           "submissions", "answers", "attachments")


def _volume(text: str | None) -> str:
    """280.000 → 280, 12.340 → 12.34: the litres are kept, the zeros are not shown."""
    try:
        return f"{Decimal(text or '0').normalize():f}"
    except InvalidOperation:
        return text or ""


def _or_dash(value: Any) -> str:
    return "—" if value in (None, "") else str(value)


class CustomerView(QScrollArea):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.customer_id: str | None = None
        self.setObjectName("customerView")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget()
        self.columns = QHBoxLayout(inner)
        self.columns.setContentsMargins(16, 16, 16, 16)
        self.columns.setSpacing(16)
        self.left = QVBoxLayout()
        self.right = QVBoxLayout()
        for column, stretch in ((self.left, 11), (self.right, 9)):
            column.setSpacing(16)
            self.columns.addLayout(column, stretch)
        self.setWidget(inner)
        ctx.changes_applied.connect(self._on_changes)
        ctx.language_changed.connect(self.refresh)

    def show_customer(self, customer_id: str) -> None:
        self.customer_id = customer_id
        self.refresh()
        self.verticalScrollBar().setValue(0)

    def refresh(self) -> None:
        if self.customer_id is None:
            return
        view = self.ctx.run(ops.customer_360, customer_id=self.customer_id)
        clear_layout(self.left)
        clear_layout(self.right)
        if view is None:
            return
        self.left.addWidget(self._basic(view["customer"]))
        self.left.addWidget(self._usage(view["usage"]))
        self.left.addWidget(self._meters(view["meters"]))
        self.left.addWidget(self._contracts(view["contracts"]))
        self.left.addStretch(1)
        self.right.addWidget(self._bills(view["bills"], view["arrears_cents"]))
        self.right.addWidget(self._payments(view["payments"]))
        self.right.addWidget(self._jobs(view["jobs"]))
        self.right.addWidget(self._inspections(view["inspections"]))
        self.right.addWidget(self._interactions(view["interactions"]))
        self.right.addStretch(1)

    def _on_changes(self, changes: Changes) -> None:
        if self.customer_id and changes.touches(*WATCHED):
            self.refresh()

    # -- cards ------------------------------------------------------------------------------
    def _basic(self, c: dict[str, Any]) -> Card:
        card = Card(tr("customer.basic"))
        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(8)
        household = (tr("customer.household_n", n=c["household_size"])
                     if c.get("household_size") else "—")
        pairs = [
            ("customer.name", c["name"]), ("customer.account", c["account_no"]),
            ("customer.phone", _or_dash(c["phone"])),
            ("customer.kind", tr(f"customer.kind.{c['kind']}") if c.get("kind") else "—"),
            ("customer.district", _or_dash(c["district"])), ("customer.household", household),
            ("customer.address", _or_dash(c["address"])),
        ]
        # Two pairs per row keeps the card short on a landscape tablet; the address gets a
        # whole row because it is the longest and the one read aloud at the door.
        for i, (key, value) in enumerate(pairs):
            row, col = divmod(i, 2)
            name = label(tr(key), name="muted")
            name.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            value_label = label(value, wrap=True, selectable=True,
                                name="customerName" if key == "customer.name" else None)
            span = 3 if key == "customer.address" else 1
            grid.addWidget(name, row, col * 2)
            grid.addWidget(value_label, row, col * 2 + 1, 1, span)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        card.body.addLayout(grid)
        card.body.addLayout(self._tag_chips(c))
        return card

    def _tag_chips(self, c: dict[str, Any]) -> QVBoxLayout:
        """The customer's tags as chips to tap: the standard ones and any other the office
        gave; a tap adds or takes off the tag (queued for the server like any change)."""
        box = QVBoxLayout()
        box.setSpacing(6)
        head = QHBoxLayout()
        head.addWidget(label(tr("customer.tags"), name="muted"))
        head.addWidget(label(tr("customer.tag_hint"), name="muted"))
        head.addStretch(1)
        box.addLayout(head)
        held = list(c["tags"] or [])
        rows = QGridLayout()
        rows.setSpacing(8)
        for i, tag in enumerate(dict.fromkeys([*STANDARD_TAGS, *held])):
            chip = button(tag, name="tagChip")
            chip.setCheckable(True)
            chip.setChecked(tag in held)
            chip.setMinimumHeight(44)  # a finger's width on a tablet
            chip.clicked.connect(lambda _=False, t=tag: self._toggle(t))
            rows.addWidget(chip, *divmod(i, 5))
        box.addLayout(rows)
        return box

    def _toggle(self, tag: str) -> None:
        if self.customer_id is not None:  # the change refreshes the view (WATCHED)
            self.ctx.run(ops.toggle_customer_tag, customer_id=self.customer_id, tag=tag)

    def _interactions(self, rows: list[dict[str, Any]]) -> Card:
        lines = [f"{date_of(r['at'])}  {r['job_number'] or ''}  {_said(r)}" for r in rows[:10]]
        return self._list_card("customer.interactions", lines)

    def _usage(self, months: list[tuple[str, float | None]]) -> Card:
        card = Card(tr("customer.usage"))
        year = [v for _, v in months[-12:] if v is not None]
        before = [v for _, v in months[-24:-12] if v is not None]
        if not year and not before:
            card.body.addWidget(label(tr("customer.usage_none"), name="muted"))
            return card
        card.body.addWidget(label(tr("customer.usage_totals", year=f"{sum(year):g}",
                                     before=f"{sum(before):g}" if before else "—"),
                                  name="muted", wrap=True))
        self.usage_chart = UsageChart(months)
        card.body.addWidget(self.usage_chart)
        return card

    def _meters(self, meters: list[dict[str, Any]]) -> Card:
        card = Card(tr("customer.meters"))
        if not meters:
            card.body.addWidget(label(tr("customer.none"), name="muted"))
        for m in meters:
            line = label(tr("customer.meter_line", serial=_or_dash(m["serial"]),
                            model=_or_dash(m["model"]), location=_or_dash(m["location"])),
                         wrap=True)
            line.setStyleSheet("font-weight: bold;")
            card.body.addWidget(line)
            card.body.addWidget(label(tr("customer.meter_barcode", barcode=_or_dash(m["barcode"]),
                                         installed=_or_dash(m["installed_on"])), name="muted"))
            if m.get("last_reading") is not None:
                card.body.addWidget(label(tr("customer.last_reading", value=m["last_reading"],
                                             date=date_of(m["last_read_at"]))))
            if m["readings"]:
                grid = QGridLayout()
                grid.setHorizontalSpacing(24)
                grid.setVerticalSpacing(2)
                for i, r in enumerate(m["readings"]):
                    grid.addWidget(label(date_of(r["read_at"]), name="muted"), i, 0)
                    value = label(tr("customer.reading_value", value=r["value"] or 0))
                    value.setAlignment(Qt.AlignmentFlag.AlignRight)
                    grid.addWidget(value, i, 1)
                grid.setColumnStretch(2, 1)
                card.body.addWidget(label(tr("customer.readings"), name="muted"))
                card.body.addLayout(grid)
        return card

    def _contracts(self, contracts: list[dict[str, Any]]) -> Card:
        lines = []
        for c in contracts:
            status = c["status"] or ""
            status_key = f"customer.contract.{status}"
            lines.append(tr("customer.contract_line", number=_or_dash(c["number"]),
                            tariff=_or_dash(c["tariff"]), signed=_or_dash(c["signed_on"]),
                            status=tr(status_key) if status == "active" else status))
        return self._list_card("customer.contract", lines)

    def _bills(self, bills: list[dict[str, Any]], arrears_cents: int) -> Card:
        rows = [(f"{b['period_start']} ~ {b['period_end']}",
                 tr("customer.volume", volume=_volume(b["volume"])),
                 f"¥{yuan(b['amount_cents'])}",
                 tr(f"customer.bill.{b['status']}")) for b in bills]
        card = self._table_card("customer.bills", rows, right={1, 2})
        owed = label(tr("customer.arrears", amount=yuan(arrears_cents)) if arrears_cents
                     else tr("customer.no_arrears"),
                     name="problem" if arrears_cents else "muted")
        card.body.insertWidget(0, owed)
        return card

    def _payments(self, payments: list[dict[str, Any]]) -> Card:
        rows = [(p["period"] or "", tr("customer.amount", amount=p["amount"] or 0),
                 p["method"] or "", date_of(p["paid_at"])) for p in payments]
        return self._table_card("customer.payments", rows, right={1})

    def _jobs(self, jobs: list[dict[str, Any]]) -> Card:
        rows = [(date_of(j["due_at"]), j["number"], tr(f"kind.{j['kind']}"),
                 tr(f"status.{j['status']}")) for j in jobs]
        return self._table_card("customer.jobs", rows)

    def _inspections(self, inspections: list[dict[str, Any]]) -> Card:
        rows = [(date_of(s["started_at"]), s.get("job_number") or "",
                 tr(f"customer.submission.{s['state']}"),
                 tr("customer.failed_items", n=s["failed_items"]),
                 tr("customer.photos", n=s["photos"])) for s in inspections]
        return self._table_card("customer.inspections", rows)

    @staticmethod
    def _list_card(title_key: str, lines: list[str]) -> Card:
        card = Card(tr(title_key))
        if not lines:
            card.body.addWidget(label(tr("customer.none"), name="muted"))
        for text in lines:
            card.body.addWidget(label(text, wrap=True))
        return card

    @staticmethod
    def _table_card(title_key: str, rows: list[tuple[str, ...]],
                    right: set[int] | None = None) -> Card:
        """Rows in aligned columns: easier to scan than sentences for money and dates."""
        card = Card(tr(title_key))
        if not rows:
            card.body.addWidget(label(tr("customer.none"), name="muted"))
            return card
        grid = QGridLayout()
        grid.setHorizontalSpacing(20)
        grid.setVerticalSpacing(6)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                cell = label(text, name="muted" if c == 0 else None)
                if right and c in right:
                    cell.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                grid.addWidget(cell, r, c)
        grid.setColumnStretch(len(rows[0]), 1)
        card.body.addLayout(grid)
        return card


def _said(r: dict[str, Any]) -> str:
    """What an interaction says, as its kind has it said."""
    if r["kind"] == "call":
        return tr("history.call", number=r["text"] or "")
    if r["kind"] == VALVE_CLOSED:
        return tr("history.valve", valve=r["text"] or "")
    if r["kind"] in holds.HOLD_KINDS:
        return holds.describe(r["kind"], r["text"], language())
    return str(r["text"] or "")

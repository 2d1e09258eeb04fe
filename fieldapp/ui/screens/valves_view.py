"""关阀分析, a tab of the job page: at a leak, which valves to close, nearest first along the
pipes, with a big 已关闭 button each that records it on the job (``ops.valves``). Shown only
when the tablet holds its district's network."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QScrollArea, QVBoxLayout, QWidget

from fieldapp.changes import Changes
from fieldapp.ui import ops
from fieldapp.ui.context import AppContext
from fieldapp.ui.i18n import tr
from fieldapp.ui.taskman import Task
from fieldapp.ui.widgets.controls import Card, button, clear_layout, label

SHOWN_PROPERTIES = ("name", "名称", "location", "位置", "address", "地址", "diameter_mm",
                    "管径")  # a valve's GIS attributes that help find it in the street


class ValvesView(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.job_id: str | None = None
        self.found: dict[str, Any] | None = None
        self.task: Task[dict[str, Any]] | None = None  # the analysis under way (for tests)
        self.setObjectName("page")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        row = QHBoxLayout()
        self.at_customer = button(role="primary", name="isolateAtCustomer")
        self.at_customer.clicked.connect(lambda: self.analyse(here=False))
        self.at_me = button(name="isolateHere")
        self.at_me.clicked.connect(lambda: self.analyse(here=True))
        self.where = label(name="muted", wrap=True)
        row.addWidget(self.at_customer)
        row.addWidget(self.at_me)
        row.addWidget(self.where, 1)
        layout.addLayout(row)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        inner = QWidget()
        inner.setObjectName("page")
        self.results = QVBoxLayout(inner)
        self.results.setSpacing(10)
        self.results.addStretch(1)
        scroll.setWidget(inner)
        layout.addWidget(scroll, 1)
        ctx.changes_applied.connect(self._on_changes)
        ctx.language_changed.connect(self.retranslate)
        self.retranslate()

    def retranslate(self) -> None:
        self.at_customer.setText(tr("valves.at_customer"))
        self.at_me.setText(tr("valves.here"))
        self._show()

    def set_job(self, job_id: str | None) -> None:
        self.job_id, self.found = job_id, None
        self._show()

    def analyse(self, here: bool) -> None:
        if self.job_id is None:
            return
        place: dict[str, float] = {}  # the customer's address, unless here
        if here:
            fix = self.ctx.position()
            if fix is None:
                self.ctx.notify(tr("valves.no_fix"), "error")
                return
            place = {"lat": fix.lat, "lon": fix.lon}
        job_id = self.job_id
        self.task = self.ctx.slow(ops.valve_isolation(job_id, **place),
                                  done=lambda found: self._found(job_id, found))

    def _found(self, job_id: str, found: dict[str, Any]) -> None:
        if job_id == self.job_id:  # not another job's, opened while it ran
            self.found = found
            self._show()

    def close_valve(self, valve_id: str) -> None:
        if self.job_id is not None:  # the change refreshes the list (_on_changes)
            self.ctx.run(ops.record_valve_closed, job_id=self.job_id, valve_id=valve_id)

    def _on_changes(self, changes: Changes) -> None:
        if self.job_id is not None and self.found is not None and \
                changes.touches("interactions"):
            self.found["closed"] = self.ctx.run(ops.closed_valves, job_id=self.job_id) or []
            self._show()

    def _show(self) -> None:
        clear_layout(self.results)
        found = self.found
        if found is None:
            self.where.setText(tr("valves.intro"))
            self.results.addStretch(1)
            return
        at = found["at"]
        self.where.setText(tr(f"valves.at.{at['from']}", lat=f"{at['lat']:.5f}",
                              lon=f"{at['lon']:.5f}", pipe=found["pipe"],
                              off=f"{found['off_pipe_m']:.0f}"))
        if found["unvalved_sources"]:
            warning = label(tr("valves.unvalved", sources="、".join(found["unvalved_sources"])),
                            name="problem", wrap=True)
            self.results.addWidget(warning)
        self._group("valves.close", found["close"], found["closed"], "valves.none")
        if found["downstream"]:
            self._group("valves.downstream", found["downstream"], found["closed"], "")
        meters = [str(s.get("meter") or s.get("customer") or "?")
                  for s in found["affected_service_lines"]]
        self.results.addWidget(label(tr("valves.affected", n=len(meters),
                                        meters="、".join(meters[:12]) or "—",
                                        metres=f"{found['shut_m']:.0f}"),
                                     name="muted", wrap=True))
        self.results.addStretch(1)

    def _group(self, title: str, valves: list[dict[str, Any]], closed: list[str],
               empty: str) -> None:
        card = Card(tr(title))
        if not valves and empty:
            card.body.addWidget(label(tr(empty), name="muted"))
        for valve in valves:
            row = QHBoxLayout()
            about = [str(valve["properties"][k]) for k in SHOWN_PROPERTIES
                     if valve["properties"].get(k)]
            text = tr("valves.line", id=valve["id"], along=f"{valve['along_m']:.0f}",
                      straight=f"{valve['straight_m']:.0f}")
            row.addWidget(label(text + ("\n" + " · ".join(about) if about else ""),
                                name="valveLine", wrap=True), 1)
            done = valve["id"] in closed
            mark = button(tr("valves.closed" if done else "valves.close_it"),
                          role="success" if not done else None, name="closeValve")
            mark.setMinimumHeight(52)
            mark.setEnabled(not done)
            mark.clicked.connect(lambda _=False, v=valve["id"]: self.close_valve(v))
            row.addWidget(mark)
            card.body.addLayout(row)
        self.results.addWidget(card)

"""今日地图, a page of the app: today's jobs in route order on the offline basemap with the
district's gas network and the technician's position (``widgets.tile_map``); a tap on a job
opens it. Above the map, what basemap it is drawn on, or why there is none."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from fieldapp.basemap.local import folder
from fieldapp.changes import Changes
from fieldapp.ui import ops, theme
from fieldapp.ui.context import AppContext
from fieldapp.ui.i18n import tr
from fieldapp.ui.ops.field_map import Shown, today_map
from fieldapp.ui.taskman import Task
from fieldapp.ui.widgets.controls import button, label
from fieldapp.ui.widgets.tile_map import MapJob, MapValve, TileMap


class MapPage(QWidget):
    open_job = Signal(str)
    closed = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.shown: Shown | None = None
        self.task: Task[Shown] | None = None  # the last load (for tests)
        self._fitted = False
        self.setObjectName("page")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        row = QHBoxLayout()
        self.back = button(name="mapBack")
        self.back.clicked.connect(self.closed)
        self.title = label(name="screenTitle")
        row.addWidget(self.back)
        row.addWidget(self.title)
        row.addStretch(1)
        self.fit = button(name="mapFit")
        self.me = button(name="mapMe")
        self.zoom_in = button(name="mapZoomIn")
        self.zoom_out = button(name="mapZoomOut")
        self.export = button(name="mapExport")
        self.network = button(name="mapNetwork")  # the mains on or off: the streets under
        self.network.setCheckable(True)
        self.network.setChecked(True)
        for widget in (self.network, self.fit, self.me, self.zoom_in, self.zoom_out,
                       self.export):
            row.addWidget(widget)
        layout.addLayout(row)
        self.status = label(name="muted", wrap=True)
        self.status.setObjectName("mapStatus")
        layout.addWidget(self.status)
        self.map = TileMap()
        layout.addWidget(self.map, 1)
        self.legend = label(name="muted", wrap=True)
        layout.addWidget(self.legend)
        self.map.job_clicked.connect(self.open_job)
        self.fit.clicked.connect(lambda: self.map.fit())
        self.me.clicked.connect(self.centre_on_me)
        self.zoom_in.clicked.connect(lambda: self.map.set_zoom(self.map.zoom + 1))
        self.zoom_out.clicked.connect(lambda: self.map.set_zoom(self.map.zoom - 1))
        self.export.clicked.connect(self.save_web_page)
        self.network.toggled.connect(self._show_network)
        ctx.changes_applied.connect(self._on_changes)
        ctx.language_changed.connect(self.retranslate)
        self.retranslate()

    def retranslate(self) -> None:
        for widget, key in ((self.back, "map.back"), (self.fit, "map.fit"), (self.me, "map.me"),
                            (self.network, "map.network"),
                            (self.zoom_in, "map.zoom_in"), (self.zoom_out, "map.zoom_out"),
                            (self.export, "map.export")):
            widget.setText(tr(key))
        self.legend.setText(tr("map.legend"))
        self._show_status()

    def load(self) -> Task[Shown]:
        """Read today's jobs, the network and the basemap again (in the background)."""
        self.task = self.ctx.slow(today_map(self.ctx.position()), done=self._shown)
        return self.task

    def _shown(self, shown: Shown) -> None:
        self.shown = shown
        fresh, kept = shown.basemap.basemap, self.map.basemap
        if fresh is not None and kept is not None and (fresh.path, fresh.stamp) == (
                kept.path, kept.stamp):
            fresh.close()  # the same file as before: keep the tiles already decoded
            shown.basemap.basemap = kept
        else:
            self.map.set_basemap(fresh)
        fix = self.ctx.position()
        self.map.set_layers(
            jobs=[MapJob(j["id"], j["customer_lon"], j["customer_lat"],
                         theme.status_colour(j["status"]).name(), j["number"],
                         j.get("priority") == 1) for j in shown.jobs],
            route=shown.route, pipes=shown.pipes,
            valves=[MapValve(*v) for v in shown.valves],
            me=(fix.lon, fix.lat, fix.accuracy_m) if fix else None)
        if not self._fitted:  # the first time; later loads keep where the finger left it
            self._fitted = True
            self.map.fit()
        self.title.setText(tr("map.title", n=len(shown.jobs)))
        self._show_status()

    def _show_status(self) -> None:
        shown = self.shown
        if shown is None:
            self.title.setText(tr("today.map"))
            self.status.setText("")
            return
        lines = [tr("map.refused", name=name, reason=reason)
                 for name, reason in shown.basemap.refused]
        basemap = shown.basemap.basemap
        if basemap is None:
            lines.insert(0, tr("map.no_basemap", folder=str(folder(self.ctx.data_dir))))
        else:
            lines.insert(0, tr("map.basemap", name=basemap.name,
                               zooms=f"{basemap.min_zoom}–{basemap.max_zoom}",
                               synced=tr("map.basemap_synced") if shown.basemap.synced else ""))
            if shown.outside:
                lines.append(tr("map.outside"))
        if shown.route_km:
            lines.append(tr("map.route_road", km=shown.route_km, crow=shown.crow_order_km)
                         if shown.by_road and shown.crow_order_km is not None
                         else tr("map.route_crow", km=shown.route_km))
        self.status.setText("\n".join(lines))

    def _show_network(self, on: bool) -> None:
        self.map.show_network = on
        self.map.update()

    def centre_on_me(self) -> None:
        fix = self.ctx.position()
        if fix is None:
            self.ctx.notify(tr("map.no_position"), "warning")
            return
        self.map.centre_on(fix.lon, fix.lat, max(self.map.zoom, 16))

    def save_web_page(self) -> Task[Path]:
        """The previous map: a self-contained HTML page, to send or print."""

        def opened(path: Path) -> None:
            self.ctx.notify(tr("today.map_saved", path=str(path)), "success")
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

        return self.ctx.slow(ops.slow.write_today_map(self.ctx.position()), done=opened)

    def _on_changes(self, changes: Changes) -> None:
        if self.isVisible() and changes.touches("jobs", "customers", "interactions",
                                                "org_settings", "session"):
            self.load()

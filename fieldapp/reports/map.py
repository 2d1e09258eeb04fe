"""Today's jobs on a map that needs no network: one self-contained HTML file.

    write_today_map(replica, data_dir / "maps" / "today.html", position=gps.current())

Markers are coloured by job status and numbered in route order, the technician's position is
drawn with its accuracy, and the route is a line through the stops. Leaflet's JS and CSS (from
``resources/leaflet/``) are inlined into the page and folium's CDN links are dropped, so the
file opens in any browser on a tablet with no connection. There are no online tiles: a local
tile folder is used when there is one, else the stops stand on a plain background.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from fieldapp.domain.kinds import KIND_ZH
from fieldapp.domain.route import Route
from fieldapp.domain.status import STATUS_ZH
from fieldapp.local_time import LOCAL_ZONE
from fieldapp.position import Position
from fieldapp.resources import resource

if TYPE_CHECKING:
    from fieldapp.replica import Replica

LEAFLET_DIR = resource("leaflet")
BACKGROUND = "#eef0ea"
ROUTE_COLOUR = "#1f6feb"
ME_COLOUR = "#0b57d0"
EMERGENCY_RING = "#d93025"


@dataclass(frozen=True)
class StatusStyle:
    label: str
    colour: str


_COLOURS = {"pending": "#9aa0a6", "dispatched": "#5b7fbf", "accepted": "#12939a",
            "en_route": "#f29900", "in_service": "#9334e6", "completed": "#1e8e3e",
            "followed_up": "#0d652d", "cancelled": "#5f6368", "suspended": "#8a4b00",
            "returned": "#b3261e"}
STATUS_STYLES: dict[str, StatusStyle] = {
    status: StatusStyle(STATUS_ZH[status], colour) for status, colour in _COLOURS.items()}
_UNKNOWN = StatusStyle("未知", "#5f6368")


class LeafletMissing(FileNotFoundError):
    pass


@cache
def _leaflet() -> tuple[str, str]:
    """Leaflet's JS and CSS, the CSS's few small images turned into data: URLs so the page
    refers to no file beside itself."""
    try:
        js = (LEAFLET_DIR / "leaflet.js").read_text(encoding="utf-8")
        css = (LEAFLET_DIR / "leaflet.css").read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise LeafletMissing(f"Leaflet is not in {LEAFLET_DIR}; run `make assets`") from exc

    def inline(match: re.Match[str]) -> str:
        image = LEAFLET_DIR / "images" / match.group(1)
        if not image.is_file():
            return "none"
        return f"url(data:image/png;base64,{base64.b64encode(image.read_bytes()).decode()})"

    return js, re.sub(r"url\(images/([\w.-]+\.png)\)", inline, css)


def build_map(jobs: Sequence[Mapping[str, Any]], *, position: Position | None = None,
              route: Route | None = None, title: str = "今日工单",
              tiles_dir: Path | None = None) -> folium.Map:
    """A folium map of ``jobs`` (rows as ``replica.jobs.today()`` returns them)."""
    placed = [j for j in jobs if j.get("customer_lat") is not None
              and j.get("customer_lon") is not None]
    points = [(j["customer_lat"], j["customer_lon"]) for j in placed]
    if position is not None:
        points.append((position.lat, position.lon))
    centre = _centre(points)
    fmap = folium.Map(location=centre, zoom_start=13, tiles=None, control_scale=True,
                      max_zoom=18, min_zoom=5)
    _offline(fmap)
    if tiles_dir is not None and Path(tiles_dir).is_dir():
        folium.TileLayer(tiles=Path(tiles_dir).resolve().as_uri() + "/{z}/{x}/{y}.png",
                         attr="本地底图", max_zoom=18).add_to(fmap)

    order = {job_id: n for n, job_id in enumerate(route.order, 1)} if route else {}
    if route is not None:
        _route_line(fmap, route, placed, position)
    for job in placed:
        _job_marker(fmap, job, order.get(job["id"]))
    if position is not None:
        _me(fmap, position)
    _legend(fmap, title, jobs, placed, route, position)
    if len(points) > 1:
        lats, lons = [p[0] for p in points], [p[1] for p in points]
        fmap.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]], padding=(40, 40))
    return fmap


def render_map(jobs: Sequence[Mapping[str, Any]], **kwargs: Any) -> str:
    return build_map(jobs, **kwargs).get_root().render()


def write_map(path: Path | str, jobs: Sequence[Mapping[str, Any]], **kwargs: Any) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_text(render_map(jobs, **kwargs), encoding="utf-8")
    tmp.replace(path)  # a browser that has the old file open never sees half a page
    return path


def write_today_map(replica: Replica, path: Path | str, *, position: Position | None = None,
                    now: datetime | None = None, tiles_dir: Path | None = None) -> Path:
    """Today's jobs, the technician and the planned route, written to ``path``."""
    return write_map(path, tiles_dir=tiles_dir, **today(replica, position, now))


def today(replica: Replica, position: Position | None, now: datetime | None = None
          ) -> dict[str, Any]:
    """What today's map shows, read from the replica: ``write_map``'s ``jobs`` and keywords.
    Reading is quick; drawing (``write_map``) is slow and needs no database."""
    now = now or datetime.now(LOCAL_ZONE)
    jobs = replica.jobs.today(now.date())
    route = replica.jobs.route((position.lat, position.lon) if position else None, now=now)
    return {"jobs": jobs, "position": position, "route": route,
            "title": f"今日工单 {now:%Y-%m-%d}"}


# -- pieces --------------------------------------------------------------------------------


def _figure(fmap: folium.Map) -> Figure:
    """The page the map is drawn on: branca types a root as any Element, a map's is a Figure."""
    root = fmap.get_root()
    assert isinstance(root, Figure)
    return root


def _offline(fmap: folium.Map) -> None:
    """Drop folium's CDN links (Leaflet, jQuery, Bootstrap, Font Awesome…) and inline Leaflet."""
    fmap.default_js = []
    fmap.default_css = []
    js, css = _leaflet()
    header = _figure(fmap).header
    header.add_child(Element(f"<style>{css}</style>"), name="leaflet_css")
    header.add_child(Element(f"<script>{js}</script>"), name="leaflet_js")
    header.add_child(Element(_STYLE), name="fieldapp_map_css")


_STYLE = f"""<style>
.leaflet-container {{ background: {BACKGROUND};
  font-family: "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif; }}
.stop-no {{ width: 22px; height: 22px; line-height: 22px; border-radius: 11px; color: #fff;
  font: bold 12px/22px sans-serif; text-align: center; text-shadow: 0 0 2px #000; }}
.fa-legend {{ position: fixed; top: 10px; right: 10px; z-index: 1000; background: #fff;
  padding: 10px 14px; border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.3);
  font: 14px/1.6 "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif; max-width: 300px; }}
.fa-legend h3 {{ margin: 0 0 4px; font-size: 16px; }}
.fa-legend .dot {{ display: inline-block; width: 12px; height: 12px; border-radius: 6px;
  margin-right: 6px; vertical-align: -1px; }}
</style>"""


def _centre(points: list[tuple[float, float]]) -> tuple[float, float]:
    if not points:
        return 32.0415, 118.7781  # Nanjing: somewhere sensible for an empty day
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def _style(job: Mapping[str, Any]) -> StatusStyle:
    return STATUS_STYLES.get(str(job.get("status")), _UNKNOWN)


def _job_marker(fmap: folium.Map, job: Mapping[str, Any], number: int | None) -> None:
    style = _style(job)
    where = (job["customer_lat"], job["customer_lon"])
    emergency = job.get("priority") == 1
    due = _time(job.get("due_at"))
    popup = "<br>".join([
        f"<b>{_e(job.get('number'))}</b> {_e(KIND_ZH.get(job.get('kind') or '', ''))}"
        + (" <b style='color:#d93025'>紧急</b>" if emergency else ""),
        _e(job.get("customer_name")), _e(job.get("customer_address")),
        f"状态：{style.label}" + (f" · 预约 {due}" if due else "")
        + (f" · 第 {number} 站" if number else ""),
    ])
    # folium's Marker.add_child is unannotated
    folium.CircleMarker(
        where, radius=13, color=EMERGENCY_RING if emergency else "#ffffff",
        weight=4 if emergency else 2, fill=True, fill_color=style.colour, fill_opacity=0.95,
        tooltip=f"{_e(job.get('number'))} {_e(job.get('customer_name'))} · {style.label}",
    ).add_child(_Popup(popup)).add_to(fmap)  # type: ignore[no-untyped-call]
    if number is not None:
        fmap.add_child(_Label(where, f'<div class="stop-no">{number}</div>'))


class _Popup(MacroElement):
    """A popup bound with Leaflet itself: folium's own builds it with jQuery, a CDN script."""

    _template = Template("""{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.bindPopup({{ this.html|tojson }}, {"maxWidth": 320});
    {% endmacro %}""")

    def __init__(self, html_text: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca's, unannotated
        self._name = "Popup"
        self.html = html_text


class _Label(MacroElement):
    """A route number over a stop. folium's Marker first builds Leaflet's default pin icon,
    which fetches marker-icon.png; a plain divIcon marker fetches nothing."""

    _template = Template("""{% macro script(this, kwargs) %}
        L.marker({{ this.location|tojson }}, {"icon": L.divIcon({"html": {{ this.html|tojson }},
            "className": "stop-label", "iconSize": [22, 22], "iconAnchor": [11, 11]}),
            "interactive": false, "keyboard": false}).addTo({{ this._parent.get_name() }});
    {% endmacro %}""")

    def __init__(self, location: tuple[float, float], html_text: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca's, unannotated
        self._name = "Label"
        self.location = list(location)
        self.html = html_text


def _me(fmap: folium.Map, position: Position) -> None:
    label = "我的位置" + (" (模拟定位)" if position.simulated else "")
    if position.accuracy_m:
        folium.Circle((position.lat, position.lon), radius=position.accuracy_m, color=ME_COLOUR,
                      weight=1, fill=True, fill_opacity=0.12).add_to(fmap)
    folium.CircleMarker((position.lat, position.lon), radius=9, color="#ffffff", weight=3,
                        fill=True, fill_color=ME_COLOUR, fill_opacity=1.0,
                        tooltip=label).add_to(fmap)


def _route_line(fmap: folium.Map, route: Route, placed: Sequence[Mapping[str, Any]],
                position: Position | None) -> None:
    where = {j["id"]: (j["customer_lat"], j["customer_lon"]) for j in placed}
    line = [(position.lat, position.lon)] if position else []
    line += [where[job_id] for job_id in route.order if job_id in where]
    if len(line) > 1:
        # folium's PolyLine is unannotated
        folium.PolyLine(line, color=ROUTE_COLOUR, weight=4, opacity=0.75,  # type: ignore[no-untyped-call]
                        tooltip=f"路线 {route.total_km:.1f} km").add_to(fmap)


def _legend(fmap: folium.Map, title: str, jobs: Sequence[Mapping[str, Any]],
            placed: Sequence[Mapping[str, Any]], route: Route | None,
            position: Position | None) -> None:
    counts: dict[str, int] = {}
    for job in jobs:
        counts[str(job.get("status"))] = counts.get(str(job.get("status")), 0) + 1
    rows = [f"共 {len(jobs)} 单"
            + (f" · 路线 {route.total_km:.1f} km" if route and route.legs else "")]
    for status, n in counts.items():
        style = STATUS_STYLES.get(status, _UNKNOWN)
        rows.append(f'<span class="dot" style="background:{style.colour}"></span>'
                    f"{style.label} {n}")
    if len(placed) < len(jobs):
        rows.append(f"{len(jobs) - len(placed)} 单无坐标，未标出")
    if route is not None and route.legs:
        by_id = {j["id"]: j for j in jobs}
        rows.append("<b>建议顺序</b>（到达时间为估算）")
        for n, leg in enumerate(route.legs, 1):
            job = by_id.get(leg.stop_id, {})
            late = f' <span style="color:#d93025">晚 {leg.late_min:.0f} 分钟</span>' \
                if leg.late_min >= 1 else ""
            rows.append(f"{n}. {leg.arrive_at.astimezone(LOCAL_ZONE):%H:%M} "
                        f"{_e(job.get('customer_name'))} {leg.km:.1f} km{late}")
    rows.append("我的位置：" + ("无GPS定位" if position is None else
                                 f"±{position.accuracy_m:.0f} m" if position.accuracy_m
                                 else "精度未知")
                + (" (模拟)" if position is not None and position.simulated else ""))
    body = "".join(f"<div>{row}</div>" for row in rows)
    _figure(fmap).html.add_child(
        Element(f'<div class="fa-legend" id="legend"><h3>{_e(title)}</h3>{body}</div>'),
        name="legend")


def _time(value: Any) -> str:
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return ""
    return (moment.astimezone(LOCAL_ZONE) if moment.tzinfo else moment).strftime("%H:%M")


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))

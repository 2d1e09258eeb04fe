"""今日地图 inside the app: what the map page draws, gathered off the UI thread. Today's
jobs are read on the database worker; in the pool the route is planned (along the roads of
the district's network bundle when it has them: ``fieldapp.network.roads``), the network is
read from its bundle and the basemap opened (``fieldapp.basemap.local``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fieldapp.basemap.local import Choice, choose
from fieldapp.domain.route import Route, Stop, plan_route
from fieldapp.local_time import LOCAL_ZONE
from fieldapp.network.bundle import drawn
from fieldapp.network.model import VALVE_CLOSED, NetworkFileError
from fieldapp.network.roads import of_bundle
from fieldapp.position import Position
from fieldapp.replica import Replica
from fieldapp.sync import basemap_files, network_files
from fieldapp.ui.i18n import tr
from fieldapp.ui.taskman import SlowOp

LonLat = tuple[float, float]
LatLon = tuple[float, float]


@dataclass
class Shown:
    jobs: list[dict[str, Any]]  # today's, each with ``number``: its place in the route
    route: list[LonLat]  # from the technician (when placed) through the open jobs in order
    basemap: Choice
    pipes: list[tuple[list[LonLat], bool]] = field(default_factory=list)
    valves: list[tuple[str, float, float, bool]] = field(default_factory=list)  # id, lon, lat, shut
    outside: bool = False  # the basemap covers none of the jobs
    route_km: float = 0.0  # the planned route's length
    by_road: bool = False  # measured along the district's roads (else as the crow flies)
    crow_order_km: float | None = None  # the order planned as the crow flies, by road


def _points(start: LatLon | None, planned: Route, stops: list[Stop]) -> list[LatLon]:
    """The route's points in its order, from the start when there is one (lat, lon)."""
    where = {s.id: (s.lat, s.lon) for s in stops if s.lat is not None and s.lon is not None}
    points = [where[i] for i in planned.order if i in where]
    return ([start] if start else []) + points  # type: ignore[list-item]


def today_map(position: Position | None, now: datetime | None = None) -> SlowOp[Shown]:
    def read(replica: Replica) -> dict[str, Any]:
        at = now or datetime.now(LOCAL_ZONE)
        jobs = replica.jobs.today(at.date())
        start = (position.lat, position.lon) if position else None
        shut = {r["text"] for r in replica.db.query(
            "SELECT text FROM interactions WHERE kind = ? AND job_id IN "
            f"({','.join('?' * len(jobs)) or 'NULL'})", [VALVE_CLOSED, *[j["id"] for j in jobs]])}
        return {"jobs": jobs, "stops": replica.jobs.stops(at, jobs), "at": at, "start": start,
                "shut": shut,
                "bundle": network_files.bundle(replica), "data_dir": replica.data_dir,
                "synced": replica.state(basemap_files.KEPT)}

    def draw(got: dict[str, Any]) -> Shown:
        found = got["bundle"]
        try:
            roads = of_bundle(*found) if found else None
        except NetworkFileError:
            roads = None  # a damaged bundle is fetched again by the next sync
        planned = plan_route(got["stops"], start=got["start"], start_time=got["at"],
                             distance=roads.matrix_km if roads else None)
        number = {job_id: n for n, job_id in enumerate(planned.order, 1)}
        jobs = [dict(j, number=number.get(j["id"])) for j in got["jobs"]
                if j.get("customer_lat") is not None and j.get("customer_lon") is not None]
        by_id = {j["id"]: j for j in jobs}
        route = [(got["start"][1], got["start"][0])] if got["start"] else []
        route += [(by_id[i]["customer_lon"], by_id[i]["customer_lat"]) for i in planned.order
                  if i in by_id]  # the route holds the jobs still open
        shown = Shown(jobs, route, choose(got["data_dir"], got["synced"]),
                      route_km=planned.total_km, by_road=roads is not None)
        if roads is not None:  # the order as the crow flies, driven along the same roads
            crow = plan_route(got["stops"], start=got["start"], start_time=got["at"])
            shown.crow_order_km = roads.along_km(_points(got["start"], crow, got["stops"]))
        if got["bundle"] is not None:
            try:
                shown.pipes, valves = drawn(got["bundle"][1])
            except NetworkFileError:
                valves = []  # a damaged bundle is fetched again by the next sync
            shown.valves = [(v, lon, lat, shut or v in got["shut"]) for v, lon, lat, shut in valves]
        basemap = shown.basemap.basemap
        shown.outside = bool(basemap and jobs) and not any(
            basemap.covers(j["customer_lon"], j["customer_lat"]) for j in jobs)
        return shown

    return SlowOp[Shown](tr("today.map_working")).db(read).work(draw)

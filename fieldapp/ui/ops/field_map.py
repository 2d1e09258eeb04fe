"""今日地图 inside the app: what the map page draws, gathered off the UI thread. Today's
jobs and their route are read on the database worker; the district's network is read from
its bundle and the basemap opened (``fieldapp.basemap.local``) in the pool."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fieldapp.basemap.local import Choice, choose
from fieldapp.local_time import LOCAL_ZONE
from fieldapp.network.bundle import drawn
from fieldapp.network.model import VALVE_CLOSED, NetworkFileError
from fieldapp.position import Position
from fieldapp.replica import Replica
from fieldapp.sync import basemap_files, network_files
from fieldapp.ui.i18n import tr
from fieldapp.ui.taskman import SlowOp

LonLat = tuple[float, float]


@dataclass
class Shown:
    jobs: list[dict[str, Any]]  # today's, each with ``number``: its place in the route
    route: list[LonLat]  # from the technician (when placed) through the open jobs in order
    basemap: Choice
    pipes: list[tuple[list[LonLat], bool]] = field(default_factory=list)
    valves: list[tuple[str, float, float, bool]] = field(default_factory=list)  # id, lon, lat, shut
    outside: bool = False  # the basemap covers none of the jobs


def today_map(position: Position | None, now: datetime | None = None) -> SlowOp[Shown]:
    def read(replica: Replica) -> dict[str, Any]:
        at = now or datetime.now(LOCAL_ZONE)
        jobs = replica.jobs.today(at.date())
        start = (position.lat, position.lon) if position else None
        route = replica.jobs.route(start, now=at)
        shut = {r["text"] for r in replica.db.query(
            "SELECT text FROM interactions WHERE kind = ? AND job_id IN "
            f"({','.join('?' * len(jobs)) or 'NULL'})", [VALVE_CLOSED, *[j["id"] for j in jobs]])}
        return {"jobs": jobs, "order": route.order, "start": start, "shut": shut,
                "bundle": network_files.bundle(replica), "data_dir": replica.data_dir,
                "synced": replica.state(basemap_files.KEPT)}

    def draw(got: dict[str, Any]) -> Shown:
        number = {job_id: n for n, job_id in enumerate(got["order"], 1)}
        jobs = [dict(j, number=number.get(j["id"])) for j in got["jobs"]
                if j.get("customer_lat") is not None and j.get("customer_lon") is not None]
        by_id = {j["id"]: j for j in jobs}
        route = [(got["start"][1], got["start"][0])] if got["start"] else []
        route += [(by_id[i]["customer_lon"], by_id[i]["customer_lat"]) for i in got["order"]
                  if i in by_id]  # the route holds the jobs still open
        shown = Shown(jobs, route, choose(got["data_dir"], got["synced"]))
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

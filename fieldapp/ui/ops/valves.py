"""关阀分析: the valves that shut off a leak at a job, on the district's network the tablet
keeps (``fieldapp.sync.network_files``), and the record of each one closed (an interaction
of the job: it syncs, and the office sees it on the job).

The analysis is a slow op: a large district's graph takes seconds to build from its bundle
(once per bundle; kept for the next leak), and the trace runs in the pool, not on the UI
thread or the database worker."""

from __future__ import annotations

import threading
from dataclasses import asdict
from typing import Any

from fieldapp.changes import Changes
from fieldapp.errors import InvalidInput
from fieldapp.network.build import Network
from fieldapp.network.bundle import unpack
from fieldapp.network.isolation import isolate
from fieldapp.network.model import VALVE_CLOSED, NetworkFileError
from fieldapp.replica import Replica
from fieldapp.sync import network_files
from fieldapp.ui.i18n import tr
from fieldapp.ui.taskman import SlowOp

_built: dict[str, Network] = {}  # bundle sha → its graph (one district's at a time)
_building = threading.Lock()  # two analyses at once build it once


def has_network(replica: Replica) -> bool:
    sha = replica.state(network_files.KEPT)
    return bool(sha) and network_files.path(replica.data_dir, sha).is_file()


def valve_isolation(job_id: str, lat: float | None = None,
                    lon: float | None = None) -> SlowOp[dict[str, Any]]:
    """The isolation for a leak at (lat, lon), or at the job's customer when not given: the
    valves as ``isolation.Isolation`` has them (plain data), with ``closed`` the ids of
    those this job has recorded closed and ``at`` where the leak was taken."""

    def gather(replica: Replica) -> dict[str, Any]:
        where = "given"
        place_lat, place_lon = lat, lon
        if place_lat is None or place_lon is None:
            customer = replica.find("customers", replica.jobs.get(job_id)["customer_id"]) or {}
            place_lat, place_lon, where = customer.get("lat"), customer.get("lon"), "customer"
            if place_lat is None or place_lon is None:
                raise InvalidInput("no_leak_position", "the customer has no position")
        built = _built_for(replica)  # else its bundle is read here, built in the pool
        found = None if built else network_files.bundle(replica)
        if not built and found is None:
            raise InvalidInput("no_network", "no gas network on this tablet yet")
        return {"sha": replica.state(network_files.KEPT), "bundle": found,
                "folder": replica.data_dir, "lat": float(place_lat), "lon": float(place_lon),
                "from": where, "closed": closed_valves(replica, job_id=job_id)}

    def trace(got: dict[str, Any]) -> dict[str, Any]:
        net = _network(got)
        found = asdict(isolate(net, got["lat"], got["lon"]))
        found["closed"] = got["closed"]
        found["at"] = {"lat": got["lat"], "lon": got["lon"], "from": got["from"]}
        return found

    return SlowOp[dict[str, Any]](tr("valves.working")).db(gather).work(trace)


def closed_valves(replica: Replica, *, job_id: str) -> list[str]:
    return [r["text"] for r in replica.db.query(
        "SELECT text FROM interactions WHERE job_id = ? AND kind = ? ORDER BY at",
        [job_id, VALVE_CLOSED])]


def record_valve_closed(replica: Replica, *, job_id: str, valve_id: str) -> Changes:
    if valve_id in closed_valves(replica, job_id=job_id):
        return Changes()  # a second tap records nothing twice
    return replica.interactions.add(job_id, VALVE_CLOSED, valve_id)


def _built_for(replica: Replica) -> bool:
    return replica.state(network_files.KEPT) in _built


def _network(got: dict[str, Any]) -> Network:
    with _building:
        if got["sha"] not in _built:
            if got["bundle"] is None:  # built when asked, replaced by another since
                raise InvalidInput("no_network", "the network changed: try again")
            try:
                net = unpack(got["bundle"][1])
            except NetworkFileError as exc:  # damaged: the next sync fetches it again
                network_files.path(got["folder"], got["sha"]).unlink(missing_ok=True)
                raise InvalidInput("no_network", "the network file is damaged") from exc
            _built.clear()
            _built[got["sha"]] = net
        return _built[got["sha"]]

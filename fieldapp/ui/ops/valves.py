"""关阀分析: the valves that shut off a leak at a job, on the district's network the tablet
keeps (``fieldapp.sync.network_files``), and the record of each one closed (an interaction
of the job: it syncs, and the office sees it on the job)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fieldapp.changes import Changes
from fieldapp.errors import InvalidInput
from fieldapp.network.build import Network
from fieldapp.network.isolation import isolate
from fieldapp.network.model import VALVE_CLOSED
from fieldapp.replica import Replica
from fieldapp.sync import network_files

_loaded: dict[str, Network] = {}  # bundle sha → its graph: built once per bundle, not per tap


def has_network(replica: Replica) -> bool:
    return _network(replica) is not None


def valve_isolation(replica: Replica, *, job_id: str, lat: float | None = None,
                    lon: float | None = None) -> dict[str, Any]:
    """The isolation for a leak at (lat, lon), or at the job's customer when not given: the
    valves as ``isolation.Isolation`` has them (plain data), with ``closed`` the ids of
    those this job has recorded closed and ``at`` where the leak was taken."""
    net = _network(replica)
    if net is None:
        raise InvalidInput("no_network", "no gas network on this tablet yet")
    job = replica.jobs.get(job_id)
    where = "given"
    if lat is None or lon is None:
        customer = replica.find("customers", job["customer_id"]) or {}
        lat, lon, where = customer.get("lat"), customer.get("lon"), "customer"
        if lat is None or lon is None:
            raise InvalidInput("no_leak_position", "the customer has no position")
    found = asdict(isolate(net, float(lat), float(lon)))
    found["closed"] = closed_valves(replica, job_id=job_id)
    found["at"] = {"lat": lat, "lon": lon, "from": where}
    return found


def closed_valves(replica: Replica, *, job_id: str) -> list[str]:
    return [r["text"] for r in replica.db.query(
        "SELECT text FROM interactions WHERE job_id = ? AND kind = ? ORDER BY at",
        [job_id, VALVE_CLOSED])]


def record_valve_closed(replica: Replica, *, job_id: str, valve_id: str) -> Changes:
    if valve_id in closed_valves(replica, job_id=job_id):
        return Changes()  # a second tap records nothing twice
    return replica.interactions.add(job_id, VALVE_CLOSED, valve_id)


def _network(replica: Replica) -> Network | None:
    sha = replica.state(network_files.KEPT)
    if not sha:
        return None
    if sha not in _loaded:
        net = network_files.load(replica)
        if net is None:
            return None
        _loaded.clear()  # one district's network at a time
        _loaded[sha] = net
    return _loaded[sha]

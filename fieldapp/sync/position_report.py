"""The technician's last fix, sent to the office with a sync: only when they agreed to it
(the setting 上报我的位置, off until turned on) and while on duty (a job accepted, on the way
or on site), and never a simulated fix (a tablet without a receiver would send a made-up
place that dispatch would trust). What the server refuses is logged and dropped: a position
is not the technician's work, and the next sync sends a newer one.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fieldapp.errors import ServerRejected
from fieldapp.position import Position
from fieldapp.replica import Replica
from fieldapp.replica.settings import KEYS
from fieldapp.wire import PositionReport, PositionTaken

if TYPE_CHECKING:
    from fieldapp.sync.client import SyncClient

log = logging.getLogger("fieldapp.sync")
ON_DUTY = ("accepted", "en_route", "in_service")


def due(replica: Replica) -> bool:
    """Whether this tablet reports its fix now: consent given, a technician, on a job."""
    session = replica.session
    if replica.state(KEYS["report_position"]) != "1" or session is None or \
            session.role != "technician":
        return False
    marks = ", ".join("?" * len(ON_DUTY))
    return bool(replica.db.execute(
        f"SELECT EXISTS (SELECT 1 FROM jobs WHERE assignee = ? AND status IN ({marks}))",
        [session.username, *ON_DUTY]).fetchone()[0])


def send(client: SyncClient, fix: Position | None) -> PositionTaken | None:
    """Report ``fix`` if one is due; what the server made of it, None when nothing went."""
    if fix is None or fix.simulated or not client._db(lambda: due(client.r)):
        return None
    body = PositionReport(lat=fix.lat, lon=fix.lon, accuracy_m=fix.accuracy_m,
                          fix_time=fix.fix_time, source=fix.source[:16])
    try:
        resp = client._call("POST", "/api/v1/positions", json=body.model_dump(mode="json"))
    except ServerRejected as exc:
        log.info("position not taken: %s", exc)
        return None
    return PositionTaken.model_validate_json(resp.content)

"""Who is signed in, the offline unlock, the sync status, the tablet's settings and its GPS."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from fieldapp.capture.gps import PositionSource, source_from_config
from fieldapp.changes import Changes
from fieldapp.replica import Replica, Session, wipe
from fieldapp.replica import unlock as unlock_check
from fieldapp.sync.credentials import TokenStore

LAST_SYNC_KEY = "last_sync_at"  # written by SyncClient.sync
LANGUAGE_KEY = "ui.language"
GPS_KEY = "gps.source"  # sim, sim:LAT,LON, none, nmea:PATH, nmea:COM4@9600 or platform
GPS_ENV = "FIELDAPP_GPS"

log = logging.getLogger("fieldapp.ui")


def session(replica: Replica) -> Session | None:
    return replica.session


def needs_unlock(replica: Replica) -> bool:
    return replica.session is not None and unlock_check.can_unlock(replica)


def erase_tablet(replica: Replica) -> list[str]:
    """Remote wipe, once the server has everything: the device token, then the data (the
    replica is closed here). Returns what could not be removed."""
    data_dir = replica.data_dir
    TokenStore(replica).clear()
    replica.close()
    return wipe.erase(data_dir)


def has_login(replica: Replica) -> bool:
    """True once an online login stored a token, i.e. a sync can be tried."""
    return bool(TokenStore(replica).get())



@dataclass(frozen=True)
class SyncStatus:
    pending: int
    problems: int
    last_sync_at: str | None


def sync_status(replica: Replica) -> SyncStatus:
    counts = replica.outbox.counts()
    return SyncStatus(pending=counts["pending"], problems=counts["conflict"] + counts["rejected"],
                      last_sync_at=replica.state(LAST_SYNC_KEY))


def setting(replica: Replica, *, key: str) -> str | None:
    return replica.state(key)


def save_setting(replica: Replica, *, key: str, value: str) -> Changes:
    replica.set_state(key, value)
    return Changes()


def position_source(replica: Replica) -> PositionSource:
    """The GPS source: ``FIELDAPP_GPS``, else the tablet's setting, else the simulated one.

    A setting that cannot be understood gives a source without fix rather than a simulated
    one: a photo must never carry an invented position by mistake.
    """
    spec = os.environ.get(GPS_ENV) or replica.state(GPS_KEY) or "sim"
    try:
        kind, _, arg = spec.partition(":")
        if kind.strip().lower() == "platform":  # Qt's, so not in the core's capture.gps
            from fieldapp.ui.qt_position import from_setting

            return from_setting(arg)
        source = source_from_config(spec)
    except ValueError:
        log.warning("unknown GPS source %r; working without GPS", spec)
        source = source_from_config("none")
    start = getattr(source, "start", None)
    if start is not None:
        start()  # a serial receiver is read on its own thread, so a fix is always fresh
    return source

"""Where technicians are: each one's last fix, reported by the tablet with a sync when the
technician agreed to it and is on duty (``fieldapp.sync.position_report``).

A fix is refused in words when it cannot be right: an accuracy of zero, negative or worse than
``MAX_ACCURACY_M``, a fix time ahead of the server's clock or older than ``MAX_AGE``. One that
jumps farther from the last than any vehicle goes in the time between (``MAX_SPEED_KMH``) is
kept, marked doubtful, shown as such, and not used for dispatch until a fix agrees with it.
Dispatch uses a fix younger than ``FRESH``; older ones only show on the map with their age.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fieldapp.domain.route import haversine_km
from fieldapp.wire import PositionReport, PositionTaken
from sync_server.errors import ApiError
from sync_server.services.auth import Principal
from sync_server.storage.db import Connection

MAX_ACCURACY_M = 5_000.0  # a cell-tower guess is worse than nothing for "who is nearest"
MAX_AGE = timedelta(hours=12)  # a fix from before today's shift is not where they are
AHEAD = timedelta(minutes=5)  # the tablet's clock may run a little ahead of the server's
MAX_SPEED_KMH = 200.0  # faster than this between two fixes: one of them is wrong
FRESH = timedelta(minutes=15)


@dataclass(frozen=True)
class Fix:
    username: str
    lat: float
    lon: float
    accuracy_m: float | None
    fix_at: datetime
    doubtful: str | None


def report(conn: Connection, who: Principal, fix: PositionReport,
           now: datetime | None = None) -> PositionTaken:
    """Keep ``who``'s fix, or refuse it (``ApiError`` 422, nothing written)."""
    now = now or datetime.now(UTC)
    if who.role != "technician":  # the door checks it first (deps.technician); so does this
        raise ApiError(403, "not_a_technician", "只有外勤人员的平板上报位置")
    if fix.accuracy_m is not None and not 0 < fix.accuracy_m <= MAX_ACCURACY_M:
        raise ApiError(422, "position_unreliable",
                       f"定位精度 {fix.accuracy_m:g} 米不可信"
                       f"（应在 0 到 {MAX_ACCURACY_M:g} 米之间）")
    at = fix.fix_time.astimezone(UTC)
    if at > now + AHEAD:
        raise ApiError(422, "position_in_future", "定位时间晚于服务器时间：请校准平板时钟")
    if at < now - MAX_AGE:
        raise ApiError(422, "position_stale", "定位时间已超过 12 小时，不再代表当前位置")
    doubtful = None
    last = _latest(conn, who.username)
    if last is not None:
        if at <= last.fix_at:
            return PositionTaken(kept=False)  # an older fix than the one kept: nothing new
        km = haversine_km((last.lat, last.lon), (fix.lat, fix.lon))
        hours = (at - last.fix_at).total_seconds() / 3600
        if km > 1 and km / hours > MAX_SPEED_KMH:
            doubtful = f"位置跳变 {km:.0f} 公里（{hours * 60:.0f} 分钟内），未用于派单"
    conn.execute(
        "INSERT INTO technician_positions (username, device_id, lat, lon, accuracy_m, fix_at,"
        " received_at, source, doubtful) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (username) DO UPDATE SET device_id = excluded.device_id,"
        " lat = excluded.lat, lon = excluded.lon, accuracy_m = excluded.accuracy_m,"
        " fix_at = excluded.fix_at, received_at = excluded.received_at,"
        " source = excluded.source, doubtful = excluded.doubtful",
        [who.username, who.device_id, fix.lat, fix.lon, fix.accuracy_m, at.isoformat(),
         now.isoformat(), fix.source, doubtful])
    return PositionTaken(kept=True, doubtful=doubtful)


def latest(conn: Connection) -> dict[str, Fix]:
    """Every technician's last fix, by username."""
    return {r[0]: _fix(r) for r in conn.execute(
        "SELECT username, lat, lon, accuracy_m, fix_at, doubtful FROM technician_positions"
    ).fetchall()}


def fresh(conn: Connection, now: datetime | None = None) -> dict[str, tuple[float, float]]:
    """Where each technician with a trusted fix younger than ``FRESH`` is: what dispatch
    measures from."""
    now = now or datetime.now(UTC)
    return {name: (f.lat, f.lon) for name, f in latest(conn).items()
            if f.doubtful is None and now - f.fix_at <= FRESH}


def age_zh(fix: Fix, now: datetime | None = None) -> str:
    """"3 分钟前" and the like, as the office map labels a fix."""
    minutes = int(((now or datetime.now(UTC)) - fix.fix_at).total_seconds() // 60)
    if minutes < 1:
        return "刚刚"
    if minutes < 60:
        return f"{minutes} 分钟前"
    return f"{minutes // 60} 小时前"


def _latest(conn: Connection, username: str) -> Fix | None:
    row = conn.execute("SELECT username, lat, lon, accuracy_m, fix_at, doubtful"
                       " FROM technician_positions WHERE username = ?", [username]).fetchone()
    return _fix(row) if row else None


def _fix(row: Any) -> Fix:
    return Fix(row[0], float(row[1]), float(row[2]),
               None if row[3] is None else float(row[3]), datetime.fromisoformat(row[4]),
               row[5])

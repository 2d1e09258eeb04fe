"""The tablet's own settings, kept in the replica's local state (never synced): where the
server is, the language, photo size, GPS source, camera, when the app locks itself, and
the high-contrast theme for sunlight. Checked here, so any screen that edits them refuses
the same things with the same codes.

    current = load(replica)
    save(replica, replace(current, photo_long_edge=1600))   # InvalidInput on a bad value
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fieldapp.capture.gps import platform_setting, source_from_config
from fieldapp.capture.photo import PhotoSettings
from fieldapp.errors import InvalidInput

if TYPE_CHECKING:
    from fieldapp.replica import Replica

LANGUAGES = ("zh", "en")
PHOTO_EDGES = (1280, 1600, 1920, 2560)
QUALITY_RANGE = (60, 95)
LOCK_MINUTES = (0, 2, 5, 10, 15, 30)  # 0: never

# Local-state key of each setting (the photo and GPS keys are older than this module).
KEYS = {"server_url": "server_url", "language": "ui.language",
        "photo_long_edge": "photo.long_edge", "photo_quality": "photo.quality",
        "gps_source": "gps.source", "camera_source": "camera.source",
        "lock_minutes": "lock.idle_minutes",
        "high_contrast": "theme.high_contrast", "report_position": "position.report"}


@dataclass(frozen=True)
class TabletSettings:
    server_url: str = ""  # empty: the address the app was started with
    language: str = "zh"
    photo_long_edge: int = PhotoSettings.long_edge
    photo_quality: int = PhotoSettings.quality
    gps_source: str = "sim"
    camera_source: str = "0"  # a camera's index, or file:PATH (images or a video)
    lock_minutes: int = 10
    high_contrast: bool = False
    # The technician's consent: their fix goes to the office with each sync while a job is
    # under way (fieldapp/sync/position_report.py). Off until they turn it on.
    report_position: bool = False


def load(replica: Replica) -> TabletSettings:
    """What is stored, a default for anything missing or unreadable."""
    default = TabletSettings()
    values = {}
    for f in fields(TabletSettings):
        raw = replica.state(KEYS[f.name])
        if raw is None:
            continue
        kind = type(getattr(default, f.name))
        try:
            values[f.name] = (raw == "1") if kind is bool else kind(raw)
        except ValueError:
            continue
    return TabletSettings(**{**default.__dict__, **values})


def check(s: TabletSettings) -> None:
    """Raise InvalidInput (code ``setting_invalid``, ``field``) for the first bad value."""
    if s.server_url:
        parts = urlsplit(s.server_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            _bad("server_url", s.server_url)
    if s.language not in LANGUAGES:
        _bad("language", s.language)
    if s.photo_long_edge not in PHOTO_EDGES:
        _bad("photo_long_edge", s.photo_long_edge)
    if not QUALITY_RANGE[0] <= s.photo_quality <= QUALITY_RANGE[1]:
        _bad("photo_quality", s.photo_quality)
    kind, _, arg = s.gps_source.partition(":")
    try:
        if kind.strip().lower() == "platform":
            platform_setting(arg)
        else:
            source_from_config(s.gps_source)
    except ValueError:
        _bad("gps_source", s.gps_source)
    camera = s.camera_source.strip()
    if not (camera.isdigit() or (camera.startswith("file:") and len(camera) > 5)):
        _bad("camera_source", s.camera_source)
    if s.lock_minutes not in LOCK_MINUTES:
        _bad("lock_minutes", s.lock_minutes)


def save(replica: Replica, s: TabletSettings) -> TabletSettings:
    """Check every value, then store them all in one transaction."""
    check(s)
    with replica.transaction() as db:
        for f in fields(TabletSettings):
            value = getattr(s, f.name)
            text = ("1" if value else "0") if isinstance(value, bool) else str(value).strip()
            db.execute("INSERT INTO sync_state(key, value) VALUES (?, ?) ON CONFLICT(key)"
                       " DO UPDATE SET value = excluded.value", [KEYS[f.name], text])
    return s


def _bad(field: str, value: object) -> None:
    raise InvalidInput("setting_invalid", f"{field}: {value!r} is not allowed", field=field,
                       value=str(value))

"""The platform's own location service through Qt Positioning: on Windows tablets the Windows
location service (Qt's ``winrt`` plugin), which is how rugged tablets with a built-in GNSS
report their position; elsewhere whatever plugin the platform has (``geoclue2`` on Linux),
or one named in the setting (``platform:nmea`` with ``nmea.source=file:///…`` replays a log).

    platform                      the platform's default source
    platform:PLUGIN[,KEY=VALUE…]  that plugin, with its parameters

Qt delivers fixes on the thread its source lives in, with an event loop: the source is
made and started on the UI thread whichever thread asks for it, and ``current()`` (any
thread) reads the last fix under a lock. A platform without a service, or one that stops
answering, is no fix and a reason in ``problem``, never a made-up position.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import QCoreApplication, QMetaObject, QObject, Qt, Slot
from PySide6.QtPositioning import QGeoPositionInfo, QGeoPositionInfoSource

from fieldapp.capture.gps import platform_setting
from fieldapp.position import Position, valid_coordinates

log = logging.getLogger("fieldapp.gps")
MAX_AGE_S = 120.0  # as the NMEA sources: a service quiet this long has no fix
SOURCE = "platform"


class QtPositionSource:
    def __init__(self, plugin: str | None = None, parameters: dict[str, str] | None = None,
                 *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.plugin, self.parameters = plugin, dict(parameters or {})
        self.monotonic = monotonic
        self.problem: str | None = None  # why there is no fix, when the service said
        self.name: str | None = None  # the plugin that answers
        self._lock = threading.Lock()
        self._fix: tuple[Position, float] | None = None
        self._helper = _Helper(self)
        app = QCoreApplication.instance()
        if app is not None and self._helper.thread() is not app.thread():
            self._helper.moveToThread(app.thread())
        QMetaObject.invokeMethod(self._helper, "start", Qt.ConnectionType.QueuedConnection)

    def current(self) -> Position | None:
        with self._lock:
            found = self._fix
        if found is None:
            return None
        fix, received = found
        age = max(0.0, self.monotonic() - received)
        if age > MAX_AGE_S:
            return None
        return Position(fix.lat, fix.lon, fix.accuracy_m, fix.fix_time, fix.source, age)

    def close(self) -> None:
        QMetaObject.invokeMethod(self._helper, "stop", Qt.ConnectionType.QueuedConnection)

    def take(self, info: QGeoPositionInfo) -> None:
        """A fix as Qt delivered it (on the UI thread)."""
        if not info.isValid():
            return
        where = info.coordinate()
        lat, lon = where.latitude(), where.longitude()
        if not valid_coordinates(lat, lon):
            return
        accuracy: float | None = None
        if info.hasAttribute(QGeoPositionInfo.Attribute.HorizontalAccuracy):
            accuracy = float(info.attribute(QGeoPositionInfo.Attribute.HorizontalAccuracy))
            if math.isnan(accuracy) or accuracy <= 0:
                accuracy = None
        stamp = info.timestamp()
        fix_time = (datetime.fromtimestamp(stamp.toMSecsSinceEpoch() / 1000, UTC)
                    if stamp.isValid() else datetime.now(UTC))
        fix = Position(lat, lon, accuracy, fix_time, SOURCE)
        with self._lock:
            self._fix = (fix, self.monotonic())
            self.problem = None

    def failed(self, why: str) -> None:
        log.warning("platform position source: %s", why)
        self.problem = why


class _Helper(QObject):
    """The Qt side, living on the UI thread."""

    def __init__(self, owner: QtPositionSource) -> None:
        super().__init__()
        self.owner = owner
        self.source: QGeoPositionInfoSource | None = None

    @Slot()
    def start(self) -> None:
        owner = self.owner
        source = (QGeoPositionInfoSource.createSource(owner.plugin, owner.parameters, self)
                  if owner.plugin else QGeoPositionInfoSource.createDefaultSource(self))
        if source is None:
            owner.failed(f"没有可用的系统定位服务（{owner.plugin or '默认'}）；可用："
                         f"{', '.join(QGeoPositionInfoSource.availableSources()) or '无'}")
            return
        self.source = source
        owner.name = source.sourceName()
        source.positionUpdated.connect(owner.take)
        source.errorOccurred.connect(self._error)
        source.setUpdateInterval(1000)
        source.startUpdates()

    @Slot()
    def stop(self) -> None:
        if self.source is not None:
            self.source.stopUpdates()

    def _error(self, error: QGeoPositionInfoSource.Error) -> None:
        self.owner.failed(ERRORS.get(error, f"系统定位服务出错（{error.name}）"))


ERRORS = {
    QGeoPositionInfoSource.Error.AccessError: "系统不允许本应用定位（请在隐私设置中打开位置权限）",
    QGeoPositionInfoSource.Error.ClosedError: "系统定位服务已关闭",
}


def from_setting(arg: str) -> QtPositionSource:
    """``platform`` / ``platform:PLUGIN[,KEY=VALUE…]``'s source (``arg`` after the colon)."""
    return QtPositionSource(*platform_setting(arg))

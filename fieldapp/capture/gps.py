"""Where the tablet is: position sources behind one small interface, none of which ever blocks.

    source = source_from_config("nmea:COM4@9600")   # or "sim", "sim:32.04,118.78", "none"
    position = source.current()                      # a Position, or None when there is no fix

A capture asks for the position once and goes on with ``None`` when there is no fix: a
technician is never held up by the sky. Every position says how old its fix is (``age_s``,
measured on the tablet's monotonic clock, so a wrong wall clock cannot fake freshness) and
which source produced it, so a simulated position can never pass for a real one.

Sources: :class:`SimulatedSource` here (deterministic, for tests and demos), and in ``nmea.py``
:class:`~fieldapp.capture.nmea.NmeaFileSource` and :class:`~fieldapp.capture.nmea.NmeaSerialSource`
(a GNSS receiver's NMEA 0183 sentences, as rugged tablets expose them on a COM port). The
platform's location service (QtPositioning) has no adapter yet: PySide6-Essentials, which the
client pins, does not ship that module (PySide6-Addons does).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from fieldapp.position import Position, valid_coordinates

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class PositionSource(Protocol):
    def current(self) -> Position | None:
        """The latest fix, or None; returns at once."""
        ...

    def close(self) -> None: ...


# -- simulated -----------------------------------------------------------------------------


class SimulatedSource:
    """Walks a fixed track, one point per call, looping; the same calls give the same answers.

    ``points`` empty means the sky is never seen: every call returns None.
    """

    DEFAULT_POINT = (32.041500, 118.778100)  # 新街口, Nanjing: where the demo city is

    def __init__(self, points: Sequence[tuple[float, float]] | None = None, *,
                 accuracy_m: float | None = 5.0, age_s: float = 0.0,
                 clock: Clock = utc_now) -> None:
        self.points = [self.DEFAULT_POINT] if points is None else list(points)
        for lat, lon in self.points:
            if not valid_coordinates(lat, lon):
                raise ValueError(f"not a position: {lat}, {lon}")
        self.accuracy_m = accuracy_m
        self.age_s = age_s
        self.clock = clock
        self._next = 0

    def current(self) -> Position | None:
        if not self.points:
            return None
        lat, lon = self.points[self._next % len(self.points)]
        self._next += 1
        fix_time = self.clock() - timedelta(seconds=self.age_s)
        return Position(lat, lon, self.accuracy_m, fix_time, "sim", self.age_s)

    def close(self) -> None:
        pass


# -- configuration -------------------------------------------------------------------------


def source_from_config(spec: str | None, *, clock: Clock = utc_now) -> PositionSource:
    """A source from a setting such as ``FIELDAPP_GPS``:

    ``sim`` (default)       the simulated source at its default point
    ``sim:LAT,LON[,ACC]``   the simulated source at that point
    ``none``                never a fix (to see how captures look without one)
    ``nmea:PATH``           NMEA sentences from a file
    ``nmea:PORT[@BAUD]``    a receiver on a serial port: COM4, /dev/ttyUSB0, loop://…

    ``platform`` (the system's location service) is Qt's: ``fieldapp.ui.qt_position``.
    """
    spec = (spec or "sim").strip()
    kind, _, arg = spec.partition(":")
    kind = kind.lower()
    if kind == "sim":
        if not arg:
            return SimulatedSource(clock=clock)
        try:
            numbers = [float(v) for v in arg.split(",")]
        except ValueError:
            numbers = []
        if len(numbers) not in (2, 3):
            raise ValueError(f"expected sim:LAT,LON[,ACCURACY], not {spec!r}")
        return SimulatedSource([(numbers[0], numbers[1])], clock=clock,
                               accuracy_m=numbers[2] if len(numbers) == 3 else 5.0)
    if kind in ("none", "off"):
        return SimulatedSource([], clock=clock)
    if kind == "nmea" and arg:
        from fieldapp.capture.nmea import NmeaFileSource, NmeaSerialSource

        port, _, baud = arg.rpartition("@") if "@" in arg else (arg, "", "")
        if _is_serial(port):
            return NmeaSerialSource(port, int(baud) if baud else 9600, clock=clock)
        return NmeaFileSource(arg, clock=clock)
    raise ValueError(f"unknown GPS source {spec!r}: use sim, sim:LAT,LON, none or nmea:PATH")


def platform_setting(arg: str) -> tuple[str | None, dict[str, str]]:
    """``platform[:PLUGIN[,KEY=VALUE…]]``'s plugin and parameters (``arg`` after the colon):
    the platform's location service, read through Qt (``fieldapp.ui.qt_position``)."""
    plugin, *pairs = [p.strip() for p in arg.split(",")] if arg.strip() else [""]
    parameters = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"expected KEY=VALUE after the plugin, not {pair!r}")
        parameters[key.strip()] = value.strip()
    return plugin or None, parameters


def _is_serial(name: str) -> bool:
    upper = name.upper()
    return (upper.startswith("COM") and upper[3:].isdigit()) or name.startswith("/dev/tty") \
        or "://" in name

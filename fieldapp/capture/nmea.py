"""NMEA 0183 position sources: a GNSS receiver's sentences from a file or a serial port.

Rugged Windows tablets usually expose their GNSS receiver as a COM port that streams NMEA
sentences; other set-ups log them to a file. Both end in the same parser, which keeps only the
latest fix. Fix age is measured on the tablet's monotonic clock from the moment a sentence
arrived; ``fix_time`` is the receiver's own UTC time, so the two can be compared to catch a
tablet whose clock is wrong.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any

import pynmea2

# A fix older than this is not worth stamping on evidence: the receiver lost the sky or the
from fieldapp.capture.gps import Clock, utc_now
from fieldapp.position import Position, valid_coordinates

# A fix older than this is not worth stamping on evidence: the receiver lost the sky or the
# port went quiet, and two minutes of walking puts a technician in the next building.
DEFAULT_MAX_AGE_S = 120.0

# User equivalent range error of a consumer GNSS receiver, metres: accuracy ≈ HDOP × UERE when
# the receiver does not report its own error estimate (GST).
UERE_M = 5.0


@dataclass(frozen=True)
class _Fix:
    lat: float
    lon: float
    accuracy_m: float | None
    fix_time: datetime
    received_at: float  # monotonic seconds


class NmeaParser:
    """Turns NMEA sentences into the latest fix: GGA and RMC give position and time, GST (when
    the receiver sends it) the error estimate. Talker ids are ignored, so GPS ($GP), BeiDou
    ($BD) and combined ($GN) receivers all work. A sentence with a bad or missing checksum is
    counted and dropped: a garbled line from a serial port must not move the technician."""

    def __init__(self, clock: Clock = utc_now,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.monotonic = monotonic
        self.fix: _Fix | None = None
        self.sentences = 0
        self.bad_sentences = 0
        self._date: date | None = None  # from RMC; GGA carries only the time of day
        self._epoch: tuple[int, int, int] | None = None  # time of day the estimates below are for
        self._hdop: float | None = None
        self._gst_m: float | None = None

    def feed(self, line: str) -> None:
        line = line.strip()
        if not line.startswith("$"):
            return  # blank lines and the binary chatter some receivers interleave
        try:
            msg = pynmea2.parse(line, check=True)
        except (ValueError, TypeError, AttributeError):  # pynmea2.ParseError is a ValueError
            self.bad_sentences += 1
            return
        handler = {"GGA": self._gga, "RMC": self._rmc, "GST": self._gst}.get(msg.sentence_type)
        if handler is None:
            self.sentences += 1
            return
        # A checksum passes by chance about once in 256 garbled lines: fields are checked too.
        try:
            ok = handler(msg)
        except (TypeError, ValueError, AttributeError):
            ok = False
        if ok:
            self.sentences += 1
        else:
            self.bad_sentences += 1

    def _gga(self, msg: Any) -> bool:
        quality = _int(msg.gps_qual)
        if quality is None:
            return False
        if quality == 0:  # no fix: the receiver says so every second until it has one
            self.fix = None
            return True
        if not isinstance(msg.timestamp, dt_time):
            return False
        self._start_epoch(msg.timestamp)
        self._hdop = _float(msg.horizontal_dil)
        return self._set_fix(msg, self._fix_time(msg.timestamp))

    def _rmc(self, msg: Any) -> bool:
        if msg.status not in ("A", "V"):
            return False
        dated = isinstance(msg.datestamp, date)
        if dated:
            self._date = msg.datestamp
        if msg.status == "V":  # navigation receiver warning: no usable fix
            self.fix = None
            return True
        if not isinstance(msg.timestamp, dt_time):
            return False
        self._start_epoch(msg.timestamp)
        fix_time = msg.datetime if dated else self._fix_time(msg.timestamp)
        return self._set_fix(msg, fix_time.astimezone(UTC))

    def _gst(self, msg: Any) -> bool:
        lat_err, lon_err = _float(msg.std_dev_latitude), _float(msg.std_dev_longitude)
        if not isinstance(msg.timestamp, dt_time) or lat_err is None or lon_err is None:
            return False
        self._start_epoch(msg.timestamp)
        self._gst_m = math.hypot(lat_err, lon_err)
        if self.fix is not None and self._epoch == _key(self.fix.fix_time):
            self.fix = replace(self.fix, accuracy_m=self._accuracy())
        return True

    def _start_epoch(self, t: Any) -> None:
        # Estimates belong to one epoch (one second of output); a new time of day resets them.
        if _key(t) != self._epoch:
            self._epoch, self._hdop, self._gst_m = _key(t), None, None

    def _accuracy(self) -> float | None:
        if self._gst_m is not None:
            return round(self._gst_m, 1)
        return round(self._hdop * UERE_M, 1) if self._hdop is not None else None

    def _set_fix(self, msg: Any, fix_time: datetime) -> bool:
        if not msg.lat or not msg.lon:  # a fix claimed with empty coordinates
            return False
        lat, lon = float(msg.latitude), float(msg.longitude)
        if not valid_coordinates(lat, lon):
            return False
        self.fix = _Fix(lat, lon, self._accuracy(), fix_time, self.monotonic())
        return True

    def _fix_time(self, t: Any) -> datetime:
        """A GGA time of day on the date of the last RMC, else on today's UTC date, taking
        the day before when that would put the fix in the future (a fix from 23:59:59 read
        at 00:00:01)."""
        now = self.clock().astimezone(UTC)
        day = self._date or now.date()
        moment = datetime.combine(day, t.replace(tzinfo=None), tzinfo=UTC)
        if self._date is None and moment - now > timedelta(hours=12):
            moment -= timedelta(days=1)
        return moment


def _key(t: Any) -> tuple[int, int, int]:
    return t.hour, t.minute, t.second


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


class _NmeaSource:
    """What the file and serial sources share: the parser, staleness, the lock."""

    def __init__(self, *, max_age_s: float, clock: Clock,
                 monotonic: Callable[[], float]) -> None:
        self.parser = NmeaParser(clock, monotonic)
        self.max_age_s = max_age_s
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._pending = b""

    def poll(self) -> None:
        raise NotImplementedError

    def _feed(self, chunk: bytes) -> None:
        lines = (self._pending + chunk).split(b"\n")
        self._pending = lines.pop()  # an incomplete last line waits for the rest
        with self._lock:
            for raw in lines:
                self.parser.feed(raw.decode("ascii", "replace"))

    def current(self) -> Position | None:
        self.poll()
        return self._latest()

    def _latest(self) -> Position | None:
        with self._lock:
            fix = self.parser.fix
        if fix is None:
            return None
        age = max(0.0, self.monotonic() - fix.received_at)
        if age > self.max_age_s:  # the receiver went quiet: unplugged, asleep, out of range
            return None
        return Position(fix.lat, fix.lon, fix.accuracy_m, fix.fix_time, "nmea", age)


class NmeaFileSource(_NmeaSource):
    """Sentences from a file: a recorded track, or a log a GNSS daemon keeps appending to.
    Each call reads only what was added since the last one; a missing file is no fix."""

    def __init__(self, path: Path | str, *, max_age_s: float = DEFAULT_MAX_AGE_S,
                 clock: Clock = utc_now, monotonic: Callable[[], float] = time.monotonic) -> None:
        super().__init__(max_age_s=max_age_s, clock=clock, monotonic=monotonic)
        self.path = Path(path)
        self._offset = 0

    def poll(self) -> None:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(0, 2)
                if fh.tell() < self._offset:  # rotated or truncated: start again
                    self._offset, self._pending = 0, b""
                fh.seek(self._offset)
                chunk = fh.read()
                self._offset = fh.tell()
        except OSError:
            return
        self._feed(chunk)

    def close(self) -> None:
        pass


class NmeaSerialSource(_NmeaSource):
    """A GNSS receiver on a serial port (``COM4``, ``/dev/ttyUSB0``, or any pyserial URL).

    :meth:`start` reads the port on a daemon thread so the latest fix is always current;
    without it, each :meth:`current` drains what the port has buffered. A port that cannot
    be opened is retried now and then and means no fix, never an error in the technician's
    face.
    """

    RETRY_OPEN_S = 10.0

    def __init__(self, port: str | Any, baudrate: int = 9600, *,
                 max_age_s: float = DEFAULT_MAX_AGE_S, clock: Clock = utc_now,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        """``port`` is a name or an already open pyserial port (e.g. ``loop://`` in tests)."""
        super().__init__(max_age_s=max_age_s, clock=clock, monotonic=monotonic)
        self.port = port if isinstance(port, str) else getattr(port, "port", None) or "open port"
        self.baudrate = baudrate
        self.error: str | None = None
        self._serial: Any = None if isinstance(port, str) else port
        self._last_try: float | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def _open(self) -> Any:
        import serial  # pyserial; imported here so file and simulated sources do without it

        now = self.monotonic()
        if self._serial is None and (self._last_try is None
                                     or now - self._last_try >= self.RETRY_OPEN_S):
            self._last_try = now
            try:
                self._serial = serial.serial_for_url(self.port, baudrate=self.baudrate,
                                                     timeout=0.5)
                self.error = None
            except (serial.SerialException, ValueError) as exc:
                self.error = str(exc)
        return self._serial

    def poll(self, block: bool = False) -> None:
        """Feed what the port has; with ``block``, wait up to its timeout for a line."""
        import serial

        port = self._open()
        if port is None:
            return
        try:
            chunk = port.readline() if block else port.read(port.in_waiting)
        except (serial.SerialException, OSError) as exc:  # unplugged: reopen later
            self.error = str(exc)
            self._close_port()
            return
        if chunk:
            self._feed(chunk)

    def current(self) -> Position | None:
        if self._thread is None:
            return super().current()
        return self._latest()  # the reader thread keeps the parser current

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="gps-nmea", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._serial is None:
                self._open()
                if self._serial is None:
                    self._stop.wait(1.0)
                    continue
            self.poll(block=True)

    def _close_port(self) -> None:
        if self._serial is not None:
            try:
                self._serial.close()
            finally:
                self._serial = None

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        self._close_port()

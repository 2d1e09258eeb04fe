"""Position sources: simulated, NMEA from a file and from a serial port, and their settings."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import serial

from fieldapp.capture.gps import SimulatedSource, source_from_config
from fieldapp.capture.nmea import NmeaFileSource, NmeaParser, NmeaSerialSource
from fieldapp.position import Position

NOW = datetime(2026, 11, 24, 6, 16, 0, tzinfo=UTC)

# One second of a combined GPS+BeiDou receiver's output in Nanjing, then the next second.
TRACK = """\
$GNRMC,061530.00,A,3202.4907,N,11846.6880,E,0.3,87.2,241126,,,A*78
$GNGGA,061530.00,3202.4907,N,11846.6880,E,1,14,0.8,12.0,M,2.1,M,,*7B
$GNGST,061530.00,2.4,1.9,1.2,35.0,1.8,1.5,3.1*7C
$GNRMC,061531.00,A,3202.4912,N,11846.6895,E,0.4,87.0,241126,,,A*7C
$GNGGA,061531.00,3202.4912,N,11846.6895,E,1,14,0.8,12.0,M,2.1,M,,*7A
"""
NO_FIX_GGA = "$GPGGA,061532.00,,,,,0,00,99.99,,,,,,*65"
NO_FIX_RMC = "$GPRMC,061532.00,V,,,,,,,241126,,,N*7C"
BAD_CHECKSUM = "$GNGGA,061533.00,3100.0000,N,12100.0000,E,1,14,0.8,12.0,M,2.1,M,,*00"
NO_CHECKSUM = "$GNGGA,061533.00,3100.0000,N,12100.0000,E,1,14,0.8,12.0,M,2.1,M,,"
SYDNEY_BEIDOU = "$BDGGA,235959.00,3354.0000,S,15112.0000,E,1,08,1.2,20.0,M,,M,,*41"
NEW_YORK_DGPS = "$GPGGA,061533.00,4042.7666,N,07400.3584,W,2,10,1.0,10.0,M,,M,,*5A"


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _parser() -> NmeaParser:
    return NmeaParser(clock=lambda: NOW, monotonic=Ticks())


def _feed(parser: NmeaParser, text: str) -> NmeaParser:
    for line in text.splitlines():
        parser.feed(line)
    return parser


# -- simulated -----------------------------------------------------------------------------

def test_simulated_source_walks_its_track_the_same_way_every_time() -> None:
    track = [(32.0, 118.8), (32.1, 118.9)]
    first = SimulatedSource(track, accuracy_m=3.0, age_s=2.0, clock=lambda: NOW)
    second = SimulatedSource(track, accuracy_m=3.0, age_s=2.0, clock=lambda: NOW)
    seen = [first.current() for _ in range(3)]
    assert seen == [second.current() for _ in range(3)]
    assert [(p.lat, p.lon) for p in seen] == [(32.0, 118.8), (32.1, 118.9), (32.0, 118.8)]
    assert seen[0] == Position(32.0, 118.8, 3.0, datetime(2026, 11, 24, 6, 15, 58, tzinfo=UTC),
                               "sim", 2.0)
    assert seen[0].simulated


def test_a_simulated_sky_without_satellites_gives_no_fix() -> None:
    assert SimulatedSource([]).current() is None


def test_simulated_positions_must_be_on_earth() -> None:
    with pytest.raises(ValueError):
        SimulatedSource([(95.0, 10.0)])


# -- NMEA parsing --------------------------------------------------------------------------

def test_gga_rmc_and_gst_make_one_fix() -> None:
    parser = _feed(_parser(), TRACK)
    fix = parser.fix
    assert fix is not None
    assert (fix.lat, fix.lon) == (pytest.approx(32.04152, abs=1e-6),
                                  pytest.approx(118.778158, abs=1e-6))
    assert fix.fix_time == datetime(2026, 11, 24, 6, 15, 31, tzinfo=UTC)
    # The second epoch had no GST: accuracy comes from HDOP 0.8 × 5 m.
    assert fix.accuracy_m == 4.0
    assert (parser.sentences, parser.bad_sentences) == (5, 0)


def test_gst_error_estimate_wins_over_hdop() -> None:
    parser = _feed(_parser(), "\n".join(TRACK.splitlines()[:3]))
    assert parser.fix is not None and parser.fix.accuracy_m == 2.3  # hypot(1.8, 1.5)


@pytest.mark.parametrize("bad", [BAD_CHECKSUM, NO_CHECKSUM, "$GNGGA,garbled*1F"])
def test_a_sentence_failing_its_checksum_does_not_move_the_fix(bad: str) -> None:
    parser = _feed(_parser(), TRACK)
    before = parser.fix
    parser.feed(bad)
    assert parser.fix == before
    assert parser.bad_sentences == 1


@pytest.mark.parametrize("lost", [NO_FIX_GGA, NO_FIX_RMC])
def test_the_receiver_saying_no_fix_clears_the_fix(lost: str) -> None:
    parser = _feed(_parser(), TRACK)
    parser.feed(lost)
    assert parser.fix is None and parser.bad_sentences == 0
    _feed(parser, TRACK)  # and it comes back with the sky
    assert parser.fix is not None


def test_no_fix_sentences_alone_never_make_a_fix() -> None:
    parser = _feed(_parser(), f"{NO_FIX_GGA}\n{NO_FIX_RMC}\n\nnoise from the port\n")
    assert parser.fix is None and parser.sentences == 2


@pytest.mark.parametrize(("sentence", "lat", "lon", "fix_time"), [
    # BeiDou talker, southern hemisphere; GGA has no date and 23:59:59 read at 06:16 on the
    # 24th is from today, not tomorrow.
    (SYDNEY_BEIDOU, -33.9, 151.2, datetime(2026, 11, 23, 23, 59, 59, tzinfo=UTC)),
    (NEW_YORK_DGPS, 40.712777, -74.005973, datetime(2026, 11, 24, 6, 15, 33, tzinfo=UTC)),
])
def test_other_talkers_and_hemispheres(sentence: str, lat: float, lon: float,
                                       fix_time: datetime) -> None:
    fix = _feed(_parser(), sentence).fix
    assert fix is not None
    assert (fix.lat, fix.lon) == (pytest.approx(lat, abs=1e-6), pytest.approx(lon, abs=1e-6))
    assert fix.fix_time == fix_time


# -- NMEA from a file ----------------------------------------------------------------------

def test_file_source_reads_a_recorded_track(tmp_path: Path) -> None:
    path = tmp_path / "gnss.nmea"
    path.write_text(TRACK)
    ticks = Ticks()
    source = NmeaFileSource(path, clock=lambda: NOW, monotonic=ticks)
    ticks.now += 3
    position = source.current()
    assert position is not None and position.source == "nmea" and not position.simulated
    assert position.age_s == 0.0  # it arrived just now, whatever the receiver's clock said
    assert position.fix_time == datetime(2026, 11, 24, 6, 15, 31, tzinfo=UTC)
    ticks.now += 30
    assert source.current().age_s == 30.0
    ticks.now += 100  # the log stopped growing two minutes ago: no longer a fix to stamp
    assert source.current() is None


def test_file_source_follows_a_growing_log_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "gnss.nmea"
    lines = TRACK.splitlines(keepends=True)
    path.write_text(lines[0] + lines[1][:30])  # the daemon is mid-way through a line
    source = NmeaFileSource(path, clock=lambda: NOW, monotonic=Ticks())
    assert source.current().accuracy_m is None  # RMC alone says nothing about accuracy
    with open(path, "a") as fh:
        fh.write(lines[1][30:] + NO_FIX_GGA + "\n")
    assert source.current() is None
    assert source.parser.bad_sentences == 0  # the split line was read whole
    with open(path, "a") as fh:
        fh.write(TRACK)
    assert source.current().fix_time.second == 31


def test_file_source_starts_over_when_the_log_is_rotated(tmp_path: Path) -> None:
    path = tmp_path / "gnss.nmea"
    path.write_text(TRACK + NO_FIX_GGA + "\n")
    source = NmeaFileSource(path, clock=lambda: NOW, monotonic=Ticks())
    assert source.current() is None
    path.write_text(SYDNEY_BEIDOU + "\n")  # shorter than before: a new file
    assert source.current().lat == pytest.approx(-33.9)


def test_a_missing_file_is_no_fix_not_an_error(tmp_path: Path) -> None:
    assert NmeaFileSource(tmp_path / "nothing.nmea").current() is None


# -- NMEA from a serial port ---------------------------------------------------------------

def test_serial_source_reads_sentences_from_the_port() -> None:
    port = serial.serial_for_url("loop://", timeout=0.5)  # pyserial's loopback port
    source = NmeaSerialSource(port, clock=lambda: NOW, monotonic=Ticks())
    assert source.current() is None
    port.write((BAD_CHECKSUM + "\r\n" + TRACK.replace("\n", "\r\n")).encode())
    position = source.current()
    assert position is not None
    assert (position.lat, position.lon) == (pytest.approx(32.04152, abs=1e-6),
                                            pytest.approx(118.778158, abs=1e-6))
    assert source.parser.bad_sentences == 1
    port.write((NO_FIX_RMC + "\r\n").encode())
    assert source.current() is None
    source.close()


def test_serial_reader_thread_keeps_the_fix_current() -> None:
    port = serial.serial_for_url("loop://", timeout=0.2)
    source = NmeaSerialSource(port, clock=lambda: NOW)
    source.start()
    try:
        port.write(TRACK.encode())
        position, pause = None, threading.Event()
        for _ in range(200):  # wait for the thread, without asserting how long it took
            position = source.current()
            if position is not None and position.fix_time.second == 31:
                break
            pause.wait(0.05)
        assert position is not None and position.fix_time.second == 31
    finally:
        source.close()


def test_a_port_that_cannot_be_opened_is_no_fix_not_an_error() -> None:
    source = NmeaSerialSource("/dev/ttyNOPE")
    assert source.current() is None
    assert source.error and "ttyNOPE" in source.error
    source.close()


# -- settings ------------------------------------------------------------------------------

@pytest.mark.parametrize(("spec", "kind"), [
    (None, SimulatedSource), ("sim", SimulatedSource), ("sim:31.2304,121.4737", SimulatedSource),
    ("none", SimulatedSource), ("nmea:/var/log/gnss.nmea", NmeaFileSource),
    ("nmea:C:\\gnss\\today.nmea", NmeaFileSource), ("nmea:COM4@4800", NmeaSerialSource),
    ("nmea:/dev/ttyUSB0", NmeaSerialSource), ("nmea:loop://", NmeaSerialSource),
])
def test_source_from_config(spec: str | None, kind: type) -> None:
    source = source_from_config(spec)
    assert isinstance(source, kind)
    source.close()


def test_configured_points_and_no_fix() -> None:
    shanghai = source_from_config("sim:31.2304,121.4737,12").current()
    assert (shanghai.lat, shanghai.lon, shanghai.accuracy_m) == (31.2304, 121.4737, 12.0)
    assert source_from_config("none").current() is None
    serial_source = source_from_config("nmea:COM4@4800")
    assert (serial_source.port, serial_source.baudrate) == ("COM4", 4800)


@pytest.mark.parametrize("spec", ["gps", "sim:north", "sim:1,2,3,4", "nmea:"])
def test_unknown_settings_are_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        source_from_config(spec)

"""The platform's location service through Qt Positioning, driven here by Qt's own NMEA
plugin replaying a receiver's log (the Windows location service is the same API through
Qt's ``winrt`` plugin): fixes arrive whichever thread made the source, a quiet service is
no fix, and a platform without the asked-for service says so instead of inventing one."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from fieldapp.capture.gps import platform_setting
from fieldapp.errors import InvalidInput
from fieldapp.replica import Replica
from fieldapp.replica.settings import TabletSettings
from fieldapp.replica.settings import check as check_settings
from fieldapp.ui import ops
from fieldapp.ui.qt_position import MAX_AGE_S, QtPositionSource

# A combined GPS+BeiDou receiver in Nanjing, two seconds of it.
LOG = """\
$GNRMC,061530.00,A,3202.4907,N,11846.6880,E,0.3,87.2,241126,,,A*78
$GNGGA,061530.00,3202.4907,N,11846.6880,E,1,14,0.8,12.0,M,2.1,M,,*7B
$GNRMC,061531.00,A,3202.4912,N,11846.6895,E,0.4,87.0,241126,,,A*7C
$GNGGA,061531.00,3202.4912,N,11846.6895,E,1,14,0.8,12.0,M,2.1,M,,*7A
"""


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    path = tmp_path / "receiver.nmea"
    path.write_text(LOG, encoding="ascii")
    return path


def nmea(log_file: Path, **kwargs: object) -> QtPositionSource:
    return QtPositionSource("nmea", {"nmea.source": log_file.as_uri()}, **kwargs)  # type: ignore[arg-type]


def test_fixes_come_through_qt_positioning(qtbot: QtBot, log_file: Path) -> None:
    source = nmea(log_file)
    qtbot.waitUntil(lambda: source.current() is not None, timeout=10_000)
    fix = source.current()
    assert fix is not None and source.name == "nmea" and fix.source == "platform"
    assert fix.lat == pytest.approx(32 + 2.4907 / 60, abs=1e-6)
    assert fix.lon == pytest.approx(118 + 46.6880 / 60, abs=1e-6)
    assert fix.fix_time.replace(microsecond=0) in (datetime(2026, 11, 24, 6, 15, 30, tzinfo=UTC),
                                                   datetime(2026, 11, 24, 6, 15, 31, tzinfo=UTC))
    assert fix.accuracy_m is None  # the log says no accuracy: none is made up
    assert not fix.simulated
    source.close()


def test_a_source_made_off_the_ui_thread_still_gets_its_fixes(qtbot: QtBot,
                                                              log_file: Path) -> None:
    made: list[QtPositionSource] = []
    worker = threading.Thread(target=lambda: made.append(nmea(log_file)))
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: made[0].current() is not None, timeout=10_000)
    made[0].close()


def test_a_service_gone_quiet_is_no_fix(qtbot: QtBot, log_file: Path) -> None:
    now = [1000.0]
    source = nmea(log_file, monotonic=lambda: now[0])
    qtbot.waitUntil(lambda: source.current() is not None, timeout=10_000)
    now[0] += MAX_AGE_S + 1
    assert source.current() is None
    source.close()


def test_a_platform_without_the_service_says_so(qtbot: QtBot) -> None:
    source = QtPositionSource("no-such-plugin")
    qtbot.waitUntil(lambda: source.problem is not None)
    assert "没有可用的系统定位服务（no-such-plugin）" in source.problem
    assert "nmea" in source.problem  # what the platform does have
    assert source.current() is None


def test_the_setting_chooses_it_and_a_bad_one_is_refused(
        monkeypatch: pytest.MonkeyPatch, check: Replica, log_file: Path, qtbot: QtBot) -> None:
    monkeypatch.setenv("FIELDAPP_GPS", f"platform:nmea,nmea.source={log_file.as_uri()}")
    source = ops.position_source(check)
    assert isinstance(source, QtPositionSource) and source.plugin == "nmea"
    qtbot.waitUntil(lambda: source.current() is not None, timeout=10_000)
    source.close()
    assert platform_setting("") == (None, {})
    check_settings(TabletSettings(gps_source="platform"))
    with pytest.raises(InvalidInput):
        check_settings(TabletSettings(gps_source="platform:nmea,nonsense"))

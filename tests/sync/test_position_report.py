"""The tablet reports its fix with a sync only with the technician's consent, only while a
job is under way, never a simulated one; a refusal never fails the sync."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fieldapp.position import Position
from fieldapp.replica.settings import KEYS
from tests.conftest import ServerProcess, synced_tablet


def a_fix(source: str = "nmea", accuracy_m: float | None = 6.0) -> Position:
    return Position(32.0391, 118.7952, accuracy_m, datetime.now(UTC), source)


def kept(server: ServerProcess) -> list[str]:
    return [r["username"] for r in server.query("SELECT username FROM technician_positions")]


def test_a_fix_goes_only_with_consent_and_while_on_a_job(server: ServerProcess,
                                                        tmp_path: Path):
    replica, client = synced_tablet(server, tmp_path / "tablet")
    assert client.sync(position=a_fix()).position is None  # no consent yet
    replica.set_state(KEYS["report_position"], "1")
    assert client.sync(position=a_fix()).position is None  # consent, but no job under way
    replica.jobs.transition("job-1", "accepted")
    assert client.sync(position=a_fix("sim")).position is None  # a made-up place
    assert kept(server) == []
    report = client.sync(position=a_fix())
    assert report.position is not None and report.position.kept
    assert kept(server) == ["tech01"]
    replica.set_state(KEYS["report_position"], "0")  # consent withdrawn
    assert client.sync(position=a_fix()).position is None


def test_a_refused_fix_does_not_fail_the_sync(server: ServerProcess, tmp_path: Path):
    replica, client = synced_tablet(server, tmp_path / "tablet")
    replica.set_state(KEYS["report_position"], "1")
    replica.jobs.transition("job-1", "accepted")
    report = client.sync(position=a_fix(accuracy_m=0.0))
    assert report.position is None and kept(server) == []
    assert replica.outbox.counts()["pending"] == 0  # the acceptance went all the same
    assert server.scalar("SELECT status FROM jobs WHERE id = 'job-1'") == "accepted"

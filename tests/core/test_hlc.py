from __future__ import annotations

import pytest

from fieldapp.hlc import HybridClock, Timestamp


def test_clock_is_monotonic_when_the_wall_clock_stands_still_or_goes_back():
    walls = iter([1000, 1000, 999, 1001])
    clock = HybridClock("dev-a", wall=lambda: next(walls))
    stamps = [clock.now() for _ in range(4)]
    assert stamps == sorted(stamps) and len(set(stamps)) == 4
    assert Timestamp.parse(stamps[2]) == Timestamp(1000, 2, "dev-a")


def test_observing_a_later_remote_stamp_moves_the_clock_past_it():
    clock = HybridClock("dev-a", wall=lambda: 10)
    clock.observe(str(Timestamp(5000, 7, "server")))
    assert clock.now() > str(Timestamp(5000, 7, "server"))


def test_clock_resumes_after_restart_from_the_last_stamp():
    first = HybridClock("dev-a", wall=lambda: 5000).now()
    again = HybridClock("dev-a", last=first, wall=lambda: 10).now()
    assert again > first


def test_garbage_is_not_a_timestamp():
    with pytest.raises(ValueError, match="not an HLC"):
        Timestamp.parse("yesterday")

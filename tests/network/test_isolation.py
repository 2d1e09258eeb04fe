"""The valves that isolate a leak, on the small known network of ``network_files``."""

from __future__ import annotations

import pytest

from fieldapp.errors import InvalidInput
from fieldapp.network.isolation import isolate
from tests.network.network_files import at, layers, network


def meters(found) -> list[str]:
    return sorted(s["meter"] for s in found.affected_service_lines)


def test_a_leak_on_the_main_closes_the_valves_that_feed_it():
    found = isolate(network(layers()), **at(175, 1))
    assert found.pipe == "M1" and found.off_pipe_m == pytest.approx(1.0, abs=0.05)
    # Along the pipes: 75 m west to V1, 25 + 60 m round the corner to V3.
    assert [(v.id, v.along_m) for v in found.close] == [("V1", 75.0), ("V3", 85.0)]
    assert [v.straight_m for v in found.close] == pytest.approx([75.0, 65.9], abs=0.2)
    # V2 bounds the leak too, but only service lines lie beyond it: no gas comes that way.
    assert [(v.id, v.along_m) for v in found.downstream] == [("V2", 25.0)]
    assert found.unvalved_sources == []
    assert meters(found) == ["M-001", "M-002", "M-003"]  # M-004 is still fed from S2
    # V1–J 50, J–end 150, J–V3 60, the service lines 20 + 14.7 + 20
    assert found.shut_m == pytest.approx(314.7, abs=0.5)


def test_a_valve_shut_in_normal_operation_is_a_wall_not_a_valve_to_close():
    found = isolate(network(layers(v4_status="常闭")), **at(175, 1))
    # S2 is behind V4, shut already: nothing comes up the branch, so V3 need not close...
    assert [v.id for v in found.close] == ["V1"]
    assert sorted(v.id for v in found.downstream) == ["V2", "V3"]
    # ...and the branch, fed only through J, goes dark with the main.
    assert meters(found) == ["M-001", "M-002", "M-003", "M-004"]


def test_a_leak_between_a_source_and_its_first_valve_says_the_station_must_shut():
    found = isolate(network(layers()), **at(20, -2))
    assert found.unvalved_sources == ["S1"]
    assert [v.id for v in found.close] == ["V1"]  # gas from S2 comes round through J


def test_a_leak_on_a_service_line():
    found = isolate(network(layers()), **at(250, 12))
    assert found.pipe == "SL1"
    # The line tees into the main between V2 and the east end: V2 is the way gas comes.
    assert [v.id for v in found.close] == ["V2"] and found.downstream == []
    assert meters(found) == ["M-001", "M-002"]


def test_a_leak_far_from_every_pipe_is_refused_in_words():
    with pytest.raises(InvalidInput) as refused:
        isolate(network(layers()), **at(175, 80))
    assert refused.value.code == "leak_off_network"

"""Road distance along the district's street centrelines: a known little street plan with a
river that only one bridge crosses, measured through the real GeoJSON reader; a house far
from every road and a street not joined to the others fall back to the crow's distance; and
a day's route planned along the roads takes the bridge into account."""

from __future__ import annotations

from datetime import datetime

import pytest

from fieldapp.domain.route import Stop, haversine_km, plan_route
from fieldapp.local_time import LOCAL_ZONE
from fieldapp.network import geojson
from fieldapp.network.bundle import pack
from fieldapp.network.model import ROADS
from fieldapp.network.roads import Roads, of_bundle
from tests.network.network_files import collection, layers, line, lonlat


def here(x: float, y: float) -> tuple[float, float]:
    lon, lat = lonlat(x, y)
    return lat, lon


# Two streets east-west, 400 m apart across a river, and one bridge between them at x=1000.
#   y=400   N ───────────────────────────────┐
#                                            │ bridge
#   y=0     S ───────────────────────────────┘
#           x=0                             x=1000
#   and an island street nobody can drive to, at y=2000.
STREETS = collection(line("S", (0, 0), (500, 0), (1000, 0)),
                     line("N", (0, 400), (1000, 400)),
                     line("BRIDGE", (1000, 0), (1000, 400)),
                     line("ISLAND", (0, 2000), (300, 2000)))


def roads() -> Roads:
    features, problems = geojson.read(STREETS, ROADS)
    assert problems == []
    return Roads.of(features)


def test_distances_go_along_the_streets_and_over_the_bridge() -> None:
    km = roads().matrix_km([here(0, 0), here(0, 400), here(500, 5), here(990, 400)])
    assert km[0][1] == pytest.approx(2.4, abs=0.005)  # 1 km east, the bridge, 1 km back
    assert km[1][0] == pytest.approx(km[0][1], abs=1e-9)
    assert km[0][2] == pytest.approx(0.505, abs=0.005)  # along S, and 5 m to the door
    assert km[2][3] == pytest.approx(0.5 + 0.4 + 0.01, abs=0.005)
    assert km[0][0] == 0


def test_off_every_road_or_on_an_island_the_crow_measures() -> None:
    points = [here(0, 0), here(0, 1200), here(100, 2000)]
    km = roads().matrix_km(points)
    assert km[0][1] == pytest.approx(haversine_km(points[0], points[1]))  # 800 m from roads
    assert km[0][2] == pytest.approx(haversine_km(points[0], points[2]))  # not joined


def test_a_days_route_along_the_roads_takes_the_bridge_into_account() -> None:
    # From the south-west corner: A is across the river (400 m as the crow flies, 2.4 km by
    # road); B and C are along the south street toward the bridge.
    now = datetime(2026, 12, 8, 8, 0, tzinfo=LOCAL_ZONE)
    stops = [Stop("A", *here(0, 400), 3, None), Stop("B", *here(400, 0), 3, None),
             Stop("C", *here(900, 0), 3, None)]
    start = here(0, 0)
    crow = plan_route(stops, start=start, start_time=now)
    road = plan_route(stops, start=start, start_time=now, distance=roads().matrix_km)
    assert crow.order[0] == "A"  # the nearest as the crow flies, across the water
    assert road.order == ["B", "C", "A"]  # along the south street, over the bridge
    by_road_in_crow_order = roads().along_km(
        [start, *[(s.lat, s.lon) for i in crow.order for s in stops if s.id == i]])
    assert road.total_km == pytest.approx(0.9 + 0.1 + 0.4 + 1.0, abs=0.01)
    assert by_road_in_crow_order > road.total_km + 1.5  # what the crow's order costs


def test_the_roads_come_with_the_network_bundle_and_are_built_once() -> None:
    data, _net = pack({**layers(), ROADS: STREETS})
    first = of_bundle("a" * 64, data)
    assert first is not None and of_bundle("a" * 64, data) is first
    without, _ = pack(dict(layers()))
    assert of_bundle("b" * 64, without) is None

"""The report page's plan of where the photos were taken, around the registered address."""

from __future__ import annotations

from sync_server.office.photo_map import SIZE, build

HOME = {"lat": 32.0200, "lon": 118.8000}


def test_photos_are_placed_around_the_address_with_their_distance() -> None:
    plan = build(HOME, [{"lat": 32.0203, "lon": 118.8000, "accuracy_m": 8.0},
                        {"lat": None, "lon": None},
                        {"lat": 32.0300, "lon": 118.8050, "accuracy_m": 30.0}])
    assert plan is not None and plan.home is not None
    near, far = plan.photos
    assert (near.label, far.label) == ("1", "3")  # numbered as on the page
    assert 30 <= near.distance_m <= 36 and 1200 <= far.distance_m <= 1250
    for p in (plan.home, near, far):
        assert 0 <= p.x <= SIZE and 0 <= p.y <= SIZE
    assert far.y < plan.home.y < SIZE  # north is up
    assert plan.scale_m in (100, 200, 500) and plan.scale_px > 10


def test_no_positions_no_plan_and_no_address_no_distances() -> None:
    assert build(HOME, [{"lat": None, "lon": None}]) is None
    plan = build({"lat": None, "lon": None}, [{"lat": 32.02, "lon": 118.80}])
    assert plan is not None and plan.home is None and plan.photos[0].distance_m is None

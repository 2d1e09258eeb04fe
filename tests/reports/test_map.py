"""The offline map: self-contained HTML, checked as text and in real Chromium with no network."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fieldapp.domain.route import Stop, plan_route
from fieldapp.local_time import LOCAL_ZONE
from fieldapp.position import Position
from fieldapp.replica import Replica
from fieldapp.reports.map import STATUS_STYLES, render_map, write_map, write_today_map

CDN_HOSTS = ("jsdelivr", "unpkg", "cdnjs", "cloudflare", "jquery.com", "bootstrapcdn",
             "googleapis", "fontawesome", "maxcdn",
             # online tile servers, foreign and Chinese
             "openstreetmap", "{s}.tile", "mapbox", "arcgisonline", "cartocdn", "stamen",
             "autonavi", "amap.com", "tianditu", "map.baidu", "map.qq")
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=LOCAL_ZONE)
HERE = Position(32.030, 118.790, 8.0, NOON.astimezone(UTC), "nmea", 1.0)


def _job(n: int, status: str, lat: float | None, lon: float | None, **kw: Any) -> dict[str, Any]:
    return {"id": f"job-{n}", "number": f"GD20261124{n:04d}", "kind": "inspection",
            "priority": 3, "status": status, "customer_name": f"客户{n}",
            "customer_address": f"秦淮区 中华路 {n}号", "customer_lat": lat, "customer_lon": lon,
            "due_at": f"2026-11-24T{8 + n:02d}:00:00+08:00", **kw}


JOBS = [
    _job(1, "completed", 32.020, 118.800),
    _job(2, "in_service", 32.025, 118.795),
    _job(3, "dispatched", 32.040, 118.780),
    _job(4, "accepted", 32.035, 118.810, priority=1, kind="repair"),
    _job(5, "dispatched", None, None),  # a customer without coordinates
]


def _route() -> Any:
    open_jobs = [j for j in JOBS if j["status"] != "completed"]
    return plan_route([Stop(j["id"], j["customer_lat"], j["customer_lon"], j["priority"],
                            datetime.fromisoformat(j["due_at"])) for j in open_jobs],
                      start=(HERE.lat, HERE.lon), start_time=NOON)



def test_no_cdn_or_online_tile_url_remains() -> None:
    page = render_map(JOBS, position=HERE, route=_route())
    assert not re.search(r"<script[^>]*\ssrc=", page)  # every script is inline
    assert not re.search(r"<link[^>]*\shref=", page)  # every stylesheet too
    assert not re.search(r"url\((?!data:|#)", page)  # CSS images are data: URLs
    lowered = page.lower()
    assert [host for host in CDN_HOSTS if host in lowered] == []
    assert "Leaflet 1.9.4" in page  # the bundled copy, inlined


def test_the_map_works_in_chromium_without_any_request(browser, tmp_path: Path) -> None:
    route = _route()
    path = write_map(tmp_path / "today.html", JOBS, position=HERE, route=route,
                     title="今日工单 2026-11-24")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route(re.compile(r"^(https?|wss?)://"), lambda r: r.abort())  # there is no network
    page.goto(path.as_uri())
    page.wait_for_function("document.querySelectorAll('.stop-no').length > 0")
    assert errors == []
    assert requests == [path.as_uri()]  # nothing else: no script, font, tile or icon
    # Four placed jobs, me and my accuracy circle, the route line.
    assert page.locator("path.leaflet-interactive").count() == 4 + 2 + 1
    assert sorted(page.locator(".stop-no").all_inner_texts()) == [
        str(n) for n in range(1, len(route.legs) + 1)]
    fills = set(page.eval_on_selector_all(
        "path.leaflet-interactive", "els => els.map(e => e.getAttribute('fill'))"))
    assert {STATUS_STYLES[s].colour for s in ("completed", "in_service", "dispatched",
                                              "accepted")} <= fills
    legend = page.locator("#legend").inner_text()
    assert "今日工单 2026-11-24" in legend and "共 5 单" in legend
    assert "1 单无坐标" in legend and f"路线 {route.total_km:.1f} km" in legend
    accepted = STATUS_STYLES["accepted"].colour
    page.locator(f"path.leaflet-interactive[fill='{accepted}']").click(force=True)
    assert "GD202611240004" in page.locator(".leaflet-popup-content").inner_text()
    assert "紧急" in page.locator(".leaflet-popup-content").inner_text()
    page.close()


def test_the_emergency_is_the_first_stop_and_ringed_red() -> None:
    route = _route()
    assert route.order[0] == "job-4"
    assert 'color": "#d93025"' in render_map(JOBS, position=HERE, route=route)


def test_without_a_fix_the_legend_says_so() -> None:
    page = render_map(JOBS, position=None, route=None)
    assert "无GPS定位" in page and "我的位置 (" not in page


def test_customer_text_is_escaped() -> None:
    hostile = [_job(1, "dispatched", 32.0, 118.8, customer_name="<script>alert(1)</script>")]
    page = render_map(hostile)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_todays_map_from_the_replica(fresh_replica: Replica, tmp_path: Path) -> None:
    path = write_today_map(fresh_replica, tmp_path / "maps" / "today.html", position=HERE)
    page = path.read_text(encoding="utf-8")
    assert "GD202611240001" in page and "GD202611240002" in page
    assert "陈桂芳" in page and "±8 m" in page
    assert not (tmp_path / "maps" / "today.part").exists()

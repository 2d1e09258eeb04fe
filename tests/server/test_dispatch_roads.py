"""Dispatch measured along the district's roads: a technician just across a river from an
emergency, with the only bridge far off, is not the nearest; one down the same street is,
and the suggestion says it measured along the roads. Without roads, as the crow flies."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from fieldapp.network.model import ROADS
from sync_server.services import dispatch, network_maps
from sync_server.services.auth import Principal, add_user
from sync_server.storage.db import open_database
from sync_server.storage.objects import FileSystemStore
from tests.conftest import ServerProcess
from tests.network.network_files import collection, layers
from tests.server.test_conflict_review import office_session
from tests.server.test_network_api import network_cli
from tests.server.test_positions_api import fix, post, server_clock
from tests.server.test_sync_api import login
from tests.world import PASSWORD

M_PER_DEG = 6371008.8 * math.pi / 180


def test_the_nearest_technician_is_the_nearest_along_the_roads(
        server: ServerProcess, tmp_path: Path) -> None:
    home = server.query("SELECT lat, lon FROM customers WHERE id = 'cust-1'")[0]

    def at(x: float, y: float) -> tuple[float, float]:  # metres east and north of cust-1
        return (home["lat"] + y / M_PER_DEG,
                home["lon"] + x / (M_PER_DEG * math.cos(math.radians(home["lat"]))))

    def street(fid: str, *points: tuple[float, float]) -> dict:
        return {"type": "Feature", "id": fid, "properties": {}, "geometry": {
            "type": "LineString", "coordinates": [[at(*p)[1], at(*p)[0]] for p in points]}}

    # cust-1's street runs east; the river is north of it; the one bridge is 1.5 km east.
    roads = collection(street("南岸路", (-200, 0), (1500, 0)), street("北岸路", (-200, 300),
                       (1500, 300)), street("大桥", (1500, 0), (1500, 300)))
    done = network_cli(server, "秦淮区", {**layers(), ROADS: roads}, tmp_path)
    assert done.returncode == 0 and "道路 3 段" in done.stdout, done.stderr
    db = open_database(server.data_dir, server.database_url)
    try:
        with db.write() as conn:
            add_user(conn, "tech05", "孙立", "technician", PASSWORD, "秦淮区",
                     ["inspection", "repair"])
        assert post(server, login(server, "tech01", "dev-1"), fix(*at(0, 300))).ok  # across
        assert post(server, login(server, "tech05", "dev-5"), fix(*at(800, 0))).ok  # same bank
        with db.write() as conn:
            job_id = dispatch.create_job(conn, Principal("dispatcher", "赵敏", "dispatcher",
                                                         None, "web-test"), server_clock(), {
                "kind": "inspection", "customer": "320100000001", "priority": 1,
                "due_at": datetime.now(UTC).strftime("%Y-%m-%d 18:00")})
        along = partial(network_maps.roads_of,
                        objects=FileSystemStore(server.data_dir / "attachments"))
        with db.read() as conn:
            crow = dispatch.suggest(conn, job_id)
            road = dispatch.suggest(conn, job_id, roads=along)
    finally:
        db.close()
    assert crow.username == "tech01" and "距客户约 0.3 km（按实时定位）" in crow.explanation
    assert road.username == "tech05"
    assert "距客户约 0.8 km（沿道路，按实时定位）（紧急工单，就近派出）" in road.explanation
    across = next(c for c in road.candidates if c.username == "tech01")
    assert across.distance_km is not None and 3.2 < across.distance_km < 3.4  # by the bridge
    page = office_session(server, "dispatcher").get(f"{server.url}/office/jobs/{job_id}",
                                                     timeout=10)
    assert page.status_code == 200 and "建议指派给 孙立" in page.text and "沿道路" in page.text

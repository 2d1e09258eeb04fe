"""The dispatch map over the district's own basemap, in Chromium: the tiles come from this
server and nowhere else, drawn where the jobs are; a district account gets only its own
district's tiles, and a tile asked for wrongly is refused, never a 5xx."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import requests
from PIL import Image

from fieldapp.basemap.write import write_pmtiles
from fieldapp.demo import basemap
from sync_server.seed import ROOT
from sync_server.services.auth import add_user
from sync_server.storage.db import open_database
from tests.basemap.basemaps import AREA, demo_district, rgb, vector_tiles
from tests.conftest import ServerProcess
from tests.server.test_basemap_api import basemap_cli
from tests.server.test_conflict_review import office_session
from tests.server.test_office_browser import sign_in
from tests.world import PASSWORD

SHOTS = ROOT / "var" / "screenshots"
TILES = "/office/dispatch/map/tiles"


def test_the_dispatch_map_is_drawn_over_the_districts_basemap(
        server: ServerProcess, browser: Any, tmp_path: Path) -> None:
    drawn, _, _ = demo_district("秦淮区")
    assert basemap_cli(server, "秦淮区", drawn).returncode == 0
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    outside: list[str] = []
    tiles: list[tuple[int, str]] = []

    def only_here(route: Any) -> None:
        if route.request.url.startswith(server.url):
            route.continue_()
        else:  # the office runs offline: nothing may be asked of the internet
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_here)
    page.on("response", lambda r: tiles.append((r.status, r.headers.get("content-type", "")))
            if TILES in r.url else None)
    page.goto(server.url + "/office/dispatch/map")
    sign_in(page, "dispatcher")
    page.select_option("select[name=district]", "秦淮区")
    page.click("form.inline button[type=submit]")
    page.wait_for_load_state("networkidle")
    shown = page.locator("svg#job-map image.tile").count()
    assert shown > 0 and len(tiles) == shown
    assert all(t == (200, "image/png") for t in tiles)
    assert outside == []
    assert "底图为本区离线底图" in page.inner_text("main")
    svg = page.locator("svg#job-map")
    picture = Image.open(io.BytesIO(svg.screenshot())).convert("RGB")
    colours = {c for _, c in picture.getcolors(1 << 20) or []}
    assert rgb(basemap.LAND) in colours  # the basemap's own land shows under the jobs
    page.screenshot(path=str(SHOTS / "office_map.png"), full_page=True)
    page.close()


def test_tiles_are_only_for_the_districts_own_accounts_and_bad_asks_are_refused(
        server: ServerProcess, tmp_path: Path) -> None:
    drawn, _, customers = demo_district("秦淮区")
    assert basemap_cli(server, "秦淮区", drawn).returncode == 0
    from fieldapp.basemap.mercator import tile_of

    x, y = tile_of(customers[0]["lon"], customers[0]["lat"], 15)
    office = office_session(server, "dispatcher")
    ok = office.get(f"{server.url}{TILES}/秦淮区/15/{x}/{y}", timeout=10)
    assert ok.status_code == 200 and ok.content.startswith(b"\x89PNG")
    for bad, status in ((f"秦淮区/15/{x + 900}/{y}", 404), (f"秦淮区/9/{x}/{y}", 404),
                        (f"鼓楼区/15/{x}/{y}", 404), (f"秦淮区/99/{x}/{y}", 422),
                        (f"秦淮区/15/-1/{y}", 422), (f"秦淮区/15/{x}/abc", 422),
                        (f"秦淮区/15/{x}/{'9' * 40}", 404)):  # past the world's edge
        resp = office.get(f"{server.url}{TILES}/{bad}", timeout=10)
        assert resp.status_code == status, bad
    assert requests.get(f"{server.url}{TILES}/秦淮区/15/{x}/{y}", timeout=10,
                        allow_redirects=False).status_code in (303, 401)
    db = open_database(server.data_dir, server.database_url)
    try:
        with db.write() as conn:
            add_user(conn, "gl-dispatch", "鼓楼调度", "dispatcher", PASSWORD, "鼓楼区")
    finally:
        db.close()
    theirs = office_session(server, "gl-dispatch").get(
        f"{server.url}{TILES}/秦淮区/15/{x}/{y}", timeout=10)
    assert theirs.status_code == 403


def test_a_vector_basemap_reaches_the_office_map_as_images(
        server: ServerProcess, tmp_path: Path) -> None:
    path = write_pmtiles(tmp_path / "矢量.pmtiles", vector_tiles(), bounds=AREA, name="矢量底图",
                         image="pbf")
    done = basemap_cli(server, "秦淮区", path)
    assert done.returncode == 0 and "PMTILES" in done.stdout, done.stderr
    from fieldapp.basemap.mercator import tile_of

    x, y = tile_of(118.80, 32.02, 15)
    tile = office_session(server, "dispatcher").get(f"{server.url}{TILES}/秦淮区/15/{x}/{y}",
                                                     timeout=10)
    assert tile.status_code == 200 and tile.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(tile.content)).size == (256, 256)

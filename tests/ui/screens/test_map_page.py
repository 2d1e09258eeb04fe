"""今日地图 inside the app, by touch: today's jobs numbered in route order on the offline
basemap with the district's mains and valves; a tap on a job opens it and 返回 comes back
to the map; above the map, which basemap it is, or in words why there is none."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from pytestqt.qtbot import QtBot

from fieldapp.basemap.local import folder
from fieldapp.network.bundle import pack
from fieldapp.replica import Replica
from fieldapp.sync import network_files
from fieldapp.ui.demo_seed import Seeded
from fieldapp.ui.main_window import MainWindow
from sync_server.seed import ROOT
from tests.basemap.basemaps import demo_district, pmtiles_file
from tests.ui.ui_helpers import finished, tap

SHOTS = ROOT / "var" / "screenshots"


def as_demo_technician(check: Replica, seeded: Seeded) -> None:
    """The tablet as a demo technician of 秦淮区 has it after a sync: the demo's basemap and
    network of the district, and today's customers moved to demo customers' houses."""
    drawn, layers, customers = demo_district("秦淮区")
    folder(check.data_dir).mkdir(parents=True, exist_ok=True)
    shutil.copy(drawn, folder(check.data_dir) / "秦淮区.pmtiles")
    bundle, _ = pack({k: v.encode() for k, v in layers.items()})
    assert network_files.keep(check, hashlib.sha256(bundle).hexdigest(), bundle)
    ids = sorted({check.jobs.get(j)["customer_id"] for j in seeded.job_ids})
    with check.transaction():
        for n, cid in enumerate(ids):
            place = customers[n * 37 % len(customers)]
            check.db.execute("UPDATE customers SET lat = ?, lon = ? WHERE id = ?",
                             [place["lat"], place["lon"], cid])


def open_map(qtbot: QtBot, window: MainWindow) -> None:
    tap(qtbot, window.today.map)
    assert window.stack.currentWidget() is window.map_page
    assert finished(window.map_page.task)


def test_the_map_shows_todays_jobs_on_the_districts_streets_and_mains(
        qtbot: QtBot, window: MainWindow, seeded: Seeded, check: Replica) -> None:
    as_demo_technician(check, seeded)
    open_map(qtbot, window)
    page = window.map_page
    shown = page.shown
    assert shown is not None and shown.basemap.basemap is not None
    basemap_line, route_line = page.status.text().split("\n")
    assert basemap_line == "底图：秦淮区（13–17 级）"
    # The demo's network carries its streets: the route is planned and measured along them.
    assert shown.by_road and shown.crow_order_km is not None
    assert route_line == (f"路线 {shown.route_km:.1f} 公里（沿道路；按直线距离排的顺序走则为"
                          f" {shown.crow_order_km:.1f} 公里）")
    assert len(shown.pipes) > 100 and len(shown.valves) > 10 and not shown.outside
    numbers = sorted(j["number"] for j in shown.jobs if j["number"] is not None)
    assert numbers == list(range(1, len(numbers) + 1)) and numbers
    assert page.title.text() == f"今日地图 · {len(shown.jobs)} 个工单"
    qtbot.waitUntil(lambda: page.map.tiles_drawn > 0)
    window.grab().save(str(SHOTS / "tablet_map.png"))
    assert page.network.text() == "管网" and page.network.isChecked()
    tap(qtbot, page.network)  # the mains off: the streets under them show
    assert not page.map.show_network
    tap(qtbot, page.network)

    first = next(j for j in shown.jobs if j["number"] == 1)
    page.map.set_zoom(16.5)
    page.map.centre_on(first["customer_lon"], first["customer_lat"])
    window.grab().save(str(SHOTS / "tablet_map_street.png"))  # streets, names, valves
    tap(qtbot, page.map, page.map.screen(first["customer_lon"], first["customer_lat"]).toPoint())
    assert window.stack.currentWidget() is window.job_page
    assert window.job_page.job is not None and window.job_page.job["id"] == first["id"]
    tap(qtbot, window.job_page.back)
    assert window.stack.currentWidget() is window.map_page  # back where the finger was
    assert finished(page.task)
    assert page.map.zoom == 16.5  # a reload keeps the view
    tap(qtbot, page.back)
    assert window.stack.currentWidget() is window.today


def test_without_a_basemap_it_says_where_one_goes_and_names_a_file_it_cannot_use(
        qtbot: QtBot, window: MainWindow, data_dir: Path) -> None:
    open_map(qtbot, window)
    page = window.map_page
    assert page.status.text().split("\n")[0] == ("没有离线底图：同步后自动下载本区底图，或把"
                                                  " .pmtiles / .mbtiles 文件放到"
                                                  f" {folder(data_dir)}")
    assert page.shown is not None and len(page.shown.jobs) >= 1  # the jobs on blank land
    folder(data_dir).mkdir()
    pmtiles_file(folder(data_dir) / "北京.pmtiles", area=(116.38, 39.90, 116.40, 39.92),
                 zooms=(15,))
    broken = folder(data_dir) / "坏的.pmtiles"  # side-loaded last: the first one tried
    broken.write_bytes(b"PMTiles\x03" + b"\xff" * 200)
    os.utime(broken, (2_000_000_000, 2_000_000_000))
    tap(qtbot, page.back)
    open_map(qtbot, window)
    lines = page.status.text().split("\n")
    assert lines[0] == "底图：测试底图（15–15 级）"
    assert lines[1].startswith("未使用 坏的.pmtiles：")
    assert lines[2] == "底图不覆盖今日工单所在区域"
    assert lines[3].startswith("路线 ") and "直线距离：本区没有道路数据" in lines[3]
    assert (folder(data_dir) / "坏的.pmtiles").is_file()  # never removed: it may be the only copy

"""A district's gas network imported on the command line and fetched by its tablets, as an
attacker and a careless operator would try it too."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import requests

from fieldapp.network.isolation import isolate
from fieldapp.network.model import PIPES, VALVE_CLOSED, VALVES
from fieldapp.sync import network_files
from sync_server.services.auth import add_user
from sync_server.storage.db import DATABASE_URL_ENV, open_database
from tests.conftest import ROOT, ServerProcess, synced_tablet
from tests.network.network_files import at, collection, layers, line
from tests.network.shapefiles import zipped
from tests.server.test_conflict_review import office_session
from tests.server.test_sync_api import login
from tests.world import PASSWORD


def network_cli(server: ServerProcess, district: str, files: dict[str, str],
                tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = ["network", district, "--data", str(server.data_dir), *extra]
    if server.database_url:
        args += ["--database-url", server.database_url]
    for layer, text in files.items():
        path = tmp_path / f"{layer}.geojson"
        path.write_text(text, encoding="utf-8")
        args += [f"--{layer.replace('_', '-')}", str(path)]
    env = {k: v for k, v in os.environ.items() if k != DATABASE_URL_ENV}
    return subprocess.run([sys.executable, "-m", "sync_server", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**env, "PYTHONPATH": str(ROOT)})


def setting(server: ServerProcess, district: str) -> dict | None:
    rows = server.query("SELECT value FROM org_settings WHERE id = ?", [f"network:{district}"])
    return json.loads(rows[0]["value"]) if rows else None


def test_an_imported_network_reaches_its_districts_tablets_and_no_other(
        server: ServerProcess, tmp_path: Path):
    done = network_cli(server, "秦淮区", layers(), tmp_path)
    assert done.returncode == 0, done.stderr
    assert "已导入：秦淮区 管线 12 段，入户管 4 段，阀门 4 个，气源 2 个；0 处提示" in done.stdout
    sha = setting(server, "秦淮区")["sha256"]

    replica, client = synced_tablet(server, tmp_path / "tablet")  # tech01, 秦淮区
    stored = network_files.path(replica.data_dir, sha)
    sealed = stored.read_bytes()  # sealed at rest: none of the bundle's text shows
    assert sealed.startswith(b"FAS1") and b'"properties"' not in sealed
    net = network_files.load(replica)
    assert [v.id for v in isolate(net, **at(175, 1)).close] == ["V1", "V3"]
    assert client.sync().network is False  # fetched once

    other, _ = synced_tablet(server, tmp_path / "other", "tech02")  # 鼓楼区: none of its own
    assert network_files.load(other) is None
    assert not (other.data_dir / network_files.FOLDER).exists()
    # Asked for by a plain client: another district's technician, no token, a bad name.
    url = f"{server.url}/api/v1/network/{sha}"
    theirs = requests.get(url, headers=login(server, "tech02", "dev-x"), timeout=10)
    assert theirs.status_code == 404 and theirs.json()["error"] == "unknown_network"
    assert requests.get(url, timeout=10).status_code == 401
    for bad in ("../../server.sqlite3", sha.upper(), sha[:-1], "0" * 64):
        resp = requests.get(f"{server.url}/api/v1/network/{bad}",
                            headers=login(server, "tech01", "dev-y"), timeout=10)
        assert resp.status_code in (404, 422), bad
    office = requests.get(url, headers=login(server, "dispatcher", "dev-z"), timeout=10)
    assert office.status_code == 200 and office.content == net_bytes(server, sha)
    db = open_database(server.data_dir, server.database_url)
    try:
        with db.write() as conn:  # a 鼓楼区 dispatcher: their own district's only
            add_user(conn, "gl-dispatch", "鼓楼调度", "dispatcher", PASSWORD, "鼓楼区")
    finally:
        db.close()
    scoped = requests.get(url, headers=login(server, "gl-dispatch", "dev-g"), timeout=10)
    assert scoped.status_code == 404


def net_bytes(server: ServerProcess, sha: str) -> bytes:
    return (server.data_dir / "attachments" / sha[:2] / sha).read_bytes()


def test_a_new_version_replaces_the_old_at_the_next_sync_and_the_same_file_changes_nothing(
        server: ServerProcess, tmp_path: Path):
    assert network_cli(server, "秦淮区", layers(), tmp_path).returncode == 0
    replica, client = synced_tablet(server, tmp_path / "tablet")
    first = setting(server, "秦淮区")["sha256"]
    changes = server.scalar("SELECT max(seq) FROM changes")
    again = network_cli(server, "秦淮区", layers(), tmp_path)
    assert again.returncode == 0 and "未变化" in again.stdout
    assert server.scalar("SELECT max(seq) FROM changes") == changes

    assert network_cli(server, "秦淮区", layers(v4_status="常闭"), tmp_path).returncode == 0
    assert setting(server, "秦淮区")["sha256"] != first
    assert client.sync().network is True
    assert [v.id for v in isolate(network_files.load(replica), **at(175, 1)).close] == ["V1"]
    assert net_bytes(server, first)  # the earlier version is kept


def test_a_refused_or_flagged_import_says_so_in_words(server: ServerProcess, tmp_path: Path):
    projected = collection({"type": "Feature", "id": "P1", "properties": {}, "geometry": {
        "type": "LineString", "coordinates": [[40512345.6, 3545678.9], [40512400, 3545678.9]]}})
    refused = network_cli(server, "秦淮区", {**layers(), PIPES: projected}, tmp_path)
    assert refused.returncode == 2
    assert "不是经纬度" in refused.stderr and "未导入" in refused.stderr
    assert setting(server, "秦淮区") is None
    nowhere = network_cli(server, "火星区", layers(), tmp_path)
    assert nowhere.returncode == 2 and "没有营业区域「火星区」" in nowhere.stderr
    assert network_cli(server, "秦淮区", {}, tmp_path).returncode == 2  # no pipes at all

    files = layers()
    files[PIPES] = collection(*json.loads(files[PIPES])["features"],
                              line("X1", (151.5, -100), (260, -100)))
    dry = network_cli(server, "秦淮区", files, tmp_path, "--dry-run")
    assert dry.returncode == 0 and "检查完毕（未写入）" in dry.stdout
    assert "管线 X1：端点距管线 B1 仅 1.5 米，但未连接" in dry.stdout
    assert setting(server, "秦淮区") is None
    flagged = network_cli(server, "秦淮区", files, tmp_path)
    assert flagged.returncode == 0 and "2 处提示" in flagged.stdout
    assert setting(server, "秦淮区")["flagged"] == 2


def test_a_valve_closed_on_the_tablet_is_on_the_job_in_the_office(server: ServerProcess,
                                                                  tmp_path: Path):
    assert network_cli(server, "秦淮区", layers(), tmp_path).returncode == 0
    replica, client = synced_tablet(server, tmp_path / "tablet")
    replica.interactions.add("job-1", VALVE_CLOSED, "V1")
    client.sync()
    assert server.scalar("SELECT text FROM interactions WHERE kind = ?", [VALVE_CLOSED]) == "V1"
    page = office_session(server, "dispatcher").get(server.url + "/office/jobs/job-1",
                                                     timeout=10)
    assert page.status_code == 200 and "已关阀门" in page.text and "V1" in page.text


def test_a_layer_given_as_a_shp_with_its_files_beside_it(server: ServerProcess,
                                                        tmp_path: Path):
    folder = tmp_path / "gis"
    folder.mkdir()
    with zipfile.ZipFile(io.BytesIO(zipped(layers()[VALVES], stem="阀门"))) as z:
        z.extractall(folder)
    (folder / "阀门说明.txt").write_text("not part of the layer")
    files = {k: v for k, v in layers().items() if k != VALVES}
    done = network_cli(server, "秦淮区", files, tmp_path, "--valves", str(folder / "阀门.shp"))
    assert done.returncode == 0, done.stderr
    assert "阀门 4 个" in done.stdout and "0 处提示" in done.stdout


def test_the_dispatch_map_draws_the_districts_mains_and_valves(server: ServerProcess,
                                                               tmp_path: Path, monkeypatch):
    from tests.network import network_files as drawn

    monkeypatch.setattr(drawn, "LAT0", 32.0195)  # the network drawn where the jobs are
    monkeypatch.setattr(drawn, "LON0", 118.7930)
    office = office_session(server, "dispatcher")
    before = office.get(server.url + "/office/dispatch/map?district=秦淮区", timeout=10).text
    assert "<path" not in before  # no network yet
    assert network_cli(server, "秦淮区", layers(), tmp_path).returncode == 0
    page = office.get(server.url + "/office/dispatch/map?district=秦淮区", timeout=10).text
    assert page.count('<path d="M') >= 1 and "<title>阀门 V" in page
    assert "灰线为燃气管线" in page
    assert "<path" not in office.get(server.url + "/office/dispatch/map", timeout=10).text

"""A district's offline basemap imported on the command line and downloaded by its tablets:
only their own district's, resumed after a cut, never kept when its bytes are not the named
ones; and the file a careless operator or an attacker would hand the door."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from fieldapp.basemap.local import choose, folder
from fieldapp.basemap.mercator import tile_of
from fieldapp.basemap.write import write_pmtiles
from fieldapp.sync import basemap_files
from fieldapp.sync.client import SyncClient
from fieldapp.sync.transport import RequestsTransport
from sync_server.storage.db import DATABASE_URL_ENV
from tests.basemap.basemaps import AREA, coloured_tiles, mbtiles_file, pmtiles_file
from tests.conftest import ROOT, ServerProcess, synced_tablet
from tests.server.test_sync_api import login
from tests.world import PASSWORD


def basemap_cli(server: ServerProcess, district: str, path: Path,
                *extra: str) -> subprocess.CompletedProcess[str]:
    args = ["basemap", district, str(path), "--data", str(server.data_dir), *extra]
    if server.database_url:
        args += ["--database-url", server.database_url]
    env = {k: v for k, v in os.environ.items() if k != DATABASE_URL_ENV}
    return subprocess.run([sys.executable, "-m", "sync_server", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**env, "PYTHONPATH": str(ROOT)})


def setting(server: ServerProcess, district: str) -> dict[str, Any] | None:
    rows = server.query("SELECT value FROM org_settings WHERE id = ?", [f"basemap:{district}"])
    return json.loads(rows[0]["value"]) if rows else None


def noisy_basemap(path: Path) -> Path:
    """A few megabytes of tiles that do not compress: enough to cut a download half way."""
    w, s, e, n = AREA
    (x0, y0), (x1, y1) = tile_of(w, n, 16), tile_of(e, s, 16)
    tiles = []
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            buf = io.BytesIO()
            Image.frombytes("RGB", (256, 256), os.urandom(256 * 256 * 3)).save(buf, "PNG")
            tiles.append((16, x, y, buf.getvalue()))
    return write_pmtiles(path, tiles, bounds=AREA, name="噪点底图")


def test_an_imported_basemap_reaches_its_districts_tablets_and_no_other(
        server: ServerProcess, tmp_path: Path) -> None:
    source = pmtiles_file(tmp_path / "秦淮区底图.pmtiles")
    done = basemap_cli(server, "秦淮区", source)
    assert done.returncode == 0, done.stderr
    assert "已导入：秦淮区 底图 测试底图，PMTILES，14–16 级" in done.stdout
    named = setting(server, "秦淮区")
    assert named is not None and named["size"] == source.stat().st_size
    again = basemap_cli(server, "秦淮区", source)
    assert again.returncode == 0 and "未变化" in again.stdout

    replica, client = synced_tablet(server, tmp_path / "tablet")  # tech01, 秦淮区
    kept = folder(replica.data_dir) / f"{named['sha256']}.pmtiles"
    assert kept.read_bytes() == source.read_bytes()
    choice = choose(replica.data_dir, replica.state(basemap_files.KEPT))
    assert choice.basemap is not None and choice.synced and choice.basemap.name == "测试底图"
    choice.basemap.close()
    assert client.sync().basemap is False  # fetched once

    other, _ = synced_tablet(server, tmp_path / "other", "tech02")  # 鼓楼区: none of its own
    assert not folder(other.data_dir).exists()
    url = f"{server.url}/api/v1/basemap/{named['sha256']}"
    theirs = requests.get(url, headers=login(server, "tech02", "dev-x"), timeout=10)
    assert theirs.status_code == 404 and theirs.json()["error"] == "unknown_basemap"
    assert requests.get(url, timeout=10).status_code == 401
    mine = login(server, "tech01", "dev-y")
    for bad in ("../../server.sqlite3", named["sha256"].upper(), "0" * 64, "%00"):
        resp = requests.get(f"{server.url}/api/v1/basemap/{bad}", headers=mine, timeout=10)
        assert resp.status_code in (404, 422), bad
    office = requests.get(url, headers=login(server, "dispatcher", "dev-z"), timeout=10)
    assert office.status_code == 200 and office.content == source.read_bytes()


def test_a_range_is_served_as_asked_and_a_range_that_cannot_be_is_refused(
        server: ServerProcess, tmp_path: Path) -> None:
    source = pmtiles_file(tmp_path / "b.pmtiles")
    assert basemap_cli(server, "秦淮区", source).returncode == 0
    whole, size = source.read_bytes(), source.stat().st_size
    url = f"{server.url}/api/v1/basemap/{setting(server, '秦淮区')['sha256']}"  # type: ignore[index]
    mine = login(server, "tech01", "dev-y")
    full = requests.get(url, headers=mine, timeout=10)
    assert full.status_code == 200 and full.headers["Accept-Ranges"] == "bytes"
    rest = requests.get(url, headers={**mine, "Range": "bytes=100-"}, timeout=10)
    assert rest.status_code == 206 and rest.content == whole[100:]
    assert rest.headers["Content-Range"] == f"bytes 100-{size - 1}/{size}"
    some = requests.get(url, headers={**mine, "Range": "bytes=0-9"}, timeout=10)
    assert some.status_code == 206 and some.content == whole[:10]
    past = requests.get(url, headers={**mine, "Range": "bytes=5-999999999"}, timeout=10)
    assert past.status_code == 206 and past.content == whole[5:]
    for bad in (f"bytes={size}-", "bytes=-5", "items=0-1", "bytes=0-1,5-6", "bytes=9-3",
                "bytes=x-", "bytes=" + "9" * 400):
        resp = requests.get(url, headers={**mine, "Range": bad}, timeout=10)
        assert resp.status_code == 416, bad
        assert resp.json()["error"] == "bad_range" and resp.json()["detail"]["size"] == size


class CutOnce(RequestsTransport):
    """The real transport, whose first basemap download loses its signal after ``after``
    bytes; every basemap request's Range header is kept."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after, self.cut, self.ranges = after, False, []  # type: ignore[var-annotated]

    @contextmanager
    def stream(self, method: str, url: str, **kwargs: Any) -> Iterator[requests.Response]:
        with super().stream(method, url, **kwargs) as resp:
            if "/basemap/" in url:
                self.ranges.append((kwargs.get("headers") or {}).get("Range"))
                if not self.cut:
                    self.cut = True
                    resp.iter_content = self._cut(resp.iter_content)  # type: ignore[method-assign]
            yield resp

    def _cut(self, read: Any) -> Any:
        def pieces(chunk_size: int = 1) -> Iterator[bytes]:
            sent = 0
            for piece in read(chunk_size=chunk_size):
                if sent + len(piece) > self.after:
                    raise requests.exceptions.ChunkedEncodingError("signal lost")
                sent += len(piece)
                yield piece
        return pieces


def test_a_download_cut_off_carries_on_from_where_it_stopped(
        server: ServerProcess, tmp_path: Path) -> None:
    source = noisy_basemap(tmp_path / "big.pmtiles")
    assert source.stat().st_size > 2_000_000
    assert basemap_cli(server, "秦淮区", source).returncode == 0
    sha = setting(server, "秦淮区")["sha256"]  # type: ignore[index]
    from fieldapp.replica import Replica

    replica = Replica.open(tmp_path / "tablet")
    transport = CutOnce(after=1_000_000)
    client = SyncClient(replica, server.url, transport=transport)
    client.login("tech01", PASSWORD)
    first = client.sync()  # the rest of the sync is not stopped by the cut
    assert first.basemap is False and replica.state(basemap_files.KEPT) is None
    part = folder(replica.data_dir) / f"{sha}.pmtiles.part"
    have = part.stat().st_size
    assert 0 < have <= 1_000_000
    assert choose(replica.data_dir, replica.state(basemap_files.KEPT)).basemap is None
    second = client.sync()
    assert second.basemap is True and transport.ranges == [None, f"bytes={have}-"]
    assert (folder(replica.data_dir) / f"{sha}.pmtiles").read_bytes() == source.read_bytes()
    assert not part.exists() and replica.state(basemap_files.KEPT) == sha


def test_bytes_that_are_not_the_named_ones_are_never_kept(
        server: ServerProcess, tmp_path: Path) -> None:
    source = pmtiles_file(tmp_path / "b.pmtiles")
    assert basemap_cli(server, "秦淮区", source).returncode == 0
    sha = setting(server, "秦淮区")["sha256"]  # type: ignore[index]
    stored = next(p for p in (server.data_dir / "attachments").rglob(f"*{sha}*") if p.is_file())
    stored.write_bytes(stored.read_bytes()[:-10] + b"0123456789")  # changed on the server
    replica, client = synced_tablet(server, tmp_path / "tablet")
    assert replica.state(basemap_files.KEPT) is None
    assert list(folder(replica.data_dir).iterdir()) == []  # the bad bytes were removed
    stored.write_bytes(source.read_bytes())
    assert client.sync().basemap is True  # asked again, whole this time


def test_a_new_basemap_replaces_the_synced_one_and_leaves_a_side_loaded_file(
        server: ServerProcess, tmp_path: Path) -> None:
    assert basemap_cli(server, "秦淮区", pmtiles_file(tmp_path / "a.pmtiles")).returncode == 0
    replica, client = synced_tablet(server, tmp_path / "tablet")
    first = replica.state(basemap_files.KEPT)
    mine = mbtiles_file(folder(replica.data_dir) / "自己的.mbtiles")
    newer = pmtiles_file(tmp_path / "b.pmtiles", zooms=(15, 16), name="新版")
    assert basemap_cli(server, "秦淮区", newer).returncode == 0
    assert client.sync().basemap is True
    now = replica.state(basemap_files.KEPT)
    assert now != first and not (folder(replica.data_dir) / f"{first}.pmtiles").exists()
    assert mine.is_file()
    choice = choose(replica.data_dir, now)
    assert choice.basemap is not None and choice.basemap.name == "新版"
    choice.basemap.close()


@pytest.mark.parametrize(("make", "words"), [
    (lambda p: (p.write_bytes(b"PK\x03\x04 a zip, not tiles"), p)[1], "不是 PMTiles 或 MBTiles"),
    (lambda p: mbtiles_file(p, metadata={"crs": "EPSG:4490"}), "Web 墨卡托"),
    (lambda p: mbtiles_file(p, [(z, x, y, b"\x1a\x02") for z, x, y, _ in coloured_tiles()],
                            metadata={"format": "pbf"}), "矢量瓦片无法解码"),
])
def test_a_file_the_map_cannot_use_is_refused_and_nothing_written(
        server: ServerProcess, tmp_path: Path, make: Any, words: str) -> None:
    path = make(tmp_path / "bad.mbtiles")
    done = basemap_cli(server, "秦淮区", path)
    assert done.returncode == 2 and words in done.stderr
    assert setting(server, "秦淮区") is None
    unknown = basemap_cli(server, "火星区", pmtiles_file(tmp_path / "ok.pmtiles"))
    assert unknown.returncode == 2 and "没有营业区域「火星区」" in unknown.stderr
    dry = basemap_cli(server, "秦淮区", pmtiles_file(tmp_path / "ok.pmtiles"), "--dry-run")
    assert dry.returncode == 0 and "检查完毕（未写入）" in dry.stdout
    assert setting(server, "秦淮区") is None

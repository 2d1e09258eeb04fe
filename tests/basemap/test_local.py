"""Which basemap the tablet's map draws from: the synced one, else the newest file someone
put in the folder; one that cannot be used is named with its reason and left where it is."""

from __future__ import annotations

import os
from pathlib import Path

from fieldapp.basemap.local import choose, folder
from tests.basemap.basemaps import coloured_tiles, mbtiles_file, pmtiles_file

SHA = "ab" * 32


def test_no_folder_no_basemap(tmp_path: Path) -> None:
    choice = choose(tmp_path)
    assert choice.basemap is None and choice.refused == []


def test_the_synced_basemap_comes_first_then_the_newest_side_loaded(tmp_path: Path) -> None:
    where = folder(tmp_path)
    where.mkdir()
    old = pmtiles_file(where / "旧底图.pmtiles", name="旧")
    new = mbtiles_file(where / "新底图.mbtiles")
    os.utime(old, (1_000_000, 1_000_000))
    choice = choose(tmp_path, SHA)
    assert choice.basemap is not None and choice.basemap.path == new and not choice.synced
    choice.basemap.close()
    synced = pmtiles_file(where / f"{SHA}.pmtiles", name="同步的")
    choice = choose(tmp_path, SHA)
    assert choice.basemap is not None and choice.basemap.path == synced and choice.synced
    choice.basemap.close()
    (where / f"{'cd' * 32}.pmtiles.part").write_bytes(b"half a download")
    choice = choose(tmp_path, None)  # no synced one named: the newest side-loaded
    assert choice.basemap is not None and choice.basemap.path != old
    assert choice.refused == []  # a half download is not a basemap to try
    choice.basemap.close()


def test_a_file_that_cannot_be_used_is_named_and_kept(tmp_path: Path) -> None:
    where = folder(tmp_path)
    where.mkdir()
    broken = where / "坏的.pmtiles"
    broken.write_bytes(b"PMTiles\x03" + b"\x00" * 20)
    vector = mbtiles_file(where / "矢量.mbtiles", [(z, x, y, b"\x1a\x01") for z, x, y, _ in
                                                   coloured_tiles()], metadata={"format": "pbf"})
    os.utime(broken, (2_000_000_000, 2_000_000_000))  # the newest: tried first
    good = pmtiles_file(where / "好的.pmtiles")
    os.utime(good, (1_000_000, 1_000_000))
    choice = choose(tmp_path)
    assert choice.basemap is not None and choice.basemap.path == good
    choice.basemap.close()
    reasons = dict(choice.refused)
    assert "不完整" in reasons["坏的.pmtiles"] or "损坏" in reasons["坏的.pmtiles"]
    assert "矢量瓦片无法解码" in reasons["矢量.mbtiles"]
    assert broken.is_file() and vector.is_file()

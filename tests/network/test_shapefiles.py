"""The network's layers from Shapefiles, as Chinese GIS exports write them: the same network
as from GeoJSON, GBK attribute tables read right, and a projected or broken file refused."""

from __future__ import annotations

import io
import zipfile

import pytest

from fieldapp.network.bundle import pack
from fieldapp.network.isolation import isolate
from fieldapp.network.model import PIPES, SOURCES, VALVES, NetworkFileError
from tests.network.network_files import at, layers
from tests.network.shapefiles import GK_PRJ, zipped


def test_shapefiles_make_the_same_network_as_geojson():
    files = layers()
    shapes = {layer: zipped(text, encoding="gbk" if i % 2 else "utf-8",
                            cpg="UTF-8" if i == 2 else None)
              for i, (layer, text) in enumerate(files.items())}
    _, from_json = pack(dict(files))
    _, from_shp = pack(dict(shapes))
    assert from_shp.problems == []
    assert sorted(d.id for d in from_shp.devices) == sorted(d.id for d in from_json.devices)
    assert [v.id for v in isolate(from_shp, **at(175, 1)).close] == ["V1", "V3"]
    # The GBK attribute table (no .cpg) read as Chinese, not mojibake.
    assert {d.properties["name"] for d in from_shp.devices if d.kind == SOURCES} == {
        "城南调压站", "河西调压站"}
    assert {e.properties["material"] for e in from_shp.edges if e.id == "M1"} == {"PE"}


@pytest.mark.parametrize(("shape", "said"), [
    (lambda: zipped(layers()[VALVES], prj=GK_PRJ), "CGCS2000_3_DEGREE_GK_ZONE_40"),
    (lambda: b"PK\x03\x04 not really a zip", "不是可读的 Shapefile"),
    (lambda: _without(zipped(layers()[VALVES]), ".dbf"), "缺少 .dbf"),
    (lambda: _two(zipped(layers()[VALVES])), "2 个 .shp"),
    (lambda: _damaged(zipped(layers()[VALVES])), "不是可读的 Shapefile"),
])
def test_a_shapefile_that_cannot_be_taken_is_refused_in_words(shape, said):
    with pytest.raises(NetworkFileError) as refused:
        pack({PIPES: layers()[PIPES], VALVES: shape()})
    assert said in str(refused.value)


def _rezip(data: bytes, change) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            for name, content in change(info.filename, src.read(info)):
                dst.writestr(name, content)
    return out.getvalue()


def _without(data: bytes, ext: str) -> bytes:
    return _rezip(data, lambda n, c: [] if n.endswith(ext) else [(n, c)])


def _two(data: bytes) -> bytes:
    return _rezip(data, lambda n, c: [(n, c), ("other" + n[5:], c)])


def _damaged(data: bytes) -> bytes:
    return _rezip(data, lambda n, c: [(n, c[:60] if n.endswith(".shp") else c)])

"""Basemap files opened for their tiles, and every kind of file the map cannot use refused
in words: PMTiles and MBTiles as a utility's GIS would hand them over."""

from __future__ import annotations

import gzip
import io
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from fieldapp.basemap import vector
from fieldapp.basemap.mercator import lonlat, tile_of, world
from fieldapp.basemap.tiles import BasemapError, open_basemap
from fieldapp.basemap.write import write_pmtiles
from tests.basemap.basemaps import (
    AREA,
    colour,
    coloured_tiles,
    mbtiles_file,
    pmtiles_file,
    png,
    rgb,
    vector_tiles,
)

HERE = (118.80, 32.02)


def pixel(data: bytes) -> tuple[int, int, int]:
    return Image.open(io.BytesIO(data)).convert("RGB").getpixel((128, 128))  # type: ignore[return-value]


def test_web_mercator_places_a_point_and_finds_it_again() -> None:
    x, y = world(*HERE, 16)
    back = lonlat(x, y, 16)
    assert back == pytest.approx(HERE, abs=1e-9)
    assert tile_of(*HERE, 16) == (int(x // 256), int(y // 256))
    assert world(-180, 85.0511287798, 0) == pytest.approx((0, 0), abs=1e-6)


def test_a_pmtiles_file_gives_each_tile_back(tmp_path: Path) -> None:
    with open_basemap(pmtiles_file(tmp_path / "qh.pmtiles")) as basemap:
        assert (basemap.kind, basemap.format, basemap.raster) == ("pmtiles", "png", True)
        assert (basemap.min_zoom, basemap.max_zoom, basemap.name) == (14, 16, "测试底图")
        assert basemap.bounds == pytest.approx(AREA, abs=1e-6)
        for z in (14, 15, 16):
            x, y = tile_of(*HERE, z)
            assert pixel(basemap.tile(z, x, y) or b"") == colour(z, x, y)
        x, y = tile_of(*HERE, 16)
        assert basemap.tile(16, x + 50, y) is None  # outside the area: none
        assert basemap.tile(17, x, y) is None and basemap.tile(16, -1, y) is None


@pytest.mark.parametrize("xyz", [False, True])
def test_an_mbtiles_file_counts_its_rows_as_its_scheme_says(tmp_path: Path, xyz: bool) -> None:
    with open_basemap(mbtiles_file(tmp_path / "qh.mbtiles", xyz=xyz)) as basemap:
        assert (basemap.kind, basemap.min_zoom, basemap.max_zoom) == ("mbtiles", 14, 16)
        x, y = tile_of(*HERE, 15)
        assert pixel(basemap.tile(15, x, y) or b"") == colour(15, x, y)
        assert basemap.covers(*HERE) and not basemap.covers(116.4, 39.9)


def refused(path: Path) -> BasemapError:
    with pytest.raises(BasemapError) as caught:
        open_basemap(path)
    return caught.value


def test_a_file_that_is_neither_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.pmtiles").write_bytes(b"<html>not found</html>")
    (tmp_path / "empty.mbtiles").write_bytes(b"")
    assert refused(tmp_path / "a.pmtiles").code == "not_basemap"
    assert refused(tmp_path / "empty.mbtiles").code == "not_basemap"
    assert refused(tmp_path / "missing.pmtiles").code == "unreadable"
    other = tmp_path / "other.mbtiles"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE customers (id TEXT)")
    conn.close()
    error = refused(other)
    assert error.code == "not_basemap" and "tiles" in error.zh


def test_a_cut_download_is_refused_not_drawn_half(tmp_path: Path) -> None:
    whole = pmtiles_file(tmp_path / "whole.pmtiles").read_bytes()
    cut = tmp_path / "cut.pmtiles"
    cut.write_bytes(whole[:len(whole) // 2])
    error = refused(cut)
    assert error.code == "truncated" and "不完整" in error.zh
    damaged = tmp_path / "damaged.mbtiles"
    damaged.write_bytes(mbtiles_file(tmp_path / "m.mbtiles").read_bytes()[:3000])
    assert refused(damaged).code in ("damaged", "not_basemap")


@pytest.mark.parametrize("metadata", [
    {"crs": "EPSG:4490"},  # CGCS2000 degrees: 天地图's "_c" tile grid
    {"srs": "+proj=tmerc +lat_0=0 +lon_0=120 +k=1 +x_0=500000"},  # Gauss-Krüger
    {"bounds": "430000,3540000,440000,3550000"},  # metres of a projected grid
    {"bounds": "32.01,118.79,32.03,118.81"},  # latitude and longitude swapped
])
def test_a_file_in_another_projection_is_refused(tmp_path: Path,
                                                 metadata: dict[str, str]) -> None:
    error = refused(mbtiles_file(tmp_path / "p.mbtiles", metadata=metadata))
    assert error.code == "wrong_projection" and "墨卡托" in error.zh


def test_web_mercator_named_as_gis_tools_name_it_is_taken(tmp_path: Path) -> None:
    for n, name in enumerate(("EPSG:3857", "EPSG:900913", "Web Mercator")):
        path = mbtiles_file(tmp_path / f"{n}.mbtiles", metadata={"crs": name})
        with open_basemap(path) as basemap:
            assert basemap.raster and basemap.max_zoom == 16


def test_tiles_that_are_not_the_images_declared_are_refused(tmp_path: Path) -> None:
    tiles = [(z, x, y, b"\x00garbage" * 40) for z, x, y, _ in coloured_tiles()]
    assert refused(mbtiles_file(tmp_path / "g.mbtiles", tiles)).code == "damaged"
    jpegs = [(z, x, y, png(colour(z, x, y), "JPEG")) for z, x, y, _ in coloured_tiles()]
    error = refused(mbtiles_file(tmp_path / "j.mbtiles", jpegs))  # declared png
    assert error.code == "damaged" and "png" in error.zh
    assert refused(mbtiles_file(tmp_path / "e.mbtiles", [])).code == "empty"
    unknown = mbtiles_file(tmp_path / "u.mbtiles", metadata={"format": "tiff"})
    assert refused(unknown).code == "unknown_format"



@pytest.mark.parametrize("kind", ["pmtiles", "mbtiles"])
def test_vector_tiles_are_drawn_as_images(tmp_path: Path, kind: str) -> None:
    if kind == "pmtiles":
        path = write_pmtiles(tmp_path / "v.pmtiles", vector_tiles(), bounds=AREA, name="矢量",
                             image="pbf")
    else:  # gzipped in the file, as tippecanoe and GDAL write them
        path = mbtiles_file(tmp_path / "v.mbtiles", [
            (z, x, y, gzip.compress(d)) for z, x, y, d in vector_tiles()],
            metadata={"format": "pbf"})
    with open_basemap(path) as basemap:
        assert (basemap.format, basemap.raster, basemap.image_format) == ("pbf", False, "png")
        x, y = tile_of(*HERE, 15)
        png = basemap.image(15, x, y)
        assert png is not None and png.startswith(b"\x89PNG") and basemap.image(15, x, y) is png
        picture = Image.open(io.BytesIO(png)).convert("RGB")
        assert picture.getpixel((60, 60)) == rgb(vector.WATER)  # the left half
        assert picture.getpixel((230, 187)) == rgb(vector.MAJOR)  # the primary road
        assert picture.getpixel((212, 45)) == rgb(vector.BUILDING)
        assert picture.getpixel((180, 100)) == rgb(vector.LAND)
        assert basemap.image(15, x + 99, y) is None


def test_vector_tiles_that_cannot_be_decoded_are_refused(tmp_path: Path) -> None:
    garbage = [(z, x, y, b"\x1a\x09half a layer") for z, x, y, _ in coloured_tiles()]
    error = refused(mbtiles_file(tmp_path / "g.mbtiles", garbage, metadata={"format": "pbf"}))
    assert error.code == "damaged" and "矢量瓦片无法解码" in error.zh

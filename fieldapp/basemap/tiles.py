"""A basemap file opened for its tiles: PMTiles (read with protomaps' ``pmtiles``) or MBTiles
(an SQLite file, read with ``sqlite3`` as its spec 1.3 lays out: there is no other reader
worth a dependency).

    with open_basemap(path) as basemap:
        png = basemap.tile(16, 54_700, 26_800)  # None where the file has no tile

``open_basemap`` refuses in words (``BasemapError``, with its Chinese ``zh``) what the map
cannot draw from: a file that is neither, a cut download, bounds that are not degrees, a file
that says it is cut in another projection, tiles that are not the images (or the vector
tiles) it declares. Vector tiles (MVT) are drawn as images by ``vector``: ``image()``.
"""

from __future__ import annotations

import gzip
import json
import mmap
import sqlite3
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

from pmtiles.tile import (
    Compression,
    Entry,
    MagicNumberNotFound,
    SpecVersionUnsupported,
    TileType,
    deserialize_directory,
    deserialize_header,
    find_tile,
    zxy_to_tileid,
)

from fieldapp.basemap.mercator import in_world

RASTER = ("png", "jpg", "webp")
DRAWN_KEPT = 256  # vector tiles kept drawn (PNG bytes, tens of KB each)
VECTOR = "pbf"
MAGIC = {"png": (b"\x89PNG\r\n\x1a\n",), "jpg": (b"\xff\xd8\xff",), "webp": (b"RIFF",)}
# How GIS tools name Web Mercator in an MBTiles' metadata; any other named projection is
# refused (a grid cut in CGCS2000 degrees, 天地图's "_c" tiles, would draw streets askew).
MERCATOR = {"3857", "900913", "3785", "102100", "102113", "webmercator", "pseudomercator",
            "sphericalmercator", "googlemercator", "mercator"}
PROJECTION_KEYS = ("crs", "srs", "projection", "proj", "spatial_reference")
_PM_TYPES = {TileType.PNG: "png", TileType.JPEG: "jpg", TileType.WEBP: "webp",
             TileType.MVT: VECTOR}
_MB_FORMATS = {"png": "png", "jpg": "jpg", "jpeg": "jpg", "webp": "webp", "pbf": VECTOR,
               "mvt": VECTOR}


class BasemapError(ValueError):
    """A basemap the map will not use, said in words: ``code`` for programs, ``zh`` for the
    technician and the office."""

    def __init__(self, code: str, zh: str) -> None:
        super().__init__(f"{code}: {zh}")
        self.code, self.zh = code, zh


@dataclass
class Basemap:
    path: Path
    kind: str  # "pmtiles" or "mbtiles"
    format: str  # one of RASTER, or VECTOR
    min_zoom: int
    max_zoom: int
    bounds: tuple[float, float, float, float]  # west, south, east, north in degrees
    name: str
    attribution: str = ""
    _get: Callable[[int, int, int], bytes | None] = field(repr=False, default=lambda *_: None)
    _close: Callable[[], None] = field(repr=False, default=lambda: None)
    stamp: tuple[int, int] = (0, 0)  # the file's mtime (ns) and size when opened
    _drawn: OrderedDict[tuple[int, int, int], bytes] = field(
        repr=False, default_factory=OrderedDict)  # vector tiles drawn, the latest last
    _drawing: threading.Lock = field(repr=False, default_factory=threading.Lock)

    @property
    def raster(self) -> bool:
        return self.format in RASTER

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile's bytes, uncompressed; None where the file has none (or past its zooms)."""
        if not self.min_zoom <= z <= self.max_zoom or not (0 <= x < 2 ** z and 0 <= y < 2 ** z):
            return None
        return self._get(z, x, y)

    @property
    def image_format(self) -> str:
        """What ``image`` gives: the raster tiles' own format, vector tiles drawn as PNG."""
        return self.format if self.raster else "png"

    def image(self, z: int, x: int, y: int) -> bytes | None:
        """The tile as an image to show: a raster tile as it is, a vector tile drawn
        (``vector.to_png``, the last few kept); None where there is none or it is damaged."""
        data = self.tile(z, x, y)
        if data is None or self.raster:
            return data
        from fieldapp.basemap.vector import VectorTileError, to_png

        with self._drawing:
            found = self._drawn.get((z, x, y))
            if found is not None:
                self._drawn.move_to_end((z, x, y))
                return found
        try:
            png = to_png(data)
        except VectorTileError:
            return None
        with self._drawing:
            self._drawn[(z, x, y)] = png
            while len(self._drawn) > DRAWN_KEPT:
                self._drawn.popitem(last=False)
        return png

    def covers(self, lon: float, lat: float) -> bool:
        w, s, e, n = self.bounds
        return w <= lon <= e and s <= lat <= n

    def close(self) -> None:
        self._close()

    def __enter__(self) -> Basemap:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def open_basemap(path: Path | str) -> Basemap:
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(16)
    except OSError as exc:
        missing = isinstance(exc, FileNotFoundError)
        raise BasemapError("unreadable", "底图文件不存在" if missing else
                           f"底图文件无法读取（{exc.strerror or exc}）") from exc
    if head[:7] == b"PMTiles":
        basemap = _pmtiles(path)
    elif head.startswith(b"SQLite format 3\x00"):
        basemap = _mbtiles(path)
    else:
        raise BasemapError("not_basemap", "不是 PMTiles 或 MBTiles 底图文件")
    try:
        _check_sample(basemap)
        stat = path.stat()
    except BaseException:
        basemap.close()
        raise
    basemap.stamp = (stat.st_mtime_ns, stat.st_size)
    return basemap


# -- PMTiles -------------------------------------------------------------------------------


def _pmtiles(path: Path) -> Basemap:
    f = path.open("rb")
    try:
        view = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as exc:
        f.close()
        raise BasemapError("truncated", "底图文件不完整（下载或拷贝中断）") from exc

    def close() -> None:
        view.close()
        f.close()

    try:
        header = deserialize_header(view[0:127])
        _pm_whole(header, len(view))
        meta = _pm_metadata(view, header)
        kind = _PM_TYPES.get(header["tile_type"])
        if kind is None:
            raise BasemapError("unknown_format", f"底图瓦片格式不支持：{header['tile_type'].name}")
        bounds = (header["min_lon_e7"] / 1e7, header["min_lat_e7"] / 1e7,
                  header["max_lon_e7"] / 1e7, header["max_lat_e7"] / 1e7)
        _projection(meta, bounds)
    except (MagicNumberNotFound, SpecVersionUnsupported) as exc:
        close()
        raise BasemapError("unknown_version", "PMTiles 版本不支持（需要第 3 版）") from exc
    except BasemapError:
        close()
        raise
    except (ValueError, KeyError, IndexError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        close()
        raise BasemapError("damaged", "底图文件已损坏") from exc

    @lru_cache(maxsize=64)
    def directory(offset: int, length: int) -> list[Entry]:
        return deserialize_directory(view[offset:offset + length])

    gzipped = header["tile_compression"] == Compression.GZIP

    def get(z: int, x: int, y: int) -> bytes | None:
        wanted = zxy_to_tileid(z, x, y)
        offset, length = header["root_offset"], header["root_length"]
        for _depth in range(4):  # the spec's deepest
            entry = find_tile(directory(offset, length), wanted)
            if entry is None:
                return None
            if entry.run_length == 0:  # a leaf directory
                offset, length = header["leaf_directory_offset"] + entry.offset, entry.length
                continue
            start = header["tile_data_offset"] + entry.offset
            data = view[start:start + entry.length]
            return gzip.decompress(data) if gzipped else data
        return None

    return Basemap(path, "pmtiles", kind, header["min_zoom"], header["max_zoom"],
                   bounds, str(meta.get("name") or path.stem),
                   str(meta.get("attribution") or ""), _locked(get), close)


def _pm_whole(header: Any, size: int) -> None:
    for part in ("root", "metadata", "leaf_directory", "tile_data"):
        if header[f"{part}_offset"] + header[f"{part}_length"] > size:
            raise BasemapError("truncated", "底图文件不完整（下载或拷贝中断）")


def _pm_metadata(view: mmap.mmap, header: Any) -> dict[str, Any]:
    raw = view[header["metadata_offset"]:header["metadata_offset"] + header["metadata_length"]]
    if not raw:
        return {}
    if header["internal_compression"] == Compression.GZIP:
        raw = gzip.decompress(raw)
    meta = json.loads(raw)
    return meta if isinstance(meta, dict) else {}


# -- MBTiles -------------------------------------------------------------------------------


def _mbtiles(path: Path) -> Basemap:
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                               check_same_thread=False)
    except sqlite3.Error as exc:
        raise BasemapError("damaged", "底图文件已损坏") from exc
    try:
        meta = {str(k): str(v) for k, v in conn.execute("SELECT name, value FROM metadata")}
        conn.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles LIMIT 0")
        zooms = conn.execute("SELECT min(zoom_level), max(zoom_level) FROM tiles").fetchone()
    except sqlite3.DatabaseError as exc:
        conn.close()
        if "malformed" in str(exc) or "not a database" in str(exc):
            raise BasemapError("damaged", "底图文件已损坏") from exc
        raise BasemapError("not_basemap", "不是 MBTiles 底图：缺少 metadata 或 tiles 表") from exc
    try:
        kind = _MB_FORMATS.get(meta.get("format", "png").lower())
        if kind is None:
            raise BasemapError("unknown_format", f"底图瓦片格式不支持：{meta.get('format')}")
        if zooms[0] is None:
            raise BasemapError("empty", "底图文件里没有瓦片")
        bounds = _mb_bounds(meta.get("bounds"))
        _projection(meta, bounds)
    except BasemapError:
        conn.close()
        raise
    xyz = meta.get("scheme", "tms").lower() == "xyz"  # the spec's rows count from the south

    def get(z: int, x: int, y: int) -> bytes | None:
        row = y if xyz else 2 ** z - 1 - y
        found = conn.execute("SELECT tile_data FROM tiles WHERE zoom_level = ? AND "
                             "tile_column = ? AND tile_row = ?", (z, x, row)).fetchone()
        if found is None or found[0] is None:
            return None
        data = bytes(found[0])
        return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data

    return Basemap(path, "mbtiles", kind, int(zooms[0]), int(zooms[1]), bounds,
                   meta.get("name") or path.stem, meta.get("attribution", ""), _locked(get),
                   conn.close)


def _mb_bounds(text: str | None) -> tuple[float, float, float, float]:
    if not text:
        return (-180.0, -85.0511287798, 180.0, 85.0511287798)  # the spec's default: all
    try:
        w, s, e, n = (float(v) for v in text.split(","))
    except ValueError as exc:
        raise BasemapError("wrong_projection", f"底图范围不是经纬度：{text[:60]}") from exc
    return w, s, e, n


# -- checks --------------------------------------------------------------------------------


def _projection(meta: dict[str, Any], bounds: tuple[float, float, float, float]) -> None:
    for key in PROJECTION_KEYS:
        named = meta.get(key)
        if named:
            plain = "".join(ch for ch in str(named).lower() if ch.isalnum())
            if not any(m in plain for m in MERCATOR):
                raise BasemapError("wrong_projection",
                                   f"底图投影为 {str(named)[:40]}，需要 Web 墨卡托（EPSG:3857）")
    if not in_world(bounds):
        raise BasemapError("wrong_projection",
                           "底图范围不是经纬度（可能是投影坐标），需要 Web 墨卡托瓦片")


def _check_sample(basemap: Basemap) -> None:
    """One tile near the middle of the file read back: a raster tile must be the image its
    file declares (a damaged file, or tiles of another kind, refuse here, not on the map)."""
    from fieldapp.basemap.mercator import tile_of

    w, s, e, n = basemap.bounds
    for z in range(basemap.max_zoom, basemap.min_zoom - 1, -1):
        x, y = tile_of((w + e) / 2, (s + n) / 2, z)
        try:
            data = basemap.tile(z, x, y)
        except (ValueError, EOFError, zlib.error, gzip.BadGzipFile, sqlite3.Error) as exc:
            raise BasemapError("damaged", "底图瓦片已损坏") from exc
        if data is None:
            continue
        if basemap.raster and not data.startswith(MAGIC[basemap.format]):
            raise BasemapError("damaged", f"底图瓦片不是声明的 {basemap.format} 图像")
        if not basemap.raster:
            from fieldapp.basemap.vector import VectorTileError, decode

            try:
                decode(data)
            except VectorTileError as exc:
                raise BasemapError("damaged", "矢量瓦片无法解码（文件已损坏）") from exc
        return


def _locked(get: Callable[[int, int, int], bytes | None]
            ) -> Callable[[int, int, int], bytes | None]:
    """One reader at a time: the map paints on the UI thread, a prefetch may run elsewhere."""
    lock = threading.Lock()

    def locked(z: int, x: int, y: int) -> bytes | None:
        with lock:
            return get(z, x, y)

    return locked

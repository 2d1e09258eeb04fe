"""A layer of the network from an Esri Shapefile, as most Chinese utilities' GIS (ArcGIS,
SuperMap, MapGIS) export one: its .shp, .shx and .dbf (with .prj and .cpg when written) in
one .zip, read by pyshp.

The attribute table's encoding is the .cpg's when it names one, else UTF-8, else GB18030
(what ArcGIS writes on a Chinese Windows without a .cpg). A .prj naming a projected system
(PROJCS: a Gauss-Krüger zone in metres) or a geographic one other than WGS-84 or CGCS2000
refuses the layer, as the GeoJSON reader's ``crs`` does.
"""

from __future__ import annotations

import io
import math
import zipfile
from datetime import date
from typing import Any

import shapefile

from fieldapp.network import geojson
from fieldapp.network.model import Feature, NetworkFileError, Problem

ZIP_MAGIC = b"PK\x03\x04"
MAX_UNPACKED = 500 * 1024 * 1024  # a zip that would unpack to more is not a layer
ENCODINGS = {"UTF-8": "utf-8", "UTF8": "utf-8", "65001": "utf-8", "GBK": "gbk",
             "936": "gbk", "CP936": "gbk", "GB2312": "gbk", "GB18030": "gb18030",
             "54936": "gb18030"}
DEGREES_DATUMS = ("WGS_1984", "WGS 84", "WGS84", "CGCS_2000", "CGCS2000", "CHINA_2000")


def is_zip(data: bytes | str) -> bool:
    return isinstance(data, bytes) and data[:4] == ZIP_MAGIC


def read(data: bytes, layer: str) -> tuple[list[Feature], list[Problem]]:
    """The layer's features from a zipped shapefile, and what was flagged in them;
    ``NetworkFileError`` when it cannot be taken."""
    parts = _unzip(data, layer)
    _check_prj(parts.get("prj", b"").decode("latin-1", "replace"), layer)
    records = _records(parts, layer)
    return geojson.take(records, layer)


def _unzip(data: bytes, layer: str) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, ValueError) as exc:
        raise _refused(layer, "not_shapefile", reason=str(exc)[:80]) from exc
    shps = [i for i in infos if i.filename.lower().endswith(".shp")]
    if len(shps) != 1:
        raise _refused(layer, "not_shapefile",
                       reason=f"压缩包里有 {len(shps)} 个 .shp 文件，每个图层须一个")
    if sum(i.file_size for i in infos) > MAX_UNPACKED:
        raise _refused(layer, "not_shapefile", reason="解压后超过 500 MB")
    stem = shps[0].filename[:-4].lower()
    parts: dict[str, bytes] = {}
    for info in infos:
        name = info.filename.lower()
        if name.startswith(stem + "."):
            try:
                parts[name[len(stem) + 1:]] = archive.read(info)
            except (zipfile.BadZipFile, OSError, RuntimeError, ValueError) as exc:
                raise _refused(layer, "not_shapefile", reason=str(exc)[:80]) from exc
    missing = [ext for ext in ("shp", "shx", "dbf") if ext not in parts]
    if missing:
        raise _refused(layer, "not_shapefile",
                       reason="缺少 " + "、".join(f".{ext}" for ext in missing))
    return parts


def _check_prj(wkt: str, layer: str) -> None:
    head = wkt.strip().upper()
    if not head:
        return  # no .prj: the coordinates are checked as degrees one by one
    name = head.split('"')[1] if '"' in head else head[:40]
    if head.startswith("PROJCS") or not any(d in head for d in DEGREES_DATUMS):
        raise NetworkFileError([Problem("crs", layer, "", "error", {"crs": name[:60]})])


def _records(parts: dict[str, bytes], layer: str) -> list[dict[str, Any]]:
    named = parts.get("cpg", b"").decode("ascii", "replace").strip().upper()
    tried = [ENCODINGS[named]] if named in ENCODINGS else ["utf-8", "gb18030"]
    last: Exception | None = None
    for encoding in tried:
        try:
            reader = shapefile.Reader(shp=io.BytesIO(parts["shp"]),
                                      shx=io.BytesIO(parts["shx"]),
                                      dbf=io.BytesIO(parts["dbf"]), encoding=encoding)
            return [{"type": "Feature", "properties": _plain(r.record.as_dict()),
                     "geometry": _geometry(r.shape)} for r in reader.iterShapeRecords()]
        except Exception as exc:  # noqa: BLE001 - a damaged file fails pyshp in many ways
            # (struct.error, IndexError, ValueError, its own): each one is "not readable"
            last = exc
    raise _refused(layer, "not_shapefile", reason=str(last)[:80])


def _geometry(shape: Any) -> dict[str, Any] | None:
    if shape.shapeType == shapefile.NULL:
        return None
    try:
        geometry: dict[str, Any] = shape.__geo_interface__
    except (shapefile.ShapefileException, ValueError, IndexError):
        return None
    return geometry


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    """The attributes as JSON keeps them: a date as its ISO text, bytes as text."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, float) and not math.isfinite(value):
            value = None  # an empty number cell
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif value is not None and not isinstance(value, (str, int, float, bool)):
            value = str(value)
        out[str(key)] = value.strip() if isinstance(value, str) else value
    return out


def _refused(layer: str, code: str, **params: Any) -> NetworkFileError:
    return NetworkFileError([Problem(code, layer, "", "error", params)])

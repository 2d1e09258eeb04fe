"""The known network's layers written as a GIS writes Shapefiles (pyshp's writer), zipped."""

from __future__ import annotations

import io
import json
import zipfile

import shapefile

WGS84_PRJ = ('GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,'
             '298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]')
GK_PRJ = ('PROJCS["CGCS2000_3_Degree_GK_Zone_40",GEOGCS["GCS_China_Geodetic_Coordinate_System'
          '_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]]],'
          'PROJECTION["Gauss_Kruger"],UNIT["Meter",1.0]]')


def zipped(geojson_text: str, *, encoding: str = "gbk", cpg: str | None = None,
           prj: str | None = WGS84_PRJ, stem: str = "layer") -> bytes:
    """A GeoJSON layer's features as a zipped shapefile, their properties as its table."""
    features = json.loads(geojson_text)["features"]
    kind = features[0]["geometry"]["type"]
    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    writer = shapefile.Writer(shp=shp, shx=shx, dbf=dbf, encoding=encoding,
                              shapeType=shapefile.POINT if kind == "Point"
                              else shapefile.POLYLINE)
    names = ["id", *sorted({k for f in features for k in f["properties"] if k != "id"})]
    for name in names:
        writer.field(name[:10], "C", 40)  # a dBase field name has at most 10 bytes
    for f in features:
        coords = f["geometry"]["coordinates"]
        if kind == "Point":
            writer.point(*coords)
        else:
            writer.line([coords])
        props = {**f["properties"], "id": f.get("id") or f["properties"].get("id")}
        writer.record(*[str(props.get(n, "")) for n in names])
    writer.close()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for ext, part in (("shp", shp), ("shx", shx), ("dbf", dbf)):
            archive.writestr(f"{stem}.{ext}", part.getvalue())
        if prj is not None:
            archive.writestr(f"{stem}.prj", prj)
        if cpg is not None:
            archive.writestr(f"{stem}.cpg", cpg)
    return out.getvalue()

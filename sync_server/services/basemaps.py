"""A district's offline basemap, a PMTiles or MBTiles file from the utility's GIS, handed to
its tablets.

    python -m sync_server basemap 秦淮区 秦淮区底图.pmtiles [--dry-run]

The file is opened as the tablet will open it (``fieldapp.basemap.tiles``) and refused in
words if it cannot be drawn from (not a tile file, cut short, another projection, damaged
tiles); raster and vector tiles (MVT, drawn as images) alike. Then it is copied, a piece
at a time, into the attachment store under its SHA-256, and the setting
``basemap:<district>`` names it. Tablets pull the setting
and download the file (``/api/v1/basemap/<sha>``, resumable), only their own district's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fieldapp.basemap.tiles import Basemap, BasemapError, open_basemap
from fieldapp.local_time import now_iso
from sync_server.services.network_maps import UnknownDistrict, current, known_districts
from sync_server.services.records import publish_setting
from sync_server.storage.db import DATABASE_URL_ENV, Connection, open_database
from sync_server.storage.objects import ObjectStore

PREFIX = "basemap:"  # the setting naming a district's current basemap
PIECE = 1 << 20  # bytes copied into the store at a time: a city's file is gigabytes


@dataclass(frozen=True)
class Checked:
    path: Path
    sha256: str
    size: int
    kind: str  # "pmtiles" or "mbtiles"
    name: str
    zooms: tuple[int, int]
    bounds: tuple[float, float, float, float]

    def covering(self, points: Sequence[tuple[float, float]]) -> int:
        """How many of (lon, lat) ``points`` the basemap's bounds hold."""
        w, s, e, n = self.bounds
        return sum(1 for lon, lat in points if w <= lon <= e and s <= lat <= n)


def check(path: Path) -> Checked:
    """The file checked as a tablet will open it; ``BasemapError`` (its ``zh``) if not."""
    with open_basemap(path) as basemap:
        found = _described(basemap)
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for piece in iter(lambda: f.read(PIECE), b""):
            digest.update(piece)
    return Checked(path, digest.hexdigest(), path.stat().st_size, **found)


def _described(basemap: Basemap) -> dict[str, Any]:
    return {"kind": basemap.kind, "name": basemap.name,
            "zooms": (basemap.min_zoom, basemap.max_zoom), "bounds": basemap.bounds}


def store(objects: ObjectStore, checked: Checked) -> None:
    """The file's bytes into the store under its SHA-256 (out of any database lock)."""
    if objects.exists(checked.sha256):
        return
    offset = 0
    with checked.path.open("rb") as f:
        for piece in iter(lambda: f.read(PIECE), b""):
            objects.write_part(checked.sha256, offset, piece)
            offset += len(piece)
    objects.publish(checked.sha256)


def install(conn: Connection, district: str, checked: Checked, by_user: str) -> bool:
    """Name the stored file as the district's basemap; False when it already was."""
    if district not in known_districts(conn):
        raise UnknownDistrict(district)
    setting = current(conn, district, PREFIX)
    if setting and setting.get("sha256") == checked.sha256:
        return False
    return publish_setting(conn, PREFIX + district, json.dumps(
        {"sha256": checked.sha256, "size": checked.size, "kind": checked.kind,
         "name": checked.name, "zooms": list(checked.zooms), "bounds": list(checked.bounds),
         "imported_at": now_iso()}, ensure_ascii=False, sort_keys=True), by_user)


MEDIA = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
_open: dict[str, Basemap] = {}  # the office's map: each district's current file, kept open
_opening = threading.Lock()


def opened(objects: ObjectStore, setting: dict[str, Any] | None) -> Basemap | None:
    """The district's current basemap (``setting`` as ``current`` reads it), opened once
    and kept for the office's map; None without one, or on a store that keeps no files."""
    sha = setting.get("sha256") if setting else None
    where = getattr(objects, "path", None)
    if not isinstance(sha, str) or where is None or not objects.exists(sha):
        return None
    with _opening:
        found = _open.get(sha)
        if found is None:
            try:
                found = _open[sha] = open_basemap(where(sha))
            except BasemapError:
                return None  # checked when imported: a file damaged since draws no tiles
    return found


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="sync_server basemap", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("district")
    parser.add_argument("file", type=Path, help="PMTiles 或 MBTiles 栅格底图（Web 墨卡托）")
    parser.add_argument("--data", type=Path, default=Path("var/server"))
    parser.add_argument("--database-url", default=os.environ.get(DATABASE_URL_ENV) or None)
    parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")
    parser.add_argument("--by", default="import", help="who the change log names")
    args = parser.parse_args(argv)
    from sync_server.storage.objects import FileSystemStore

    try:
        checked = check(args.file)
    except BasemapError as exc:
        print(f"未导入 {args.file.name}：{exc.zh}", file=sys.stderr)
        return 2
    db = open_database(args.data, args.database_url)
    try:
        with db.read() as conn:
            if args.district not in known_districts(conn):
                raise UnknownDistrict(args.district)
            places = [(r[0], r[1]) for r in conn.execute(
                "SELECT lon, lat FROM customers WHERE district = ? AND lon IS NOT NULL "
                "AND lat IS NOT NULL", [args.district]).fetchall()]
        changed = False
        if not args.dry_run:
            store(FileSystemStore(args.data / "attachments"), checked)
            with db.write() as conn:
                changed = install(conn, args.district, checked, args.by)
    except UnknownDistrict:
        print(f"没有营业区域「{args.district}」", file=sys.stderr)
        return 2
    finally:
        db.close()
    inside = checked.covering(places)
    if places and inside < len(places):
        print(f"提示：{len(places) - inside} 户不在底图范围内")
    print(("检查完毕（未写入）" if args.dry_run else "已导入" if changed else "未变化")
          + f"：{args.district} 底图 {checked.name}，{checked.kind.upper()}，"
          f"{checked.zooms[0]}–{checked.zooms[1]} 级，{checked.size / 1e6:.1f} MB，"
          f"覆盖本区 {inside}/{len(places)} 户")
    return 0

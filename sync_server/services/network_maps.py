"""A district's gas network, imported from the utility's GIS and handed to its tablets.

    python -m sync_server network 秦淮区 --pipes 管线.geojson --valves 阀门.shp \\
        --sources 调压站.zip --service-lines 入户管.geojson [--dry-run]

Each layer is a GeoJSON file or a Shapefile (its .shp with the files beside it, or all of
them in one .zip).

The layers are checked together (``fieldapp.network``): a layer that cannot be taken refuses
the import and nothing is written; what is only flagged is printed and the rest is taken. The
bundle is kept in the attachment store under its SHA-256 (earlier ones stay), and the setting
``network:<district>`` names it, so the tablets pull the change with their next sync and fetch
the bundle (``/api/v1/network/<sha>``), only their own district's.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fieldapp.domain.roles import OFFICE_ROLES
from fieldapp.local_time import now_iso
from fieldapp.network.bundle import layer_features, pack
from fieldapp.network.model import LAYER_ZH, ROADS, NetworkFileError, Problem
from fieldapp.network.roads import Roads, of_bundle
from sync_server.services.auth import Principal
from sync_server.services.installation import published_districts
from sync_server.services.records import publish_setting
from sync_server.storage.db import DATABASE_URL_ENV, Connection, open_database
from sync_server.storage.objects import ObjectStore

PREFIX = "network:"  # the setting naming a district's current bundle
MAX_LAYER_BYTES = 100 * 1024 * 1024  # a city's pipes are tens of megabytes of GeoJSON


@dataclass(frozen=True)
class Checked:
    """Layers checked together: the bundle they make, and what was flagged."""
    data: bytes
    sha256: str
    counts: dict[str, int]
    flagged: list[Problem]


class UnknownDistrict(ValueError):
    pass


def check(files: dict[str, bytes]) -> Checked:
    """The layers' bundle (``fieldapp.network.bundle``), out of any lock: checking a city's
    pipes takes seconds. ``NetworkFileError`` when a layer cannot be taken."""
    data, net = pack(dict(files))
    counts = {"pipes": sum(1 for e in net.edges if e.kind == "pipes"),
              "service_lines": sum(1 for e in net.edges if e.kind == "service_lines"),
              "valves": sum(1 for d in net.devices if d.kind == "valves"),
              "sources": sum(1 for d in net.devices if d.kind == "sources"),
              "roads": len(layer_features(data, ROADS))}
    return Checked(data, hashlib.sha256(data).hexdigest(), counts, net.problems)


def install(conn: Connection, objects: ObjectStore, district: str, checked: Checked,
            by_user: str) -> bool:
    """Make the checked bundle the district's network; False when it already was."""
    if district not in known_districts(conn):
        raise UnknownDistrict(district)
    if not objects.exists(checked.sha256):
        objects.write_part(checked.sha256, 0, checked.data)
        objects.publish(checked.sha256)
    setting = current(conn, district)
    if setting and setting.get("sha256") == checked.sha256:
        return False
    return publish_setting(conn, PREFIX + district, json.dumps(
        {"sha256": checked.sha256, "size": len(checked.data), "imported_at": now_iso(),
         "counts": checked.counts, "flagged": len(checked.flagged)},
        ensure_ascii=False, sort_keys=True), by_user)


def known_districts(conn: Connection) -> set[str]:
    """Those ``init`` published; on a server set up before it, those its customers are in."""
    return set(published_districts(conn)) or {
        r[0] for r in conn.execute("SELECT DISTINCT district FROM customers").fetchall()
        if r[0]}


def current(conn: Connection, district: str, prefix: str = PREFIX) -> dict[str, Any] | None:
    """The district's setting naming its file (``prefix``: its network, or its basemap)."""
    row = conn.execute("SELECT value FROM org_settings WHERE id = ?",
                       [prefix + district]).fetchone()
    try:
        return json.loads(row[0]) if row else None
    except ValueError:
        return None


def bundle_of(conn: Connection, objects: ObjectStore, district: str) -> dict[str, Any] | None:
    """The district's current bundle as data (for the office's map), None without one."""
    setting = current(conn, district)
    sha = setting.get("sha256") if setting else None
    if not isinstance(sha, str) or not objects.exists(sha):
        return None
    found = _read.get(sha)  # kept in a local: another request may clear the cache meanwhile
    if found is None:
        with objects.open(sha) as fh:
            found = json.loads(fh.read())
        _read.clear()  # one district's at a time: a city's mains are megabytes
        _read[sha] = found
    return found


_read: dict[str, dict[str, Any]] = {}


def roads_of(conn: Connection, district: str, objects: ObjectStore) -> Roads | None:
    """The district's roads (its network's ``roads`` layer) for measuring along them; None
    without any (then distances are as the crow flies)."""
    setting = current(conn, district)
    sha = setting.get("sha256") if setting else None
    if not isinstance(sha, str) or not objects.exists(sha):
        return None

    def read() -> bytes:
        with objects.open(sha) as fh:
            return fh.read()

    try:
        return of_bundle(sha, read)
    except NetworkFileError:
        return None  # a damaged store: dispatch goes on as the crow flies


def served(conn: Connection, who: Principal, sha: str, prefix: str = PREFIX) -> bool:
    """Whether ``who`` may fetch file ``sha`` (a network bundle, or with ``prefix`` a
    basemap): a district's current one, for its own technicians and district accounts (and
    the utility-wide office, for any district)."""
    if who.role in OFFICE_ROLES and not who.district:
        rows = conn.execute("SELECT id FROM org_settings WHERE id LIKE ?",
                            [prefix + "%"]).fetchall()
        return any((current(conn, r[0][len(prefix):], prefix) or {}).get("sha256") == sha
                   for r in rows)
    setting = current(conn, who.district, prefix) if who.district else None
    return setting is not None and setting.get("sha256") == sha


def layer_file(path: Path) -> bytes:
    """A layer's bytes: a GeoJSON or zipped shapefile as it is; a .shp with the files beside
    it of the same name (.shx, .dbf, .prj, .cpg), zipped as a GIS user would send them."""
    if path.suffix.lower() != ".shp":
        return path.read_bytes()
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        for part in path.parent.iterdir():
            if part.is_file() and part.stem.lower() == path.stem.lower():
                archive.write(part, part.name)
    return packed.getvalue()


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="sync_server network", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("district")
    for layer in LAYER_ZH:
        parser.add_argument(f"--{layer.replace('_', '-')}", type=Path, dest=layer,
                            help=f"{LAYER_ZH[layer]}图层：GeoJSON、Shapefile（.shp 或其"
                            " .zip），WGS-84 经纬度")
    parser.add_argument("--data", type=Path, default=Path("var/server"))
    parser.add_argument("--database-url", default=os.environ.get(DATABASE_URL_ENV) or None)
    parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")
    parser.add_argument("--by", default="import", help="who the change log names")
    args = parser.parse_args(argv)
    files: dict[str, bytes] = {}
    for layer in LAYER_ZH:
        path = getattr(args, layer)
        if path is None:
            continue
        if not path.is_file() or path.stat().st_size > MAX_LAYER_BYTES:
            print(f"{LAYER_ZH[layer]}：文件 {path} 不存在或超过 100 MB", file=sys.stderr)
            return 2
        files[layer] = layer_file(path)
    if "pipes" not in files:
        print("请给出管线图层（--pipes）", file=sys.stderr)
        return 2
    from sync_server.storage.objects import FileSystemStore

    db = open_database(args.data, args.database_url)
    try:
        checked = check(files)
        changed = False
        if not args.dry_run:
            with db.write() as conn:
                changed = install(conn, FileSystemStore(args.data / "attachments"),
                                  args.district, checked, args.by)
    except NetworkFileError as exc:
        for problem in exc.problems:
            print(problem.zh, file=sys.stderr)
        print("未导入：以上问题须先在 GIS 中改正", file=sys.stderr)
        return 2
    except UnknownDistrict:
        print(f"没有营业区域「{args.district}」", file=sys.stderr)
        return 2
    finally:
        db.close()
    for problem in checked.flagged:
        print(problem.zh)
    counts = checked.counts
    print(("检查完毕（未写入）" if args.dry_run else "已导入" if changed else "未变化")
          + f"：{args.district} 管线 {counts['pipes']} 段，入户管 {counts['service_lines']}"
          f" 段，阀门 {counts['valves']} 个，气源 {counts['sources']} 个"
          + (f"，道路 {counts['roads']} 段" if counts["roads"] else "") + "；"
          f"{len(checked.flagged)} 处提示")
    return 0

"""The district's basemap, synced: the setting ``basemap:<district>`` comes with the pulls
and names the file's SHA-256, size and kind; a file the tablet lacks is downloaded into
``basemaps/<sha>.<kind>.part`` a piece at a time and, when a sync is cut (a basement, a
tunnel), carried on from where it stopped with the next one (an HTTP Range request). Only
whole bytes that hash to the named SHA-256 become ``<sha>.<kind>``, which the map then uses
(``fieldapp.basemap.local``); until then the previous basemap stays.

Basemaps are not sealed as the network is: streets are not secret, and the map reads tiles
from anywhere in the file, which a sealed file would not allow.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from fieldapp.basemap.local import FOLDER, SUFFIXES
from fieldapp.basemap.tiles import BasemapError, open_basemap
from fieldapp.errors import ServerRejected, ServerUnreachable
from fieldapp.replica import Replica

log = logging.getLogger("fieldapp.sync")
PREFIX = "basemap:"  # as the server names the setting (sync_server/services/basemaps.py)
KEPT = "basemap_sha256"  # sync_state: the synced basemap in use
SYNCED_NAME = re.compile(r"^[0-9a-f]{64}\.(pmtiles|mbtiles)(\.part)?$")
# (status, total size or None, the body's pieces) for a GET from an offset
Download = Callable[[str, int], AbstractContextManager[tuple[int, int | None, Iterator[bytes]]]]
Progress = Callable[[int, int], None]


def named(replica: Replica) -> dict[str, Any] | None:
    """The basemap the server names for this tablet's district: sha256, size, kind."""
    session = replica.session
    if session is None or not session.district:
        return None
    setting = replica.find("org_settings", PREFIX + session.district)
    try:
        found = json.loads(setting["value"]) if setting else {}
        sha, size, kind = found["sha256"], int(found["size"]), found["kind"]
    except (ValueError, KeyError, TypeError):
        return None
    if not (isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha)) or "." + str(
            kind) not in SUFFIXES or size <= 0:
        return None
    return {"sha256": sha, "size": size, "kind": kind}


def target(data_dir: Path, wanted: dict[str, Any]) -> Path:
    return data_dir / FOLDER / f"{wanted['sha256']}.{wanted['kind']}"


def fetch(replica: Replica, download: Download, in_db: Callable[[Callable[[], Any]], Any],
          progress: Progress = lambda done, total: None) -> bool:
    """Download the named basemap if the tablet lacks it (or the rest of it); True when a
    new one is in use."""
    wanted: dict[str, Any] | None = in_db(lambda: named(replica))
    if wanted is None:
        return False
    sha, done_path = wanted["sha256"], target(replica.data_dir, wanted)
    if not done_path.is_file():
        try:
            if not _download(done_path, wanted, download, progress):
                return False
        except (ServerRejected, ServerUnreachable) as exc:  # the rest comes next sync
            log.info("basemap %s not fetched yet: %s", sha[:12], exc)
            return False
    if in_db(lambda: replica.state(KEPT)) == sha:
        return False
    in_db(lambda: replica.set_state(KEPT, sha))
    _forget_others(done_path)
    return True


def _download(done_path: Path, wanted: dict[str, Any], download: Download,
              progress: Progress) -> bool:
    part = done_path.with_name(done_path.name + ".part")
    part.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.is_file() else 0
    if have > wanted["size"]:
        part.unlink()
        have = 0
    if have < wanted["size"]:
        with download(f"/api/v1/basemap/{wanted['sha256']}", have) as (status, _total, body):
            if status != 206:  # the server sent it whole: start again from its beginning
                have = 0
            with part.open("r+b" if have else "wb") as out:
                out.seek(have)
                out.truncate()
                for piece in body:
                    out.write(piece)
                    have += len(piece)
                    progress(have, wanted["size"])
                    if have > wanted["size"]:
                        break
    return _finish(part, done_path, wanted)


def _finish(part: Path, done_path: Path, wanted: dict[str, Any]) -> bool:
    """The downloaded bytes kept as the basemap only if they are the named ones and the map
    can open them; else removed, to be fetched whole next time."""
    if part.stat().st_size < wanted["size"]:
        return False  # cut short without an error: the rest next sync
    digest = hashlib.sha256()
    with part.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != wanted["sha256"]:
        log.warning("basemap %s: the bytes are not the named ones; not kept",
                    wanted["sha256"][:12])
        part.unlink()
        return False
    try:
        open_basemap(part).close()
    except BasemapError as exc:  # the server checks it; a file damaged on disk is not used
        log.warning("basemap %s refused: %s", wanted["sha256"][:12], exc.zh)
        part.unlink()
        return False
    os.replace(part, done_path)
    return True


def _forget_others(kept: Path) -> None:
    """Synced basemaps the server no longer names, and their half downloads: the server
    has them all. A file someone side-loaded is never removed."""
    for other in kept.parent.iterdir():
        if other != kept and SYNCED_NAME.match(other.name):
            other.unlink(missing_ok=True)

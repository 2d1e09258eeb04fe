"""The gas network of the technician's district, kept on the tablet for a leak in a
basement: the setting ``network:<district>`` comes with the pulls and names the bundle's
SHA-256; a bundle the tablet lacks is fetched once, checked against that hash, and written
whole (``data_dir/network/<sha>.json``), encrypted as the photos are (``replica.sealed``):
a utility's pipes and valves are not for whoever finds a lost tablet. Until it is fetched the
previous one stays in use.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fieldapp.errors import InvalidInput, ServerRejected, ServerUnreachable
from fieldapp.network.build import Network
from fieldapp.network.bundle import unpack
from fieldapp.network.model import NetworkFileError
from fieldapp.replica import Replica
from fieldapp.replica.sealed import seal, unseal

log = logging.getLogger("fieldapp.sync")
PREFIX = "network:"  # as the server names the setting (sync_server/services/network_maps.py)
FOLDER = "network"
KEPT = "network_sha256"  # sync_state: the bundle in use


def named(replica: Replica) -> str | None:
    """The SHA-256 of the bundle the server names for this tablet's district."""
    session = replica.session
    if session is None or not session.district:
        return None
    setting = replica.find("org_settings", PREFIX + session.district)
    try:
        sha = json.loads(setting["value"])["sha256"] if setting else None
    except (ValueError, KeyError, TypeError):
        return None
    return sha if isinstance(sha, str) and len(sha) == 64 else None


def path(data_dir: Path, sha: str) -> Path:
    return data_dir / FOLDER / f"{sha}.json"


def fetch(replica: Replica, get: Callable[[str], bytes],
          in_db: Callable[[Callable[[], Any]], Any]) -> bool:
    """Fetch the named bundle if the tablet lacks it; True when one was fetched. A bundle
    whose bytes are not the named ones is not kept (the server is asked again next sync)."""
    sha: str | None = in_db(lambda: named(replica))
    if sha is None:
        return False
    if path(replica.data_dir, sha).is_file():  # fetched before: back to an earlier version
        if in_db(lambda: replica.state(KEPT)) == sha:
            return False
        in_db(lambda: replica.set_state(KEPT, sha))
        return True
    try:
        content = get(f"/api/v1/network/{sha}")
    except (ServerRejected, ServerUnreachable) as exc:  # replaced meanwhile, or no signal
        log.info("network %s not fetched: %s", sha[:12], exc)
        return False
    return bool(in_db(lambda: keep(replica, sha, content)))


def keep(replica: Replica, sha: str, content: bytes) -> bool:
    """Write a fetched bundle, sealed, and use it from now on, if its bytes are the ones
    ``sha`` names; False (nothing written) if not."""
    if hashlib.sha256(content).hexdigest() != sha:
        log.warning("network %s: the bytes are not the named ones; not kept", sha[:12])
        return False
    target = path(replica.data_dir, sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_suffix(".part")
    key = replica.file_key
    part.write_bytes(seal(content, key, sha) if key else content)
    os.replace(part, target)
    replica.set_state(KEPT, sha)
    return True


def bundle(replica: Replica) -> tuple[str, bytes] | None:
    """The bundle in use, as its SHA-256 and its plain bytes (None before the first); a
    damaged file is removed, so the next sync fetches it again."""
    sha = replica.state(KEPT)
    if not sha or not path(replica.data_dir, sha).is_file():
        return None
    try:
        return sha, unseal(path(replica.data_dir, sha).read_bytes(), replica.file_key, sha)
    except InvalidInput as exc:
        log.warning("network %s unreadable: %s", sha[:12], exc)
        path(replica.data_dir, sha).unlink(missing_ok=True)
        return None


def load(replica: Replica) -> Network | None:
    """The district's network as last fetched (None before the first one)."""
    found = bundle(replica)
    if found is None:
        return None
    try:
        return unpack(found[1])
    except NetworkFileError as exc:  # damaged: fetched again next sync
        log.warning("network %s unreadable: %s", found[0][:12], exc)
        path(replica.data_dir, found[0]).unlink(missing_ok=True)
        return None

"""The office's uploaded knowledge-base figures, kept on the tablet after a sync so an
article shows them in a basement: the published articles' figures that the app does not
bundle and the tablet does not have yet, each fetched once, checked against the SHA-256 its
name carries, and written whole (a cut-off download leaves no half file).

A figure that cannot be fetched (the article changed meanwhile, the signal went) is only
missing until the next sync: the article shows its caption, nothing else waits on it.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fieldapp.errors import ServerRejected, ServerUnreachable
from fieldapp.kb.article import IMAGE_DIR, UPLOADED, blocks, fetched_dir
from fieldapp.replica import Replica

log = logging.getLogger("fieldapp.sync")

MAX_FIGURE = 20 * 1024 * 1024  # bytes; the office accepts figures up to 5 MB


def wanted(replica: Replica) -> list[str]:
    """Uploaded figures of the tablet's articles it has neither bundled nor fetched."""
    folder = fetched_dir(replica.data_dir)
    # Only the bodies that can hold a figure line ("![caption](name)") are parsed: every
    # sync asks, and most articles have none (2,000 bodies parsed took 10 ms a sync).
    names = {name for row in replica.db.execute(
                 "SELECT body FROM kb_articles WHERE instr(body, '](') > 0").fetchall()
             for kind, _, name in blocks(row[0]) if kind == "figure"}
    return sorted(n for n in names if UPLOADED.fullmatch(n)
                  and not (IMAGE_DIR / n).is_file() and not (folder / n).is_file())


def keep(data_dir: Path, name: str, content: bytes) -> bool:
    """Write a fetched figure if its bytes are the ones its name promises; False if not."""
    found = UPLOADED.fullmatch(name)
    if found is None or len(content) > MAX_FIGURE or \
            hashlib.sha256(content).hexdigest() != found["sha"]:
        return False
    folder = fetched_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f".{name}.part"
    part.write_bytes(content)
    os.replace(part, folder / name)
    return True


def fetch(replica: Replica, get: Callable[[str], bytes],
          in_db: Callable[[Callable[[], Any]], Any],
          progress: Callable[[int, int], None]) -> tuple[int, int]:
    """Fetch what ``wanted`` lists (``get`` a server path's bytes; ``in_db`` runs a step
    on the replica's worker): (fetched, still missing). One that fails stays missing until
    the next sync and fails nothing else; no signal, and the rest wait too."""
    names: list[str] = in_db(lambda: wanted(replica))
    fetched = 0
    for i, name in enumerate(names):
        progress(i, len(names))
        try:
            content = get(f"/api/v1/kb/figures/{name}")
        except ServerRejected as exc:  # gone from the articles since the pull
            log.info("figure %s not fetched: %s", name, exc)
            continue
        except ServerUnreachable:
            return fetched, len(names) - fetched
        if keep(replica.data_dir, name, content):
            fetched += 1
        else:
            log.warning("figure %s: the bytes are not the named ones; not kept", name)
    if names:
        progress(len(names), len(names))
    return fetched, len(names) - fetched

"""Which basemap the tablet's map draws from, in its data folder's ``basemaps/``: the one
the server names for the district (``fieldapp.sync.basemap_files``, kept as
``<sha256>.pmtiles``) when it has been fetched, else a file someone side-loaded there (a
USB stick in a district with no signal at all), the newest first. A file that cannot be
used is named with its reason and passed over; it is never deleted (it may be the only copy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fieldapp.basemap.tiles import Basemap, BasemapError, open_basemap

FOLDER = "basemaps"
SUFFIXES = (".pmtiles", ".mbtiles")


@dataclass
class Choice:
    basemap: Basemap | None
    synced: bool = False
    refused: list[tuple[str, str]] = field(default_factory=list)  # file name, reason (zh)


def folder(data_dir: Path) -> Path:
    return data_dir / FOLDER


def candidates(data_dir: Path, synced: str | None) -> list[tuple[Path, bool]]:
    """The files worth trying, in the order they are tried, each with whether it is the
    synced one."""
    where = folder(data_dir)
    if not where.is_dir():
        return []
    files = [p for p in where.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES]
    mine = [p for p in files if synced and p.stem == synced]
    others = sorted((p for p in files if p not in mine),
                    key=lambda p: (-p.stat().st_mtime, p.name))
    return [(p, True) for p in mine] + [(p, False) for p in others]


def choose(data_dir: Path, synced: str | None = None) -> Choice:
    choice = Choice(None)
    for path, is_synced in candidates(data_dir, synced):
        try:
            basemap = open_basemap(path)
        except BasemapError as exc:
            choice.refused.append((path.name, exc.zh))
            continue
        choice.basemap, choice.synced = basemap, is_synced
        break
    return choice

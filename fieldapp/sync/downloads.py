"""What a sync fetches after the pull, each named by a setting or a record it pulled: the
knowledge base's figures, the district's gas network and its offline basemap. Each is
fetched once and checked against its SHA-256; one that fails waits for the next sync and
never stops the others."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fieldapp.sync import basemap_files, kb_figures, network_files
from fieldapp.sync.basemap_files import Download
from fieldapp.sync.progress import Progress, ProgressFn

if TYPE_CHECKING:
    from fieldapp.replica import Replica
    from fieldapp.sync.client import SyncReport


def fetch_all(replica: Replica, report: SyncReport, notify: ProgressFn, *,
              get: Callable[[str], bytes], download: Download,
              in_db: Callable[[Callable[[], Any]], Any]) -> None:
    fetched, missing = kb_figures.fetch(
        replica, get, in_db, lambda done, total: notify(Progress("figures", done, total)))
    report.figures += fetched
    report.figures_missing += missing
    report.network = network_files.fetch(replica, get, in_db)
    report.basemap = basemap_files.fetch(
        replica, download, in_db,
        lambda done, total: notify(Progress("basemap", done, total, done, total)))

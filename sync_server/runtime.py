"""What every route shares at run time: storage, attachment bytes, the server clock, the
notifier and the audit anchoring; and what runs on the timer."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sync_server.clock import ServerClock
from sync_server.config import Settings
from sync_server.services import (
    alerts,
    audit,
    audit_anchor,
    billing,
    escalation,
    installation,
    keys,
    notify,
    rule_book,
    rules,
    time_limits,
)
from sync_server.services.records import seed_forms
from sync_server.storage import epoch
from sync_server.storage.blobs import BlobStore
from sync_server.storage.db import open_database
from sync_server.storage.objects import FileSystemStore
from sync_server.sync.wake import Watcher

log = logging.getLogger("fieldapp.server")


class Server:
    """Storage, blobs and the server clock, opened once per process (``app.state.server``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = open_database(settings.data_dir, settings.database_url)
        self.objects = FileSystemStore(settings.data_dir / "attachments")
        self.blobs = BlobStore(self.objects)
        self.clock = ServerClock()
        self.wake = Watcher(self.db)  # the tablets waiting to hear of news (long polls)
        self.notifier = notify.from_settings(settings.sms_url, settings.sms_token)
        self.audit = audit_anchor.Anchoring(self.db, settings.data_dir, settings.audit_key,
                                            settings.audit_anchor_dir)
        with self.db.write() as conn:
            audit.seal_legacy(conn)  # a log from before the chain: chained once, ever
            rule_book.install_defaults(conn)
            billing.install_defaults(conn)
            time_limits.install_defaults(conn)
            escalation.install_defaults(conn)
            keys.install(conn)
            if installation.is_initialised(conn):
                # Standard forms shipped since (repair_report v2's emergency record) are
                # published as new versions; existing ones, in use, are never touched.
                seed_forms(conn)
            epoch.install(conn)  # a new database's history gets its identity

    def tick(self, deliver: bool = True) -> None:
        """What runs on the timer: alerts that came due, the rules for what happened since,
        and (unless a page is waiting) the messages they queued."""
        now = datetime.now(UTC)
        with self.db.write() as conn:
            alerts.scan(conn, now, self.settings.accept_within)
            rules.process(conn, now, self.clock)
            billing.remind(conn, self.clock, now)
        if deliver:
            notify.deliver(self.db, self.notifier)


async def run_timer(server: Server, every: timedelta) -> None:
    """Alerts, rules and messages on a timer; a failed round is logged, the next one retries."""
    while True:
        await asyncio.sleep(every.total_seconds())
        try:
            await asyncio.to_thread(server.tick)
        except Exception:
            log.exception("timed round (alerts, rules, messages) failed")
        try:
            await asyncio.to_thread(server.audit.on_timer)
        except Exception:
            log.exception("timed audit anchor failed")

"""The server's runtime settings: from the command line (``__main__``), or from the
environment in each worker process when it runs several; and the request-size limits.

The utility's own settings (its name, public address) are data, not configuration: they are
published as records every device pulls (``services.records``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from fieldapp.wire import CHUNK
from sync_server.services import alerts, audit_anchor
from sync_server.storage.db import DATABASE_URL_ENV

DATA_ENV, TOKEN_TTL_ENV = "FIELDAPP_SERVER_DATA", "FIELDAPP_TOKEN_TTL"
ACCEPT_ENV, SCAN_ENV = "FIELDAPP_ACCEPT_WITHIN_S", "FIELDAPP_ALERT_SCAN_S"
SMS_URL_ENV = "FIELDAPP_SMS_URL"  # unset: log only
SMS_TOKEN_ENV = "FIELDAPP_SMS_TOKEN"
SIM_PAY_ENV = "FIELDAPP_SIMULATED_PAYMENTS"  # "1": offer the simulated payment provider

# Request bodies: a push batch or an office form well under 8 MiB; an upload chunk is 1 MiB.
# BodyLimit refuses a declared length over these; the routes' own limits catch the rest.
MAX_BODY = 8 * 1024 * 1024
MAX_CHUNK = 2 * CHUNK
MAX_PORTAL_FORM = 12 * 1024 * 1024  # a request with two photos of at most 5 MB each
MAX_IMPORT_BODY = 201 * 1024 * 1024  # a billing system's export of up to 200 MB, and its form


@dataclass
class Settings:
    data_dir: Path  # attachments, and the SQLite database when there is no database_url
    token_ttl: timedelta = timedelta(days=30)
    database_url: str | None = field(
        default_factory=lambda: os.environ.get(DATABASE_URL_ENV) or None)
    accept_within: timedelta = alerts.ACCEPT_WITHIN  # then the supervisor is alerted
    alert_scan: timedelta | None = timedelta(minutes=1)  # None: only when a page opens
    sms_url: str | None = field(default_factory=lambda: os.environ.get(SMS_URL_ENV) or None)
    sms_token: str | None = field(
        default_factory=lambda: os.environ.get(SMS_TOKEN_ENV) or None)
    # The stand-in payment provider marks bills paid without money: demo and test systems only.
    simulated_payments: bool = field(
        default_factory=lambda: os.environ.get(SIM_PAY_ENV) == "1")
    # The audit anchors' key, when not the data directory's key file; where anchors are copied.
    audit_key: str | None = field(
        default_factory=lambda: os.environ.get(audit_anchor.KEY_ENV) or None, repr=False)
    audit_anchor_dir: Path | None = field(default_factory=lambda: Path(
        os.environ[audit_anchor.ANCHOR_DIR_ENV]) if os.environ.get(audit_anchor.ANCHOR_DIR_ENV)
        else None)

    def to_env(self) -> dict[str, str]:
        """The settings as variables, for worker processes (``from_env``)."""
        env = {DATA_ENV: str(self.data_dir), TOKEN_TTL_ENV: str(self.token_ttl.total_seconds()),
               ACCEPT_ENV: str(self.accept_within.total_seconds()),
               SCAN_ENV: str(self.alert_scan.total_seconds() if self.alert_scan else 0)}
        if self.database_url:
            env[DATABASE_URL_ENV] = self.database_url
        env[SIM_PAY_ENV] = "1" if self.simulated_payments else "0"
        if self.audit_key:
            env[audit_anchor.KEY_ENV] = self.audit_key
        if self.audit_anchor_dir:
            env[audit_anchor.ANCHOR_DIR_ENV] = str(self.audit_anchor_dir)
        return env

    @classmethod
    def from_env(cls) -> Settings:
        scan = float(os.environ.get(SCAN_ENV, 60))
        return cls(data_dir=Path(os.environ[DATA_ENV]),
                   token_ttl=timedelta(seconds=float(os.environ[TOKEN_TTL_ENV])),
                   accept_within=timedelta(seconds=float(os.environ.get(ACCEPT_ENV, 7200))),
                   alert_scan=timedelta(seconds=scan) if scan > 0 else None,
                   simulated_payments=os.environ.get(SIM_PAY_ENV) == "1")

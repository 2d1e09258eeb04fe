"""Run the sync server: ``python -m sync_server --data var/server --port 8765 --demo``.

A utility's own server is set up once with ``python -m sync_server init --data D …`` (see
``services/installation.py``); started on a directory that is not set up, the server says
so. ``backup --data D --to B`` and ``restore --from B --data D`` copy a SQLite server
(``storage/backup.py``); ``new-epoch`` tells tablets a PostgreSQL server was restored
(``storage/epoch.py``); ``network DISTRICT --pipes F …`` imports a district's gas network
from the GIS (``services/network_maps.py``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import TypedDict

import uvicorn

from fieldapp.reports.report_data import PUBLIC_URL_SETTING, UTILITY_SETTING
from sync_server.app import create_app
from sync_server.config import ACCEPT_ENV, SCAN_ENV, SIM_PAY_ENV, Settings
from sync_server.seed import seed_demo, seed_demo_networks
from sync_server.services import appointment_links, audit_anchor, billing
from sync_server.services.installation import is_initialised, not_initialised_message
from sync_server.services.records import publish_setting
from sync_server.storage.db import DATABASE_URL_ENV, Storage, open_database
from sync_server.storage.objects import FileSystemStore

UTILITY_ENV = "FIELDAPP_UTILITY_NAME"
CERT_ENV, KEY_ENV = "FIELDAPP_SSL_CERTFILE", "FIELDAPP_SSL_KEYFILE"
PROXIES_ENV = "FIELDAPP_FORWARDED_ALLOW_IPS"
PUBLIC_URL_ENV = "FIELDAPP_PUBLIC_URL"
# A stop waits this long for requests under way (a half-done TLS handshake would hold it).
SHUTDOWN_GRACE_S = 5


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["init"]:
        from sync_server.services import installation

        raise SystemExit(installation.main(argv[1:]))
    if argv[:1] == ["import"]:
        from sync_server.services.imports import command

        raise SystemExit(command.main(argv[1:]))
    if argv[:1] == ["basemap"]:
        from sync_server.services import basemaps

        raise SystemExit(basemaps.main(argv[1:]))
    if argv[:1] == ["network"]:
        from sync_server.services import network_maps

        raise SystemExit(network_maps.main(argv[1:]))
    if argv[:1] in (["backup"], ["restore"]):
        from sync_server.storage import backup

        raise SystemExit(backup.main(argv[0], argv[1:]))
    if argv[:1] == ["new-epoch"]:
        from sync_server.storage import epoch

        raise SystemExit(epoch.main(argv[1:]))
    parser = argparse.ArgumentParser(prog="sync_server", description=__doc__,
                                     epilog="also: python -m sync_server init --help (set up a"
                                     " utility's server), import --help, backup --help,"
                                     " restore --help, new-epoch --help, network --help")
    parser.add_argument("--data", type=Path, default=Path("var/server"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--demo", action="store_true", help="load the seeded demo data once,"
                        " and offer the simulated payment provider")
    parser.add_argument("--simulated-payments", action="store_true",
                        default=os.environ.get(SIM_PAY_ENV) == "1",
                        help="offer customers the simulated payment provider, which marks"
                        " bills paid without any money (demo and test systems only; default:"
                        f" ${SIM_PAY_ENV}=1, else off)")
    parser.add_argument("--token-ttl", type=float, default=30 * 86400,
                        help="device token lifetime in seconds")
    parser.add_argument("--database-url", default=os.environ.get(DATABASE_URL_ENV) or None,
                        help="PostgreSQL, e.g. postgresql://fieldapp@db/fieldapp (default:"
                        f" ${DATABASE_URL_ENV}, else SQLite in --data)")
    parser.add_argument("--utility-name", default=os.environ.get(UTILITY_ENV) or None,
                        help="the utility's name on every report and notice, for the office"
                        f" and every tablet (default: ${UTILITY_ENV}, else unchanged)")
    parser.add_argument("--accept-within", type=float,
                        default=float(os.environ.get(ACCEPT_ENV, 7200)) / 60,
                        help="minutes a dispatched job may wait for its technician to accept"
                        f" before the supervisor is alerted (default: ${ACCEPT_ENV} seconds,"
                        " else 120 minutes)")
    parser.add_argument("--billing-from", type=date.fromisoformat, default=None,
                        help="the first day whose readings FieldApp bills (YYYY-MM-DD; before"
                        " it the old billing system's; default: the server's first start)")
    parser.add_argument("--verify-audit", action="store_true",
                        help="check the change log's hash chain and its external anchors,"
                        " say where it breaks, exit")
    parser.add_argument("--audit-anchor-dir", type=Path,
                        default=Path(os.environ[audit_anchor.ANCHOR_DIR_ENV])
                        if os.environ.get(audit_anchor.ANCHOR_DIR_ENV) else None,
                        help="also append the signed audit-chain head to this directory"
                        " (storage apart from the database's), and check it with"
                        f" --verify-audit (default ${audit_anchor.ANCHOR_DIR_ENV}); the key is"
                        f" ${audit_anchor.KEY_ENV}, else {audit_anchor.KEY_FILE} in --data")
    parser.add_argument("--ssl-certfile", default=os.environ.get(CERT_ENV) or None,
                        help="serve HTTPS with this certificate (PEM, chain included;"
                        f" default ${CERT_ENV}); without it, run behind a TLS proxy")
    parser.add_argument("--ssl-keyfile", default=os.environ.get(KEY_ENV) or None,
                        help=f"the certificate's private key (PEM; default ${KEY_ENV})")
    parser.add_argument("--forwarded-allow-ips",
                        default=os.environ.get(PROXIES_ENV) or "127.0.0.1",
                        help="the reverse proxies whose X-Forwarded-For/-Proto are believed"
                        f" (comma-separated; default ${PROXIES_ENV} or %(default)s)")
    parser.add_argument("--public-url", default=os.environ.get(PUBLIC_URL_ENV) or None,
                        help="the address customers reach the portal at, for links in SMS"
                        f" (default ${PUBLIC_URL_ENV}, else this server's own address)")
    parser.add_argument("--workers", type=int, default=1,
                        help="server processes on one port; more than one wants PostgreSQL")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.verify_audit:
        raise SystemExit(_verify(args.data, args.database_url, args.audit_anchor_dir))
    if not args.demo and not _set_up(args.data, args.database_url):
        print(not_initialised_message(args.data), file=sys.stderr)
        raise SystemExit(2)
    settings = Settings(data_dir=args.data, token_ttl=timedelta(seconds=args.token_ttl),
                        database_url=args.database_url, audit_anchor_dir=args.audit_anchor_dir,
                        accept_within=timedelta(minutes=args.accept_within),
                        alert_scan=_alert_scan(),
                        simulated_payments=args.demo or args.simulated_payments)
    if args.workers > 1:
        db = open_database(settings.data_dir, settings.database_url)
        _prepare(db, args)
        db.close()
        # Each worker process builds its own app from the same settings.
        os.environ.update(settings.to_env())
        uvicorn.run("sync_server.app:app_from_env", factory=True, workers=args.workers,
                    host=args.host, port=args.port, log_level="warning",
                    timeout_graceful_shutdown=SHUTDOWN_GRACE_S, **_tls(args), **_proxy(args))
        return
    app = create_app(settings)
    _prepare(app.state.server.db, args)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning",
                timeout_graceful_shutdown=SHUTDOWN_GRACE_S, **_tls(args), **_proxy(args))


class _ProxyOptions(TypedDict):
    proxy_headers: bool
    forwarded_allow_ips: str


class _TLSOptions(TypedDict, total=False):
    ssl_certfile: str
    ssl_keyfile: str


def _proxy(args: argparse.Namespace) -> _ProxyOptions:
    # Only these addresses may say who the client is and that it came over HTTPS: the
    # login throttle counts the real client, and session cookies are marked Secure.
    return {"proxy_headers": True, "forwarded_allow_ips": args.forwarded_allow_ips}


def _tls(args: argparse.Namespace) -> _TLSOptions:
    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        raise SystemExit("--ssl-certfile and --ssl-keyfile go together")
    if not args.ssl_certfile:
        return {}
    return {"ssl_certfile": args.ssl_certfile, "ssl_keyfile": args.ssl_keyfile}


def _verify(data: Path, database_url: str | None, anchor_dir: Path | None) -> int:
    """0 when every change-log entry and every external anchor is sound, 1 (and where) when
    the chain breaks or an anchor does not hold."""
    db = open_database(data, database_url)
    try:
        key = audit_anchor.existing_key(data, os.environ.get(audit_anchor.KEY_ENV))
        verdict = audit_anchor.check(db, key, audit_anchor.anchor_files(data, anchor_dir))
    finally:
        db.close()
    print(audit_anchor.describe(verdict))
    return 0 if verdict.ok else 1


def _set_up(data: Path, database_url: str | None) -> bool:
    """Whether the data directory holds an installation (``init``, or accounts from before)."""
    db = open_database(data, database_url)
    try:
        with db.read() as conn:
            return is_initialised(conn)
    finally:
        db.close()


def _alert_scan() -> timedelta | None:
    """How often alerts are raised on a timer (``$FIELDAPP_ALERT_SCAN_S``, 0 for never)."""
    seconds = float(os.environ.get(SCAN_ENV, 60))
    return timedelta(seconds=seconds) if seconds > 0 else None


def _prepare(db: Storage, args: argparse.Namespace) -> None:
    """Demo data and the utility's name, once, before any request is served."""
    log = logging.getLogger("fieldapp.server")
    if args.demo:
        counts = seed_demo(db)
        if counts:
            log.info("demo data loaded: %s", counts)
        networks = seed_demo_networks(db, FileSystemStore(args.data / "attachments"))
        if networks:
            log.info("demo gas networks imported: %d districts", networks)
    if args.billing_from:
        with db.write() as conn:
            billing.set_billing_from(conn, args.billing_from)
    scheme = "https" if args.ssl_certfile else "http"
    with db.write() as conn:
        public = args.public_url or f"{scheme}://{args.host}:{args.port}"
        appointment_links.set_public_url(conn, public)
        # Tablets print it in their QR codes: the public verification page (/verify/…).
        publish_setting(conn, PUBLIC_URL_SETTING, public.rstrip("/"))
    if args.utility_name:
        with db.write() as conn:
            if publish_setting(conn, UTILITY_SETTING, args.utility_name.strip()):
                log.info("utility name set: %s", args.utility_name.strip())


if __name__ == "__main__":
    main()

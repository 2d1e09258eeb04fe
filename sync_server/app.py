"""The FastAPI application: sync API under /api/v1, back office under /office."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from fieldapp.domain.status import AUDITOR
from fieldapp.wire import (
    CHUNK,
    CLIENT_SCHEMA_VERSION,
    MAX_PULL_PAGE,
    PROTOCOL_VERSION,
    AttachmentStatus,
    LoginRequest,
    LoginResponse,
    PullResponse,
    PushRequest,
    PushResponse,
    TokenResponse,
    UserInfo,
    WipeReport,
    WipeResponse,
)
from sync_server.clock import ServerClock
from sync_server.errors import MAX_INT, ApiError
from sync_server.http.headers import BodyLimit, SecurityHeaders
from sync_server.http.same_origin import SameOrigin
from sync_server.office import public_verify
from sync_server.office.auth import SignInRequired, sign_in_url
from sync_server.portal.access import PortalError
from sync_server.portal.web import PortalSignIn
from sync_server.portal.web import error_page as customer_error_page
from sync_server.services import alerts, audit, audit_anchor, auth, billing, keys, notify, rules
from sync_server.services.districts import district_of
from sync_server.services.throttle import sign_in
from sync_server.services.token_rotation import refresh as refresh_token
from sync_server.storage.blobs import BlobStore
from sync_server.storage.db import DATABASE_URL_ENV, open_database, utc_now
from sync_server.storage.objects import FileSystemStore
from sync_server.sync import conflict_rows
from sync_server.sync import push as sync_push
from sync_server.sync.pull import pull, scope_changed

log = logging.getLogger("fieldapp.server")


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
        """The settings as variables, for worker processes (``app_from_env``)."""
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


DATA_ENV, TOKEN_TTL_ENV = "FIELDAPP_SERVER_DATA", "FIELDAPP_TOKEN_TTL"
ACCEPT_ENV, SCAN_ENV = "FIELDAPP_ACCEPT_WITHIN_S", "FIELDAPP_ALERT_SCAN_S"
# Request bodies: a push batch or an office form well under 8 MiB; an upload chunk is 1 MiB.
# BodyLimit refuses a declared length over these; the routes' own limits catch the rest.
MAX_BODY = 8 * 1024 * 1024
MAX_CHUNK = 2 * CHUNK
MAX_PORTAL_FORM = 12 * 1024 * 1024  # a request with two photos of at most 5 MB each
SMS_URL_ENV = "FIELDAPP_SMS_URL"  # unset: log only
SMS_TOKEN_ENV = "FIELDAPP_SMS_TOKEN"
SIM_PAY_ENV = "FIELDAPP_SIMULATED_PAYMENTS"  # "1": offer the simulated payment provider


class Server:
    """What the routes share: storage, blobs, the server clock."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = open_database(settings.data_dir, settings.database_url)
        self.objects = FileSystemStore(settings.data_dir / "attachments")
        self.blobs = BlobStore(self.objects)
        self.clock = ServerClock()
        self.notifier = notify.from_settings(settings.sms_url, settings.sms_token)
        self.audit = audit_anchor.Anchoring(self.db, settings.data_dir, settings.audit_key,
                                            settings.audit_anchor_dir)
        with self.db.write() as conn:
            audit.seal_legacy(conn)  # a log from before the chain: chained once, ever
            rules.install_defaults(conn)
            billing.install_defaults(conn)
            keys.install(conn)

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


def _principal(request: Request, authorization: str | None, protocol: int | None, *,
               sending: bool) -> auth.Principal:
    _check_protocol(protocol)
    return auth.principal_of(request.app.state.server.db, authorization, sending=sending)


def principal(request: Request, authorization: Annotated[str | None, Header()] = None,
              x_fieldapp_protocol: Annotated[int | None, Header()] = None) -> auth.Principal:
    """The user and device behind the request's bearer token."""
    return _principal(request, authorization, x_fieldapp_protocol, sending=False)


def handing_in(request: Request, authorization: Annotated[str | None, Header()] = None,
               x_fieldapp_protocol: Annotated[int | None, Header()] = None) -> auth.Principal:
    """The caller handing in work: a revoked tablet too, until it confirms its wipe."""
    return _principal(request, authorization, x_fieldapp_protocol, sending=True)


HandingIn = Annotated[auth.Principal, Depends(handing_in)]


def sender(who: HandingIn) -> auth.Principal:
    """…and who may change data: never an auditor (checked before the body is read)."""
    _read_only(who)
    return who


Who = Annotated[auth.Principal, Depends(principal)]
Sender = Annotated[auth.Principal, Depends(sender)]


def create_app(settings: Settings) -> FastAPI:
    server = Server(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scanning = (asyncio.create_task(_tick(server, settings.alert_scan))
                    if settings.alert_scan else None)
        yield
        if scanning:
            scanning.cancel()
        try:
            server.audit.anchor()  # the head at shutdown, outside the database
        except Exception:
            log.exception("audit anchor at shutdown failed")
        server.db.close()  # hand PostgreSQL connections back at shutdown

    # No /docs or /redoc: their pages load Swagger UI's scripts from a CDN into the office's
    # origin. The schema itself stays at /openapi.json for API clients and tools.
    app = FastAPI(title="FieldApp sync server", version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    app.state.server = server
    app.add_middleware(BodyLimit, default=MAX_BODY,
                       per_prefix={"/api/v1/attachments/": MAX_CHUNK,
                                   "/portal/requests/": MAX_PORTAL_FORM})
    app.add_middleware(SameOrigin)  # inside SecurityHeaders: its refusal gets them too
    app.add_middleware(SecurityHeaders)
    _install_error_handlers(app)

    @app.get("/api/v1/health")
    def health() -> dict[str, object]:
        return {"ok": True, "protocol": PROTOCOL_VERSION}

    @app.post("/api/v1/auth/login")
    def login(body: LoginRequest, request: Request) -> LoginResponse:
        _check_protocol(body.protocol)
        issued, user = sign_in(
            server.db, body.username, body.password, auth.client_address(request),
            lambda conn, user: (auth.issue(conn, user, body.device_id, body.device_name,
                                           settings.token_ttl), user))
        return LoginResponse(token=issued.token, expires_at=issued.expires_at,
                             issued_at=issued.issued_at, server_hlc=server.clock.now(),
                             user=UserInfo(username=user["username"],
                                           display_name=user["display_name"],
                                           role=user["role"], district=user["district"]))

    @app.post("/api/v1/auth/refresh")
    def refresh(who: Who) -> TokenResponse:
        """A fresh token once half the current one's life is gone, without the password."""
        with server.db.write() as conn:
            issued = refresh_token(conn, who, settings.token_ttl)
        return TokenResponse(token=issued.token, expires_at=issued.expires_at,
                             issued_at=issued.issued_at)

    @app.post("/api/v1/sync/push", max_body_size=MAX_BODY)
    def push(body: PushRequest, who: Sender) -> PushResponse:
        _check_protocol(body.protocol)
        _check_schema(body.schema_version)
        if body.device_id != who.device_id:
            raise ApiError(403, "device_mismatch", "the batch names another device than the token")
        sync_push.check_clocks(body.mutations, who)
        with server.db.write() as conn:
            return sync_push.push_batch(conn, body, who, server.clock)

    @app.get("/api/v1/sync/pull")
    def pull_changes(who: Who, cursor: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
                     limit: Annotated[int, Query(ge=1, le=MAX_PULL_PAGE)] = 500) -> PullResponse:
        with server.db.read() as conn:
            if not scope_changed(conn, who):
                changes, next_cursor, more = pull(conn, who, cursor, limit, record_scope=False)
            else:
                changes = None
        if changes is None:  # new or lost customers: record them under the write lock
            with server.db.write() as conn:
                changes, next_cursor, more = pull(conn, who, cursor, limit)
        return PullResponse(changes=changes, cursor=next_cursor, more=more,
                            server_hlc=server.clock.now())

    @app.get("/api/v1/attachments/{sha256}")
    def attachment_status(sha256: str, who: HandingIn) -> AttachmentStatus:
        with server.db.read() as conn:
            return server.blobs.status(conn, sha256)

    @app.put("/api/v1/attachments/{sha256}", max_body_size=MAX_CHUNK)
    async def upload_chunk(sha256: str, request: Request, who: Sender,
                           offset: Annotated[int, Query(ge=0, le=MAX_INT)],
                           total: Annotated[int, Query(ge=1, le=MAX_INT)]) -> AttachmentStatus:
        server.blobs.check_name(sha256)
        chunk = await request.body()
        with server.db.write() as conn:
            status, error = server.blobs.put_chunk(conn, sha256, offset, total, chunk)
        if error:
            raise error
        return status

    @app.post("/api/v1/device/wiped", max_body_size=MAX_BODY)
    def device_wiped(body: WipeReport, who: Sender) -> WipeResponse:
        """A revoked tablet hands in what the server refused, then reports it erases its
        data: with the final part its token is refused everywhere."""
        if not who.revoked:
            raise ApiError(403, "device_not_revoked", "only a revoked device is wiped")
        sync_push.check_clocks(body.rejected, who)
        with server.db.write() as conn:
            kept = conflict_rows.hand_in(conn, [sync_push.bounded(m, server.clock)
                                        for m in body.rejected], who)
            if body.final:
                conn.execute("UPDATE devices SET wiped_at = ? WHERE device_id = ?",
                             [utc_now(), who.device_id])
                audit.security_event(conn, who, "device_wiped", who.device_id, {"kept": kept})
        return WipeResponse(device_id=who.device_id, kept=kept, wiped=body.final)

    @app.post("/api/v1/admin/devices/{device_id}/revoke")
    def revoke_device(device_id: str, who: Who) -> dict[str, str]:
        if who.role not in ("admin", "supervisor"):
            raise ApiError(403, "forbidden", "only an admin or supervisor can revoke a device")
        # A district's supervisor revokes only the tablets of their district's users;
        # another district's answers as an unknown device.
        scope = district_of(who)
        with server.db.write() as conn:
            found = conn.execute(
                "UPDATE devices SET revoked_at = ? WHERE device_id = ?" + (
                    " AND username IN (SELECT username FROM users WHERE district = ?)"
                    if scope else "") + " RETURNING device_id",
                [utc_now(), device_id, *([scope] if scope else [])]).fetchone()
            if found:
                audit.security_event(conn, who, "device_revoked", device_id, {"via": "api"})
        if not found:
            raise ApiError(404, "unknown_device", f"no device {device_id}")
        return {"device_id": device_id, "status": "revoked"}

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/office/")

    from sync_server.office import audit as office_audit
    from sync_server.office import billing as office_billing
    from sync_server.office import dispatch as office_dispatch
    from sync_server.office import kpis as office_kpis
    from sync_server.office import parts as office_parts
    from sync_server.office import rules as office_rules
    from sync_server.office import users as office_users
    from sync_server.office.web import router as office_router

    app.include_router(office_router, max_body_size=MAX_BODY)
    app.include_router(office_rules.router, max_body_size=MAX_BODY)
    app.include_router(office_parts.router, max_body_size=MAX_BODY)
    app.include_router(office_audit.router, max_body_size=MAX_BODY)
    app.include_router(office_kpis.router, max_body_size=MAX_BODY)
    app.include_router(office_billing.router, max_body_size=MAX_BODY)
    app.include_router(office_users.router, max_body_size=MAX_BODY)
    app.include_router(office_dispatch.router, max_body_size=MAX_BODY)
    app.include_router(office_dispatch.api, max_body_size=MAX_BODY)
    app.include_router(public_verify.router, max_body_size=MAX_BODY)  # QR codes, no sign-in
    from sync_server.portal import routers as portal_routers

    for router in portal_routers:
        app.include_router(router, max_body_size=MAX_PORTAL_FORM)
    return app


async def _tick(server: Server, every: timedelta) -> None:
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


def app_from_env() -> FastAPI:
    """The app of one worker process when the server runs several (``--workers``)."""
    return create_app(Settings.from_env())


def _read_only(who: auth.Principal) -> None:
    if who.role == AUDITOR:
        raise ApiError(403, "read_only", "an auditor reads the back office and changes nothing")


def _check_protocol(version: int | None) -> None:
    if version is not None and version < PROTOCOL_VERSION:
        raise ApiError(426, "client_outdated",
                       f"this server speaks protocol {PROTOCOL_VERSION}; update the app")
    if version is not None and version > PROTOCOL_VERSION:
        raise ApiError(400, "unknown_protocol",
                       f"protocol {version} is newer than this server's {PROTOCOL_VERSION};"
                       " the server must be updated first")


def _check_schema(version: int) -> None:
    if not 1 <= version <= CLIENT_SCHEMA_VERSION:
        raise ApiError(400, "unknown_schema_version",
                       f"client schema {version} is not one this server knows"
                       f" (1..{CLIENT_SCHEMA_VERSION}); nothing was applied")


def _customer_page(request: Request) -> bool:
    """A customer's page (answered in words), not the payment provider's callback."""
    return (request.url.path.startswith("/portal/")
            and not request.url.path.startswith("/portal/pay/callback/"))


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PortalError)
    async def portal_error(request: Request, exc: PortalError) -> Response:
        return customer_error_page(request, exc.message, exc.status)

    @app.exception_handler(PortalSignIn)
    async def portal_sign_in(request: Request, exc: PortalSignIn) -> RedirectResponse:
        return RedirectResponse("/portal/login", status_code=303)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        if _customer_page(request):
            return customer_error_page(request, exc.message, exc.status)
        if request.url.path.startswith("/office/") and not request.url.path.endswith(
                (".pdf", ".csv")) and "text/html" in request.headers.get("accept", ""):
            from sync_server.office.web import error_page

            return error_page(request, exc)
        return JSONResponse({"error": exc.code, "message": exc.message, "detail": exc.detail},
                            status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, exc: RequestValidationError) -> Response:
        if _customer_page(request):
            return customer_error_page(request, "填写的内容不完整或过长，请返回检查后重新提交", 422)
        errors = [{"where": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]}
                  for e in exc.errors()]
        first = errors[0] if errors else {"where": "body", "problem": "invalid"}
        return JSONResponse({"error": "malformed_request",
                             "message": f"{first['where']}: {first['problem']}",
                             "detail": errors[:20]}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {400: "malformed_request", 404: "not_found", 405: "method_not_allowed",
                413: "body_too_large"}.get(exc.status_code, "http_error")
        # FastAPI's 400 is a body it could not parse: say what a body must be.
        message = ("the body is not a JSON document in UTF-8 (or is nested too deeply)"
                   if exc.status_code == 400 else str(exc.detail))
        return JSONResponse({"error": code, "message": message}, status_code=exc.status_code)

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, exc: SignInRequired) -> RedirectResponse:
        return RedirectResponse(sign_in_url(exc.next_url), status_code=303)

    @app.exception_handler(ClientDisconnect)
    async def gone(request: Request, exc: ClientDisconnect) -> JSONResponse:
        # A tablet losing signal mid-upload: nothing of the chunk was stored, and it
        # resumes from the last verified byte. Not a server error.
        log.info("client went away during %s %s", request.method, request.url.path)
        return JSONResponse({"error": "client_disconnected", "message": "the request was cut"
                             " short; nothing of it was applied"}, status_code=400)

    @app.exception_handler(sqlite3.OperationalError)
    async def busy(request: Request, exc: sqlite3.OperationalError) -> JSONResponse:
        if "locked" not in str(exc) and "busy" not in str(exc):
            return await internal(request, exc)
        return JSONResponse({"error": "server_busy",
                             "message": "the server is busy; nothing was applied, retry shortly"},
                            status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"error": "internal_error",
                             "message": "the server failed; the request was not applied"},
                            status_code=500)

"""The FastAPI application: the sync API under /api/v1, the back office under /office, the
customers' portal under /portal, and the public check of a printout.

Each front end is a set of routers (``sync/api.py``; ``office/``; ``portal/``); the office's
and the portal's answer refusals with their own pages (``http/pages.py``), and what reaches
the handlers here is answered as the sync API's JSON (``errors.error_json``).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from sync_server.config import MAX_BODY, MAX_CHUNK, MAX_IMPORT_BODY, MAX_PORTAL_FORM, Settings
from sync_server.errors import ApiError, error_json
from sync_server.http.headers import BodyLimit, SecurityHeaders
from sync_server.http.same_origin import SameOrigin
from sync_server.office import alerts as office_alerts
from sync_server.office import audit as office_audit
from sync_server.office import billing as office_billing
from sync_server.office import campaigns as office_campaigns
from sync_server.office import conflicts as office_conflicts
from sync_server.office import desk as office_desk
from sync_server.office import dispatch as office_dispatch
from sync_server.office import dispatch_api as office_dispatch_api
from sync_server.office import forms as office_forms
from sync_server.office import imports as office_imports
from sync_server.office import kb as office_kb
from sync_server.office import kpis as office_kpis
from sync_server.office import parts as office_parts
from sync_server.office import public_verify
from sync_server.office import reports as office_reports
from sync_server.office import rule_editor as office_rule_editor
from sync_server.office import rules as office_rules
from sync_server.office import sign_in as office_sign_in
from sync_server.office import time_limits as office_time_limits
from sync_server.office import users as office_users
from sync_server.office.auth import SignInRequired, sign_in_url
from sync_server.portal import routers as portal_routers
from sync_server.portal.web import PortalSignIn
from sync_server.runtime import Server, run_timer
from sync_server.sync import api as sync_api
from sync_server.sync.wake import release_on_exit

__all__ = ["Settings", "app_from_env", "create_app"]

log = logging.getLogger("fieldapp.server")


def create_app(settings: Settings) -> FastAPI:
    server = Server(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scanning = (asyncio.create_task(run_timer(server, settings.alert_scan))
                    if settings.alert_scan else None)
        release_on_exit(server.wake)
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
                                   "/portal/requests/": MAX_PORTAL_FORM,
                                   "/office/imports": MAX_IMPORT_BODY})
    app.add_middleware(SameOrigin)  # inside SecurityHeaders: its refusal gets them too
    app.add_middleware(SecurityHeaders)
    _install_error_handlers(app, postgres=bool(settings.database_url))

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/office/")

    app.include_router(sync_api.router)
    for module in (office_sign_in, office_conflicts, office_reports, office_rules,
                   office_rule_editor, office_parts, office_audit, office_kpis, office_billing,
                   office_users, office_dispatch, office_alerts, office_desk, office_forms,
                   office_kb, office_time_limits, office_campaigns):
        app.include_router(module.router, max_body_size=MAX_BODY)
    app.include_router(office_dispatch_api.router, max_body_size=MAX_BODY)
    app.include_router(office_imports.router, max_body_size=MAX_IMPORT_BODY)
    app.include_router(public_verify.router, max_body_size=MAX_BODY)  # QR codes, no sign-in
    for router in portal_routers:
        app.include_router(router, max_body_size=MAX_PORTAL_FORM)
    return app


def app_from_env() -> FastAPI:
    """The app of one worker process when the server runs several (``--workers``)."""
    return create_app(Settings.from_env())


def _install_error_handlers(app: FastAPI, postgres: bool) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return error_json(exc.status, exc.code, exc.message, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"where": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]}
                  for e in exc.errors()]
        first = errors[0] if errors else {"where": "body", "problem": "invalid"}
        return error_json(422, "malformed_request", f"{first['where']}: {first['problem']}",
                          errors[:20])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {400: "malformed_request", 404: "not_found", 405: "method_not_allowed",
                413: "body_too_large"}.get(exc.status_code, "http_error")
        # FastAPI's 400 is a body it could not parse: say what a body must be.
        message = ("the body is not a JSON document in UTF-8 (or is nested too deeply)"
                   if exc.status_code == 400 else str(exc.detail))
        return error_json(exc.status_code, code, message)

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, exc: SignInRequired) -> RedirectResponse:
        return RedirectResponse(sign_in_url(exc.next_url), status_code=303)

    @app.exception_handler(PortalSignIn)
    async def portal_sign_in(request: Request, exc: PortalSignIn) -> RedirectResponse:
        return RedirectResponse("/portal/login", status_code=303)

    @app.exception_handler(ClientDisconnect)
    async def gone(request: Request, exc: ClientDisconnect) -> JSONResponse:
        # A tablet losing signal mid-upload: nothing of the chunk was stored, and it
        # resumes from the last verified byte. Not a server error.
        log.info("client went away during %s %s", request.method, request.url.path)
        return error_json(400, "client_disconnected",
                          "the request was cut short; nothing of it was applied")

    @app.exception_handler(sqlite3.OperationalError)
    async def busy(request: Request, exc: sqlite3.OperationalError) -> JSONResponse:
        if "locked" not in str(exc) and "busy" not in str(exc):
            return await internal(request, exc)
        return error_json(503, "server_busy",
                          "the server is busy; nothing was applied, retry shortly",
                          headers={"Retry-After": "5"})

    async def unstorable(request: Request, exc: Exception) -> JSONResponse:
        # A value PostgreSQL cannot hold (a NUL character in text, a number past 64 bits)
        # sent by the caller: its write rolled back whole, so nothing of it was applied.
        log.info("refused a value on %s %s: %s", request.method, request.url.path, exc)
        what = ("text may not contain the NUL character (\\u0000)" if "NUL" in str(exc)
                else "a value is not one the database can store")
        return error_json(400, "unstorable_value", f"{what}; nothing was applied")

    if postgres:  # psycopg is imported only by a server on PostgreSQL
        import psycopg

        app.add_exception_handler(psycopg.DataError, unstorable)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_json(500, "internal_error", "the server failed; the request was not applied")

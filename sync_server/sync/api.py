"""The sync API under /api/v1: a tablet logs in, refreshes its token, pushes its outbox,
pulls its scope by cursor, uploads attachments in chunks, and (revoked) hands in what was
refused before it erases its data. Every body is a ``fieldapp.wire`` model."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response, StreamingResponse

from fieldapp.domain.roles import SUPERVISORS
from fieldapp.wire import (
    MAX_PULL_PAGE,
    PROTOCOL_VERSION,
    AttachmentStatus,
    LoginRequest,
    LoginResponse,
    PositionReport,
    PositionTaken,
    PullResponse,
    PushRequest,
    PushResponse,
    ServerEpoch,
    TokenResponse,
    UserInfo,
    WakeResponse,
    WipeReport,
    WipeResponse,
)
from sync_server.config import MAX_BODY, MAX_CHUNK
from sync_server.deps import (
    HandingIn,
    Sender,
    ServerDep,
    Technician,
    Who,
    check_protocol,
    check_schema,
)
from sync_server.errors import MAX_INT, ApiError
from sync_server.http.file_range import ranged
from sync_server.http.kb_figures import TABLETS, figure_response
from sync_server.services import audit, auth, basemaps, network_maps, positions
from sync_server.services.districts import district_of
from sync_server.services.throttle import sign_in
from sync_server.services.token_rotation import refresh as refresh_token
from sync_server.storage import epoch
from sync_server.storage.db import utc_now
from sync_server.sync import conflict_rows, snapshot
from sync_server.sync import push as sync_push
from sync_server.sync.pull import body as pull_body
from sync_server.sync.pull import has_news, pull, scope_changed
from sync_server.sync.wake import MAX_HOLD

JSON_LINES = "application/jsonl"

router = APIRouter(prefix="/api/v1")


@router.get("/health")
def health() -> dict[str, object]:
    return {"ok": True, "protocol": PROTOCOL_VERSION}


@router.post("/auth/login")
def login(body: LoginRequest, request: Request, server: ServerDep) -> LoginResponse:
    check_protocol(body.protocol)
    ttl = server.settings.token_ttl
    issued, user = sign_in(
        server.db, body.username, body.password, auth.client_address(request),
        lambda conn, user: (auth.issue(conn, user, body.device_id, body.device_name, ttl),
                            user))
    return LoginResponse(token=issued.token, expires_at=issued.expires_at,
                         issued_at=issued.issued_at, server_hlc=server.clock.now(),
                         user=UserInfo(username=user["username"],
                                       display_name=user["display_name"],
                                       role=user["role"], district=user["district"]))


@router.post("/auth/refresh")
def refresh(who: Who, server: ServerDep) -> TokenResponse:
    """A fresh token once half the current one's life is gone, without the password."""
    with server.db.write() as conn:
        issued = refresh_token(conn, who, server.settings.token_ttl)
    return TokenResponse(token=issued.token, expires_at=issued.expires_at,
                         issued_at=issued.issued_at)


@router.post("/sync/push", max_body_size=MAX_BODY)
def push(body: PushRequest, who: Sender, server: ServerDep) -> PushResponse:
    check_protocol(body.protocol)
    check_schema(body.schema_version)
    if body.device_id != who.device_id:
        raise ApiError(403, "device_mismatch", "the batch names another device than the token")
    sync_push.check_clocks(body.mutations, who)
    prepared = sync_push.prepare(body, who, server.clock)  # before the write lock
    with server.db.write() as conn:
        answer = sync_push.push_batch(conn, body, who, server.clock, prepared)
        # Now's, not the stored answer's: a batch replayed after a restore says so too.
        return answer.model_copy(update={"epoch": epoch.current(conn)})


@router.get("/sync/epoch")
def sync_epoch(who: HandingIn, server: ServerDep) -> ServerEpoch:
    """Which history the server is in; a revoked tablet asks too, before it sends its last."""
    with server.db.read() as conn:
        restored = epoch.restored_from(conn) or {}
        seq = restored.get("last_seq")
        return ServerEpoch(epoch=epoch.current(conn),
                           restored_seq=seq if isinstance(seq, int) else None,
                           restored_at=str(restored["restored_at"])
                           if restored.get("restored_at") else None)


@router.get("/sync/pull", response_model=PullResponse)
def pull_changes(who: Who, server: ServerDep,
                 cursor: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
                 limit: Annotated[int, Query(ge=1, le=MAX_PULL_PAGE)] = 500) -> Response:
    with server.db.read() as conn:
        history = epoch.current(conn)
        if not scope_changed(conn, who):
            changes, next_cursor, more = pull(conn, who, cursor, limit, record_scope=False)
        else:
            changes = None
    if changes is None:  # new or lost customers: record them under the write lock
        with server.db.write() as conn:
            history = epoch.current(conn)
            changes, next_cursor, more = pull(conn, who, cursor, limit)
    # Encoded once, without a model per record (``pull.body``); the schema stays PullResponse.
    return Response(pull_body(changes, next_cursor, more, server.clock.now(), history),
                    media_type="application/json")


@router.get("/sync/snapshot", response_class=Response,
            responses={200: {"content": {"application/json": {}, JSON_LINES: {}}}})
def sync_snapshot(who: Who, server: ServerDep,
                  layout: Annotated[int, Query(alias="format", ge=1,
                                               le=snapshot.SNAPSHOT_FORMAT)] = 1,
                  ) -> Response:
    """An empty tablet's whole scope, with the cursor its pulls go on from (``snapshot.py``):
    a first sync without a page-by-page merge. Layout 1 is one JSON document; layout 2 is
    JSON lines, sent while the rows are read."""
    snapshot.check(who)
    if layout == snapshot.STREAMED:
        return StreamingResponse(snapshot.stream(server.db, who, server.clock.now),
                                 media_type=JSON_LINES)
    with server.db.write() as conn:
        history = epoch.current(conn)
        tables, cursor = snapshot.take(conn, who)
    # Encoded after the lock is let go: the rows are already this moment's.
    return Response(snapshot.body(tables, cursor, server.clock.now(), history),
                    media_type="application/json")


@router.get("/sync/wait")
async def wait_for_news(who: Who, server: ServerDep,
                        cursor: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
                        hold: Annotated[int, Query(ge=1, le=MAX_HOLD)] = MAX_HOLD,
                        ) -> WakeResponse:
    """Held until the caller's scope has news after ``cursor`` (then it pulls) or ``hold``
    seconds pass (then it asks again): an online tablet hears of an emergency in seconds."""
    def news() -> bool:
        with server.db.read() as conn:
            return has_news(conn, who, cursor)
    woke = await server.wake.wait(who.device_id, news, hold)
    return WakeResponse(wake=woke, cursor=cursor)


@router.get("/attachments/{sha256}")
def attachment_status(sha256: str, who: HandingIn, server: ServerDep) -> AttachmentStatus:
    with server.db.read() as conn:
        return server.blobs.status(conn, sha256)


@router.get("/kb/figures/{name}", response_class=Response,
            responses={200: {"content": {"image/png": {}, "image/jpeg": {}}}})
def kb_figure(name: str, who: Who, request: Request) -> Response:
    """A figure of a published knowledge-base article, which the tablet keeps to show the
    article offline (named by its content's SHA-256, so the tablet checks what it got)."""
    return figure_response(request, name, TABLETS)


@router.get("/network/{sha256}", response_class=Response,
            responses={200: {"content": {"application/json": {}}}})
def network_bundle(who: Who, server: ServerDep,
                   sha256: Annotated[str, PathParam(pattern="^[0-9a-f]{64}$")]) -> Response:
    """The gas network of the technician's district (``services/network_maps.py``), named
    by its content's SHA-256 as its district's setting names it; another district's is not
    served."""
    with server.db.read() as conn:
        known = network_maps.served(conn, who, sha256)
    if not known or not server.objects.exists(sha256):
        raise ApiError(404, "unknown_network", "没有这份管网图")
    with server.objects.open(sha256) as fh:
        return Response(fh.read(), media_type="application/json",
                        headers={"Cache-Control": "private, max-age=86400"})


@router.get("/basemap/{sha256}", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}},
                       206: {"description": "the asked range of the file"}})
def basemap_file(request: Request, who: Who, server: ServerDep,
                 sha256: Annotated[str, PathParam(pattern="^[0-9a-f]{64}$")]) -> Response:
    """The offline basemap of the technician's district (``services/basemaps.py``), whole
    or from a ``Range`` (a download cut off carries on); another district's is not served."""
    with server.db.read() as conn:
        known = network_maps.served(conn, who, sha256, basemaps.PREFIX)
    if not known or not server.objects.exists(sha256):
        raise ApiError(404, "unknown_basemap", "没有这份底图")
    return ranged(server.objects.open(sha256), request.headers.get("range"),
                  "application/octet-stream", {"Cache-Control": "private, max-age=86400"})


@router.post("/positions", max_body_size=MAX_BODY)
def report_position(body: PositionReport, who: Technician, server: ServerDep) -> PositionTaken:
    """The technician's last fix (``services/positions.py``): kept, kept as doubtful, or
    refused in words (422) with nothing written."""
    with server.db.write() as conn:
        return positions.report(conn, who, body)


@router.put("/attachments/{sha256}", max_body_size=MAX_CHUNK)
async def upload_chunk(sha256: str, request: Request, who: Sender, server: ServerDep,
                       offset: Annotated[int, Query(ge=0, le=MAX_INT)],
                       total: Annotated[int, Query(ge=1, le=MAX_INT)]) -> AttachmentStatus:
    server.blobs.check_name(sha256)
    chunk = await request.body()
    with server.db.write() as conn:
        status, error = server.blobs.put_chunk(conn, sha256, offset, total, chunk)
    if error:
        raise error
    return status


@router.post("/device/wiped", max_body_size=MAX_BODY)
def device_wiped(body: WipeReport, who: Sender, server: ServerDep) -> WipeResponse:
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


@router.post("/admin/devices/{device_id}/revoke")
def revoke_device(device_id: str, who: Who, server: ServerDep) -> dict[str, str]:
    if who.role not in SUPERVISORS:
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

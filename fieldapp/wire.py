"""Wire types of the sync protocol, shared by the tablet client and the server.

The protocol is defined here once: the server validates requests against these
models and the client builds them. Bump ``PROTOCOL_VERSION`` on any breaking change;
the server answers ``client_outdated`` (HTTP 426) to older clients.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

# 2: a mutation may be answered "parked" (waiting for its parent record).
PROTOCOL_VERSION = 2
# The largest version, id or cursor a request may name (the server's errors.MAX_INT):
# beyond 64 bits the databases overflow, and no real one comes near.
MAX_INT = 2**53
MAX_BATCH = 500
MAX_PULL_PAGE = 1000
# How far ahead of the server's clock a device's HLC may run before the server clamps it.
MAX_SKEW_MS = 60_000
# Attachments are uploaded in chunks of this size; the server takes up to twice it per request.
CHUNK = 1024 * 1024
# The newest tablet schema (fieldapp.replica.store's last migration) a push may declare; the server
# reads it here rather than from the tablet's store, which it must not import (a test ties
# the two).
CLIENT_SCHEMA_VERSION = 8


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(_Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    device_id: str = Field(min_length=1, max_length=64)
    device_name: str = Field(default="", max_length=128)
    protocol: int = PROTOCOL_VERSION


class UserInfo(_Strict):
    username: str
    display_name: str
    role: str
    district: str | None = None


class TokenResponse(_Strict):
    token: str
    expires_at: str
    issued_at: str | None = None  # server time: the client refreshes past half-life


class LoginResponse(_Strict):
    token: str
    expires_at: str
    issued_at: str | None = None
    user: UserInfo
    server_hlc: str


class Mutation(_Strict):
    mutation_id: str = Field(min_length=1, max_length=64)
    table: str = Field(min_length=1, max_length=64)
    record_id: str = Field(min_length=1, max_length=64)
    op: Literal["insert", "update", "delete"]  # a delete carries no fields
    fields: dict[str, Any]
    old: dict[str, Any] = Field(default_factory=dict)
    base_version: int = Field(default=0, ge=0, le=MAX_INT)
    hlc: str = Field(min_length=1, max_length=128)
    at: str = Field(min_length=1, max_length=40)


class PushRequest(_Strict):
    protocol: int
    schema_version: int
    device_id: str = Field(min_length=1, max_length=64)
    batch_id: str = Field(min_length=1, max_length=64)
    mutations: list[Mutation] = Field(max_length=MAX_BATCH)


MutationStatus = Literal["applied", "merged", "conflict", "rejected", "parked"]


class WipeReport(_Strict):
    """A revoked tablet, before erasing itself, hands in the changes the server refused
    (they are kept for review), in parts of at most a batch; the last part says ``final``."""

    rejected: list[Mutation] = Field(default_factory=list, max_length=MAX_BATCH)
    final: bool = True


class WipeResponse(_Strict):
    device_id: str
    kept: int  # refused changes now kept for review on the server
    wiped: bool


class MutationResult(_Strict):
    mutation_id: str
    status: MutationStatus
    version: int | None = None
    reason: str | None = None  # a code, e.g. "illegal_transition", "unknown_record"
    message: str | None = None  # English detail for logs and the back office
    kept: dict[str, Any] | None = None  # conflict: the values the server keeps
    preserved: dict[str, Any] | None = None  # conflict: the losing values, kept for review


# The identity of the server's history (sync_server/storage/epoch.py): a restore from a
# backup gives the server a new one. Optional on the wire: a server from before it sends none.
EPOCH_MAX = 64


class PushResponse(_Strict):
    batch_id: str
    results: list[MutationResult]
    server_hlc: str
    replayed: bool = False
    epoch: str | None = Field(default=None, max_length=EPOCH_MAX)


class RecordChange(_Strict):
    table: str
    record_id: str
    version: int
    row: dict[str, Any] | None  # None is a tombstone: the record left this device's scope


class PullResponse(_Strict):
    changes: list[RecordChange]
    cursor: int
    more: bool
    server_hlc: str
    # The history the cursor counts in.
    epoch: str | None = Field(default=None, max_length=EPOCH_MAX)


class SnapshotTable(_Strict):
    """One table of a snapshot: its column names once, then each record's values."""
    table: str
    columns: list[str]
    rows: list[list[Any]]


class SnapshotResponse(_Strict):
    """An empty tablet's whole scope (``/sync/snapshot``); its pulls go on from ``cursor``."""
    format: int
    cursor: int
    server_hlc: str
    epoch: str | None = Field(default=None, max_length=EPOCH_MAX)
    tables: list[SnapshotTable]


class SnapshotHead(_Strict):
    """The first line of a streamed snapshot (layout 2): its tables' lines follow, then
    ``SnapshotEnd``; ``rows`` is how many records the lines hold in all."""
    format: int
    cursor: int
    server_hlc: str
    epoch: str | None = Field(default=None, max_length=EPOCH_MAX)
    rows: int = Field(ge=0)


class SnapshotEnd(_Strict):
    """The last line of a streamed snapshot: without it, the download was cut off."""
    end: Literal[True]


class WakeResponse(_Strict):
    """A long poll's answer: whether a pull after the cursor would bring anything."""
    wake: bool
    cursor: int


class ServerEpoch(_Strict):
    """Asked before a tablet sends anything: a restored server must get the files and the
    changes it lost before the newer ones that build on them."""

    epoch: str | None = Field(default=None, max_length=EPOCH_MAX)
    restored_seq: int | None = None  # the change log of the backup it was restored from
    restored_at: str | None = None


class AttachmentStatus(_Strict):
    sha256: str
    size: int
    complete: bool


class ErrorBody(_Strict):
    error: str
    message: str
    detail: Any = None


class PositionReport(_Strict):
    """A technician's last fix, sent with a sync when they agreed to it and are on duty."""
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    accuracy_m: float | None = Field(default=None, allow_inf_nan=False)
    fix_time: AwareDatetime
    source: str = Field(min_length=1, max_length=16)


class PositionTaken(_Strict):
    """What the server made of a fix: kept, and why it is doubted (not used for dispatch)."""
    kept: bool
    doubtful: str | None = None

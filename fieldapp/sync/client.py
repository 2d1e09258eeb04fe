"""The tablet's sync client: log in, upload attachments, push the outbox, pull by cursor.

    client = SyncClient(replica, "http://127.0.0.1:8765")
    client.login("tech01", "…")        # once, online
    report = client.sync(progress=cb)  # any time the network is back

Order matters: files first (the server refuses a photo record whose bytes it lacks),
then the outbox in idempotent batches, then the server's changes. Before all of them the
client asks which history the server is in (its epoch): a server restored from a backup
has a new one, and then this tablet resends what that server lost (``resend.py``) before
anything newer that builds on it.

On the tablet the replica belongs to one database worker (``fieldapp.ui.taskman``): the
client runs on its own thread for the network and hands each replica step to ``db`` (a
function that runs a callable on the worker and returns its result), so the sync shares the
app's connection and clock. Without ``db`` the steps run inline (scripts, benchmarks, tests).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from fieldapp.changes import Changes
from fieldapp.errors import AuthError, ServerRejected, WipeRequested
from fieldapp.local_time import now_iso
from fieldapp.position import Position
from fieldapp.replica import Replica, Session, unlock
from fieldapp.replica.store import SCHEMA_VERSION
from fieldapp.sync import downloads, position_report, provision, transport
from fieldapp.sync.apply import Applied, apply_changes
from fieldapp.sync.credentials import TokenStore
from fieldapp.sync.progress import Progress, ProgressFn
from fieldapp.sync.resend import EPOCH_KEY, resend_after_restore
from fieldapp.sync.transport import RequestsTransport, Response, Transport, answer_lines, error_from
from fieldapp.wire import (
    CHUNK,
    MAX_BATCH,
    MAX_PULL_PAGE,
    PROTOCOL_VERSION,
    AttachmentStatus,
    LoginRequest,
    LoginResponse,
    PositionTaken,
    PullResponse,
    PushRequest,
    PushResponse,
    ServerEpoch,
    TokenResponse,
    WipeReport,
    WipeResponse,
)

# When this tablet received its token (its own clock), when the server expires it, how
# long the server gave it (seconds, from the server's own issue time), and, after a
# refusal, the earliest time (this tablet's clock) to ask for a refresh again.
TOKEN_ISSUED, TOKEN_EXPIRES = "token_issued_at", "token_expires_at"
TOKEN_LIFE, TOKEN_NOT_BEFORE = "token_life_s", "token_refresh_not_before"
# Refresh a little past half-life, not on the dot: the server allows it from half-life by
# its own clock (several servers' clocks may differ by a little), the tablet measures
# from when the answer arrived.
REFRESH_AT = 0.55
log = logging.getLogger("fieldapp.sync")


@dataclass
class SyncReport:
    uploaded_files: int = 0
    uploaded_bytes: int = 0
    pushed: dict[str, int] = field(default_factory=dict)
    pulled: int = 0
    changes: Changes = field(default_factory=Changes)
    left_jobs: set[str] = field(default_factory=set)  # reassigned away: tell the technician
    kept_despite_tombstone: set[str] = field(default_factory=set)
    # The server was restored from a backup: this many acknowledged changes were sent again
    # (tell the technician why their work is being resent).
    server_restored: bool = False
    resent: int = 0
    figures: int = 0  # knowledge-base figures fetched to show offline
    figures_missing: int = 0  # could not be fetched this time: tried again next sync
    network: bool = False  # a new gas network of the district was fetched
    basemap: bool = False  # a new offline basemap of the district is in use
    position: PositionTaken | None = None  # the fix sent, as the server took it


class _HistoryChanged(Exception):
    """The server's epoch changed during this sync: start it over from the files."""


T = TypeVar("T")
DbRunner = Callable[[Callable[[], Any]], Any]


def _inline(step: Callable[[], T]) -> T:
    return step()


class SyncClient:
    def __init__(self, replica: Replica, base_url: str, transport: Transport | None = None,
                 timeout: float = 30, chunk_size: int = CHUNK,
                 db: DbRunner | None = None) -> None:
        self.r = replica
        self._run: DbRunner = db or _inline
        self.base_url = base_url.rstrip("/")
        self.transport = transport or RequestsTransport()
        self.timeout = timeout
        self.chunk_size = chunk_size
        self.tokens = TokenStore(replica)

    def _db(self, step: Callable[[], T]) -> T:
        """``step`` (which touches the replica) on the database worker, its result here."""
        result: T = self._run(step)
        return result

    # -- HTTP -----------------------------------------------------------------------
    def _call(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> Response:
        headers = self._headers(kwargs.pop("headers", None), auth)
        resp = self.transport.request(method, self.base_url + path, headers=headers,
                                      timeout=self.timeout, **kwargs)
        if resp.status_code >= 400:
            raise error_from(resp)
        return resp

    def _lines(self, method: str, path: str, *, params: dict[str, Any] | None = None,
               ) -> AbstractContextManager[Iterator[bytes]]:
        """An answer read line by line as it arrives (``transport.answer_lines``)."""
        return answer_lines(self.transport, method, self.base_url + path, params=params,
                            headers=self._headers(None, True), timeout=self.timeout)

    def _headers(self, given: dict[str, str] | None, auth: bool) -> dict[str, str]:
        headers = dict(given or {})
        headers["X-FieldApp-Protocol"] = str(PROTOCOL_VERSION)
        if auth:
            token = self._db(self.tokens.get)
            if not token:
                raise AuthError("not_logged_in", "log in once online first")
            headers["Authorization"] = f"Bearer {token}"
        return headers

    # -- login ----------------------------------------------------------------------
    def login(self, username: str, password: str, device_name: str = "") -> Session:
        # Asked before the server is: a login there would bind this tablet to the new
        # account, and the last one could then no longer send what it left.
        previous = self._db(lambda: self.r.session)
        if (previous and previous.username != username
                and self._db(self.r.outbox.counts)["pending"]):
            raise AuthError("other_user_pending",
                            "another technician's work on this tablet is not synced yet",
                            username=previous.username)
        body = LoginRequest(username=username, password=password, device_id=self.r.device_id,
                            device_name=device_name)
        resp = self._call("POST", "/api/v1/auth/login", auth=False, json=body.model_dump())
        login = LoginResponse.model_validate(resp.json())
        session = Session(**login.user.model_dump())

        def keep() -> None:
            self._keep_token(login.token, login.expires_at, login.issued_at)
            self.r.set_state("session", json.dumps(session.__dict__, ensure_ascii=False))
            self.r.observe(login.server_hlc)

        self._db(keep)
        # The password's hash takes a moment (argon2): not on the worker the UI waits for.
        remembered = unlock.hash_for(password)
        self._db(lambda: unlock.keep(self.r, remembered))  # it opens the app offline
        return session

    def _keep_token(self, token: str, expires_at: str, issued_at: str | None) -> None:
        self.tokens.set(token)
        self.r.set_state(TOKEN_ISSUED, now_iso())
        self.r.set_state(TOKEN_EXPIRES, expires_at)
        life = (datetime.fromisoformat(expires_at) - datetime.fromisoformat(issued_at)
                ).total_seconds() if issued_at else None
        self.r.set_state(TOKEN_LIFE, None if life is None else str(life))
        self.r.set_state(TOKEN_NOT_BEFORE, None)

    def refresh_if_due(self, now: datetime | None = None) -> bool:
        """Swap the token for a fresh one once half its life is gone, so a tablet in daily
        use never meets an expired token (which would need the password, online).

        Half-life is measured as time elapsed since the token arrived here, against the
        life the server gave it: this tablet's clock may be off from the server's, but
        not the length of a day. The server refuses a refresh before half-life, so asking
        early would only be refused (then the tablet waits as long as the server says)."""
        received, expires, life, not_before = self._db(lambda: [
            self.r.state(key) for key in (TOKEN_ISSUED, TOKEN_EXPIRES, TOKEN_LIFE,
                                          TOKEN_NOT_BEFORE)])
        if not received or not expires:
            return False  # logged in before tokens were refreshed: the next login sets them
        now = now or datetime.now(UTC)
        start = datetime.fromisoformat(received)
        span = timedelta(seconds=float(life)) if life else datetime.fromisoformat(expires) - start
        due = start + span * REFRESH_AT
        if not_before:
            due = max(due, datetime.fromisoformat(not_before))
        if now < due:
            return False
        try:
            resp = self._call("POST", "/api/v1/auth/refresh")
        except ServerRejected as exc:
            if exc.code != "refresh_too_early":
                raise
            wait = timedelta(seconds=float(exc.params.get("retry_after_s") or 3600))
            until = (now + wait).isoformat(timespec="seconds")
            self._db(lambda: self.r.set_state(TOKEN_NOT_BEFORE, until))
            return False  # the token still works: sync on with it
        fresh = TokenResponse.model_validate(resp.json())
        self._db(lambda: self._keep_token(fresh.token, fresh.expires_at, fresh.issued_at))
        return True

    # -- sync -----------------------------------------------------------------------
    def sync(self, progress: ProgressFn | None = None,
             position: Position | None = None) -> SyncReport:
        """Send what waits and bring what is new; ``position`` is the tablet's fix, reported
        after the push when the technician agreed to it (``position_report``)."""
        report = SyncReport()
        notify = progress or (lambda p: None)
        try:
            self.refresh_if_due()
            for attempt in (1, 2):
                try:
                    self._check_epoch(report)
                    self._upload(report, notify)
                    self._push(report, notify)
                    report.position = position_report.send(self, position)
                    self._pull(report, notify)
                    self._figures(report, notify)
                    break
                except _HistoryChanged:
                    # Restored between our question and a later answer: once more, in
                    # order. Twice in one sync is not a restore but a confused server.
                    if attempt == 2:
                        raise ServerRejected("epoch_unstable", "the server's history"
                                             " changed twice during one sync") from None
        except AuthError as exc:
            if exc.code == "device_revoked":
                self._revoked()
            raise
        self._db(lambda: self.r.set_state("last_sync_at", now_iso()))
        return report

    def _revoked(self) -> None:
        """Revoked by an administrator: a revoked tablet may still send, so by now its files
        and changes are in unless something failed. Only when nothing is left does it hand
        in what the server refused and raise :class:`WipeRequested`: erase the data."""
        unsent = self._db(lambda: self.r.outbox.counts()["pending"] + self.r.db.execute(
            "SELECT count(*) FROM blobs WHERE uploaded = 0").fetchone()[0])
        if unsent:
            raise AuthError("device_revoked_unsent", "revoked, with work not yet sent",
                            unsent=unsent)
        kept = 0
        try:
            rejected = self._db(self.r.outbox.rejected)
            parts = [rejected[i:i + MAX_BATCH]
                     for i in range(0, len(rejected), MAX_BATCH)] or [[]]
            for n, part in enumerate(parts):
                body = WipeReport(rejected=part, final=n == len(parts) - 1)
                resp = self._call("POST", "/api/v1/device/wiped",
                                  json=body.model_dump(mode="json"))
                kept += WipeResponse.model_validate(resp.json()).kept
        except AuthError as exc:
            if exc.code != "device_revoked":  # revoked: a wipe the server already recorded
                raise
        raise WipeRequested("device_wiped", "revoked by an administrator: erase this tablet",
                            kept=kept)

    def _check_epoch(self, report: SyncReport) -> None:
        try:
            resp = self._call("GET", "/api/v1/sync/epoch")
        except ServerRejected as exc:
            if exc.status == 404:
                return  # a server from before epochs: nothing to compare
            raise
        self._see_epoch(ServerEpoch.model_validate(resp.json()).epoch, report)

    def _see_epoch(self, epoch: str | None, report: SyncReport) -> bool:
        """Remember the server's epoch; True when it changed from the one this tablet knew
        (and the replica is now set to resend and pull again)."""
        if epoch is None:
            return False  # a server from before epochs
        known = self._db(lambda: self.r.state(EPOCH_KEY))
        if known == epoch:
            return False
        if known is None:  # first sight (a new tablet, or one from before epochs)
            self._db(lambda: self.r.set_state(EPOCH_KEY, epoch))
            return False
        resent = self._db(lambda: resend_after_restore(self.r, epoch))
        log.warning("the server was restored from a backup (epoch %s, was %s): pulling"
                    " again from 0, resending %d changes and checking %d files",
                    epoch, known, resent.mutations, resent.files)
        report.server_restored = True
        report.resent += resent.mutations
        return True

    def _upload(self, report: SyncReport, notify: ProgressFn) -> None:
        blobs = self._db(lambda: list(self.r.db.query(
            "SELECT sha256, size FROM blobs WHERE uploaded = 0 ORDER BY created_at")))
        total_bytes = sum(b["size"] for b in blobs)
        for i, blob in enumerate(blobs):
            done_before = report.uploaded_bytes

            def on_bytes(n: int, i: int = i, base: int = done_before) -> None:
                notify(Progress("upload", i, len(blobs), base + n, total_bytes))

            self.upload_blob(blob["sha256"], on_bytes=on_bytes)
            report.uploaded_files += 1
            report.uploaded_bytes += blob["size"]
        notify(Progress("upload", len(blobs), len(blobs), report.uploaded_bytes, total_bytes))

    def upload_blob(self, sha256: str, on_bytes: Callable[[int], None] | None = None) -> None:
        """Upload one file in chunks, resuming from what the server already verified."""
        status = AttachmentStatus.model_validate(
            self._call("GET", f"/api/v1/attachments/{sha256}").json())
        # Read only if something is to be sent: after a restore every file is asked about.
        data = b"" if status.complete else self._db(lambda: self.r.evidence.read_blob(sha256))
        offset = status.size
        while not status.complete:
            if on_bytes:
                on_bytes(offset)
            chunk = data[offset:offset + self.chunk_size]
            status = AttachmentStatus.model_validate(self._call(
                "PUT", f"/api/v1/attachments/{sha256}", data=chunk,
                params={"offset": offset, "total": len(data)},
                headers={"Content-Type": "application/octet-stream"}).json())
            offset = status.size
        self._db(lambda: self._mark_uploaded(sha256))

    def _mark_uploaded(self, sha256: str) -> None:
        with self.r.transaction() as db:
            db.execute("UPDATE blobs SET uploaded = 1 WHERE sha256 = ?", [sha256])

    def _push(self, report: SyncReport, notify: ProgressFn) -> None:
        total = self._db(self.r.outbox.counts)["pending"]
        done = 0
        last_batch = None
        while nxt := self._db(self.r.outbox.next_batch):
            batch_id, batch = nxt
            if batch_id == last_batch:
                raise ServerRejected("incomplete_push_result",
                                     f"the server did not answer every mutation of {batch_id}")
            last_batch = batch_id
            notify(Progress("push", done, total))
            request = PushRequest(protocol=PROTOCOL_VERSION, schema_version=SCHEMA_VERSION,
                                  device_id=self.r.device_id, batch_id=batch_id,
                                  mutations=batch)
            resp = PushResponse.model_validate(self._call(
                "POST", "/api/v1/sync/push", json=request.model_dump(mode="json")).json())
            if self._see_epoch(resp.epoch, report):
                raise _HistoryChanged  # its rows are pending again: resent in order
            self._db(partial(self._take_results, batch_id, resp))
            for res in resp.results:
                report.pushed[res.status] = report.pushed.get(res.status, 0) + 1
            done += len(batch)
        notify(Progress("push", done, max(total, done)))

    def _take_results(self, batch_id: str, resp: PushResponse) -> None:
        self.r.outbox.record_results(batch_id, resp.results)
        self.r.observe(resp.server_hlc)

    def _pull(self, report: SyncReport, notify: ProgressFn) -> None:
        if not provision.first_sync(self, report, notify):
            raise _HistoryChanged  # the snapshot was of another history
        cursor = int(self._db(lambda: self.r.state("cursor")) or 0)
        more = True
        while more:
            page = PullResponse.model_validate(self._call(
                "GET", "/api/v1/sync/pull",
                params={"cursor": cursor, "limit": MAX_PULL_PAGE}).json())
            if self._see_epoch(page.epoch, report):
                raise _HistoryChanged  # the cursor counted in another history
            # One page applied and the server's clock seen in one worker step: the UI
            # waits for it at most once per page.
            applied = self._db(partial(self._take_page, page))
            report.changes = report.changes | applied.changes
            report.left_jobs |= applied.left_jobs
            report.kept_despite_tombstone |= applied.kept
            cursor, more = page.cursor, page.more
            report.pulled += len(page.changes)
            notify(Progress("pull", report.pulled, report.pulled + (1 if more else 0)))

    def _figures(self, report: SyncReport, notify: ProgressFn) -> None:
        downloads.fetch_all(
            self.r, report, notify, in_db=self._db,
            get=lambda path: self._call("GET", path).content,
            download=lambda path, offset: transport.download(
                self.transport, self.base_url + path, offset=offset,
                headers=self._headers(None, True), timeout=self.timeout))

    def _take_page(self, page: PullResponse) -> Applied:
        applied = apply_changes(self.r, page.changes, cursor=page.cursor)
        self.r.observe(page.server_hlc)
        return applied


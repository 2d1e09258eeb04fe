"""Content-addressed attachment store with resumable chunked upload.

A device sends chunks at increasing offsets; the server appends only at the offset it
already holds, so a dropped connection resumes from the last verified byte. When the
declared size is reached the whole file's sha256 must equal its name, or it is discarded.
"""

from __future__ import annotations

import errno
import hashlib
import re

from fieldapp.file_kinds import HEAD_BYTES, sniff
from fieldapp.wire import AttachmentStatus
from sync_server.errors import ApiError
from sync_server.storage.db import Connection, utc_now
from sync_server.storage.objects import ObjectStore

MAX_BLOB = 50 * 1024 * 1024
_SHA = re.compile(r"^[0-9a-f]{64}$")


class BlobStore:
    """The upload protocol over an ``ObjectStore`` (objects.py), which holds the bytes."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    @staticmethod
    def check_name(sha256: str) -> None:
        if not _SHA.match(sha256):
            raise ApiError(400, "bad_hash",
                           "an attachment is named by its lowercase sha256 (64 hex digits)")

    def status(self, conn: Connection, sha256: str) -> AttachmentStatus:
        self.check_name(sha256)
        row = conn.execute("SELECT * FROM blobs WHERE sha256 = ?", [sha256]).fetchone()
        if row is None:
            return AttachmentStatus(sha256=sha256, size=0, complete=False)
        return AttachmentStatus(sha256=sha256, size=row["received"], complete=bool(row["complete"]))

    def put_chunk(self, conn: Connection, sha256: str, offset: int, total: int,
                  chunk: bytes) -> tuple[AttachmentStatus, ApiError | None]:
        """Store one chunk. A hash mismatch is returned, not raised, so that the discard of
        the bad upload commits before the error reaches the device."""
        current = self.status(conn, sha256)
        if current.complete:
            return current, None
        declared = conn.execute("SELECT size FROM blobs WHERE sha256 = ?", [sha256]).fetchone()
        if declared and declared[0] != total:
            raise ApiError(409, "total_changed", f"this upload was started with total"
                           f" {declared[0]}, not {total}", detail={"total": declared[0]})
        if not 0 < total <= MAX_BLOB:
            raise ApiError(413, "attachment_too_large",
                           f"attachments are limited to {MAX_BLOB} bytes")
        if self.store.exists(sha256):  # published before a crash kept the row from saying so
            return self._record(conn, sha256, total, total), None
        if offset != current.size:
            raise ApiError(409, "wrong_offset", f"expected offset {current.size}, got {offset}",
                           detail={"size": current.size})
        if offset + len(chunk) > total:
            raise ApiError(400, "chunk_past_end", "the chunk goes past the declared total size")
        try:
            self.store.write_part(sha256, offset, chunk)
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            # Cut back to the last verified byte so a resume starts from a clean edge.
            self.store.cut_parts(sha256, offset)
            raise ApiError(507, "storage_full", "the server's attachment storage is full;"
                           f" kept {offset} verified bytes, retry later") from exc
        received = offset + len(chunk)
        if received == total:
            digest = hashlib.sha256()
            for block in self.store.read_parts(sha256):
                digest.update(block)
            if digest.hexdigest() != sha256:
                self.store.discard_parts(sha256)
                conn.execute("DELETE FROM blobs WHERE sha256 = ?", [sha256])
                empty = AttachmentStatus(sha256=sha256, size=0, complete=False)
                return empty, ApiError(422, "hash_mismatch", f"the uploaded bytes hash to"
                                       f" {digest.hexdigest()}, not {sha256}; nothing was kept")
            self.store.publish(sha256)
        return self._record(conn, sha256, total, received), None

    def sniff(self, sha256: str) -> str | None:
        """The kind of a complete file, from its first bytes."""
        with self.store.open(sha256) as fh:
            return sniff(fh.read(HEAD_BYTES))

    def _record(self, conn: Connection, sha256: str, total: int, received: int) -> AttachmentStatus:
        complete = received == total
        conn.execute(
            "INSERT INTO blobs(sha256, size, received, complete, created_at, completed_at, kind)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(sha256) DO UPDATE SET"
            " received = excluded.received, complete = excluded.complete,"
            " completed_at = excluded.completed_at, kind = excluded.kind",
            [sha256, total, received, int(complete), utc_now(), utc_now() if complete else None,
             self.sniff(sha256) if complete else None])
        return AttachmentStatus(sha256=sha256, size=received, complete=complete)

"""Content-addressed attachment store with resumable chunked upload.

A device sends chunks at increasing offsets; the server appends only at the offset it
already holds, so a dropped connection resumes from the last verified byte. When the
declared size is reached the whole file's sha256 must equal its name, or it is discarded.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
from pathlib import Path

from fieldapp.wire import AttachmentStatus
from sync_server import faults
from sync_server.db import Connection, utc_now
from sync_server.errors import ApiError

MAX_BLOB = 50 * 1024 * 1024
_SHA = re.compile(r"^[0-9a-f]{64}$")


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "partial").mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def _partial(self, sha256: str) -> Path:
        return self.root / "partial" / sha256

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
        if not 0 < total <= MAX_BLOB:
            raise ApiError(413, "attachment_too_large",
                           f"attachments are limited to {MAX_BLOB} bytes")
        if offset != current.size:
            raise ApiError(409, "wrong_offset", f"expected offset {current.size}, got {offset}",
                           detail={"size": current.size})
        if offset + len(chunk) > total:
            raise ApiError(400, "chunk_past_end", "the chunk goes past the declared total size")
        partial = self._partial(sha256)
        try:
            with open(partial, "r+b" if offset else "wb") as fh:
                fh.seek(offset)
                faults.write(fh, chunk)
                fh.truncate()
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            # Cut back to the last verified byte so a resume starts from a clean edge.
            with open(partial, "r+b") as fh:
                fh.truncate(offset)
            raise ApiError(507, "storage_full", "the server's attachment storage is full;"
                           f" kept {offset} verified bytes, retry later") from exc
        received = offset + len(chunk)
        complete = received == total
        if complete:
            digest = hashlib.sha256(partial.read_bytes()).hexdigest()
            if digest != sha256:
                partial.unlink()
                conn.execute("DELETE FROM blobs WHERE sha256 = ?", [sha256])
                empty = AttachmentStatus(sha256=sha256, size=0, complete=False)
                return empty, ApiError(422, "hash_mismatch", f"the uploaded bytes hash to"
                                       f" {digest}, not {sha256}; nothing was kept")
            final = self.path(sha256)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(partial, final)
        conn.execute(
            "INSERT INTO blobs(sha256, size, received, complete, created_at, completed_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(sha256) DO UPDATE SET"
            " received = excluded.received, complete = excluded.complete,"
            " completed_at = excluded.completed_at",
            [sha256, total, received, int(complete), utc_now(), utc_now() if complete else None])
        return AttachmentStatus(sha256=sha256, size=received, complete=complete), None

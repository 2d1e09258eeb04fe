"""Where attachment bytes live: the object-store interface and its filesystem backend.

``BlobStore`` (blobs.py) runs the upload protocol (offsets, sizes, the sha256 check, the
``blobs`` table) and keeps bytes only through an ``ObjectStore``, so another backend plugs
in without touching it. An upload is staged as parts at increasing offsets, then either
published as the object named by its sha256 or discarded.

Every server process behind a load balancer must see the same store (the chunks of one
upload may reach different processes); the database row of the upload says how many bytes
are verified, so a store never has to be asked. For an S3-compatible store the mapping is:

- ``write_part``   → ``PutObject partial/<sha>/<offset:012d>`` (one object per chunk);
- ``cut_parts``    → delete the part objects at or past ``size``;
- ``read_parts``   → ``GetObject`` of the parts in offset order;
- ``publish``      → a multipart upload streamed from the parts (parts of S3 must be at
  least 5 MiB, so chunks are regrouped), then the part objects deleted;
- ``open``/``exists`` → ``GetObject``/``HeadObject`` of ``<sha[:2]>/<sha>``.

Publishing is idempotent (an object is named by its content), so a process killed between
publishing and recording it in the database repeats it harmlessly on the retry.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from sync_server import faults

READ_SIZE = 1024 * 1024


class ObjectStore(Protocol):
    def write_part(self, key: str, offset: int, data: bytes) -> None:
        """Stage ``data`` at ``offset`` of the upload ``key``, durably, dropping anything
        staged past it. A full disk raises ``OSError(ENOSPC)``."""

    def cut_parts(self, key: str, size: int) -> None:
        """Drop staged bytes past ``size`` (what a failed write left)."""

    def read_parts(self, key: str) -> Iterator[bytes]:
        """The staged bytes, in order."""

    def discard_parts(self, key: str) -> None: ...

    def publish(self, key: str) -> None:
        """Make the staged bytes the object ``key``, all at once."""

    def exists(self, key: str) -> bool: ...

    def open(self, key: str) -> BinaryIO: ...


class FileSystemStore:
    """Objects as files under ``root/<key[:2]>/<key>``; an upload stages in one file under
    ``root/partial`` and is published by a rename, so a reader never sees half a file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "partial").mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def _partial(self, key: str) -> Path:
        return self.root / "partial" / key

    def write_part(self, key: str, offset: int, data: bytes) -> None:
        with open(self._partial(key), "r+b" if offset else "wb") as fh:
            fh.seek(offset)
            faults.write(fh, data)
            fh.truncate()
            fh.flush()
            os.fsync(fh.fileno())

    def cut_parts(self, key: str, size: int) -> None:
        partial = self._partial(key)
        if partial.exists():
            with open(partial, "r+b") as fh:
                fh.truncate(size)

    def read_parts(self, key: str) -> Iterator[bytes]:
        with open(self._partial(key), "rb") as fh:
            while block := fh.read(READ_SIZE):
                yield block

    def discard_parts(self, key: str) -> None:
        self._partial(key).unlink(missing_ok=True)

    def publish(self, key: str) -> None:
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._partial(key), final)

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def open(self, key: str) -> BinaryIO:
        return open(self.path(key), "rb")

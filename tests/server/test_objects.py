"""The attachment store's contract, which any backend (an S3-compatible one included) must
keep, and the upload protocol's recovery from a crash between publishing and recording."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sync_server.storage.blobs import BlobStore
from sync_server.storage.objects import FileSystemStore, ObjectStore
from sync_server.storage.sqlite_database import Database

BACKENDS = {"filesystem": FileSystemStore}


@pytest.fixture(params=sorted(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    return BACKENDS[request.param](tmp_path / "objects")


KEY = "ab" + "0" * 62


def staged(store: ObjectStore, key: str) -> bytes:
    return b"".join(store.read_parts(key))


def test_parts_stage_in_order_and_a_rewrite_drops_what_was_past_it(store: ObjectStore):
    store.write_part(KEY, 0, b"hello ")
    store.write_part(KEY, 6, b"wide world")
    assert staged(store, KEY) == b"hello wide world"
    store.write_part(KEY, 6, b"world")  # the resume after a lost answer resends from 6
    assert staged(store, KEY) == b"hello world"
    store.cut_parts(KEY, 5)
    assert staged(store, KEY) == b"hello"
    assert not store.exists(KEY)


def test_publish_makes_the_whole_object_visible_at_once(store: ObjectStore):
    store.write_part(KEY, 0, b"x" * 3_000_000)
    store.write_part(KEY, 3_000_000, b"y")
    assert not store.exists(KEY)
    store.publish(KEY)
    assert store.exists(KEY)
    with store.open(KEY) as fh:
        assert fh.read() == b"x" * 3_000_000 + b"y"


def test_discarded_parts_are_gone(store: ObjectStore):
    store.write_part(KEY, 0, b"bad bytes")
    store.discard_parts(KEY)
    store.write_part(KEY, 0, b"good")
    assert staged(store, KEY) == b"good"


def test_an_upload_published_before_a_crash_completes_on_the_retry(tmp_path: Path):
    """Killed after the object was published but before its row committed: the device
    resends the last chunk and the server finds the object, verified by its name."""
    data = b"photo bytes" * 1000
    sha = hashlib.sha256(data).hexdigest()
    objects = FileSystemStore(tmp_path / "attachments")
    blobs = BlobStore(objects)
    db = Database(tmp_path / "server.sqlite3")
    with db.write() as conn:
        status, error = blobs.put_chunk(conn, sha, 0, len(data), data[:5000])
    assert (status.size, status.complete, error) == (5000, False, None)
    objects.write_part(sha, 5000, data[5000:])
    objects.publish(sha)  # ... and the process dies before the row says so

    with db.write() as conn:
        assert blobs.status(conn, sha).size == 5000
        status, error = blobs.put_chunk(conn, sha, 5000, len(data), data[5000:])
    assert (status.size, status.complete, error) == (len(data), True, None)
    with objects.open(sha) as fh:
        assert fh.read() == data

"""The replica is encrypted at rest with a key kept in the OS keyring; a plain replica
from before is encrypted in place; a lost or wrong key is said so, never papered over."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from fieldapp.replica import Replica, db_key, integrity, sealed, store
from fieldapp.replica.db_key import KeyMissing, database_key
from tests.memory_keyring import MemoryKeyring
from tests.world import seed_replica

NAME, PHONE = "欧阳明远", "13987654321"


def _tablet_with_a_customer(data_dir: Path) -> Replica:
    replica = Replica.open(data_dir)
    seed_replica(replica)
    replica.db.execute("UPDATE customers SET name = ?, phone = ? WHERE id = 'cust-1'",
                       [NAME, PHONE])
    replica.db.conn.commit()
    return replica


def _files_bytes(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in data_dir.glob("replica.sqlite3*"))


def test_nothing_on_disk_is_readable_without_the_key(tmp_path: Path) -> None:
    replica = _tablet_with_a_customer(tmp_path)
    on_disk = _files_bytes(tmp_path)  # the database and its write-ahead log, still open
    for secret in (NAME, PHONE, "customers"):
        assert secret.encode() not in on_disk
    assert not store.is_plain(tmp_path / "replica.sqlite3")
    replica.close()
    plain = sqlite3.connect(tmp_path / "replica.sqlite3")
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        plain.execute("SELECT * FROM customers").fetchall()
    plain.close()
    again = Replica.open(tmp_path)
    assert again.get("customers", "cust-1")["name"] == NAME


def test_a_plain_replica_from_before_is_encrypted_in_place(tmp_path: Path) -> None:
    path = tmp_path / "replica.sqlite3"
    old = Replica(store.open_db(path), tmp_path)  # what a tablet wrote before encryption
    seed_replica(old)
    old.db.execute("UPDATE customers SET name = ? WHERE id = 'cust-1'", [NAME])
    old.jobs.transition("job-1", "accepted")  # unsent work that must survive
    Image.new("RGB", (320, 240), (90, 160, 60)).save(tmp_path / "meter.jpg")
    sha = old.get("attachments", old.evidence.add_photo("job-1", tmp_path / "meter.jpg"))[
        "sha256"]
    assert old.evidence.blob_path(sha).read_bytes()[:2] == b"\xff\xd8"  # plain JPEG
    device = old.device_id
    pending = old.db.execute("SELECT count(*) FROM outbox").fetchone()[0]
    assert pending
    old.close()
    assert store.is_plain(path) and NAME.encode() in path.read_bytes()
    (tmp_path / "replica.sqlite3.encrypting").write_bytes(b"half of an earlier attempt")

    replica = Replica.open(tmp_path)
    assert replica.device_id == device
    assert replica.get("customers", "cust-1")["name"] == NAME
    assert replica.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == pending
    assert replica.evidence.blob_path(sha).read_bytes().startswith(sealed.MAGIC)
    assert hashlib.sha256(replica.evidence.read_blob(sha)).hexdigest() == sha
    replica.close()
    assert not store.is_plain(path) and NAME.encode() not in _files_bytes(tmp_path)
    assert not (tmp_path / "replica.sqlite3.encrypting").exists()


def test_the_key_lives_in_the_keyring_when_there_is_one(tmp_path: Path,
                                                         vault: MemoryKeyring) -> None:
    _tablet_with_a_customer(tmp_path).close()
    assert not (tmp_path / db_key.FALLBACK_FILE).exists()
    account = (tmp_path / db_key.ID_FILE).read_text().strip()
    stored = vault.items[(db_key.SERVICE, account)]
    assert stored.encode() not in _files_bytes(tmp_path)
    assert bytes.fromhex(stored) == database_key(tmp_path)


def test_a_key_kept_in_a_file_moves_into_a_keyring_that_appears(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        _tablet_with_a_customer(tmp_path).close()
    finally:
        keyring.set_keyring(previous)
    assert "no keyring on this system" in caplog.text
    key = (tmp_path / db_key.FALLBACK_FILE).read_text()

    vault = MemoryKeyring()
    keyring.set_keyring(vault)
    try:
        replica = Replica.open(tmp_path)
        assert replica.get("customers", "cust-1")["name"] == NAME
        assert list(vault.items.values()) == [key]
        assert not (tmp_path / db_key.FALLBACK_FILE).exists()
    finally:
        keyring.set_keyring(previous)


def test_a_lost_key_is_reported_and_no_new_one_is_made(tmp_path: Path) -> None:
    _tablet_with_a_customer(tmp_path).close()
    (tmp_path / db_key.FALLBACK_FILE).unlink()  # e.g. the system's credentials were cleared

    with pytest.raises(KeyMissing) as raised:
        Replica.open(tmp_path)
    assert raised.value.code == "database_key_missing"
    assert database_key(tmp_path, create=False) is None  # nothing made in its place
    [(code, detail)] = integrity.check(tmp_path).problems
    assert code == "database_unopenable"


def test_a_damaged_key_file_is_said(tmp_path: Path) -> None:
    _tablet_with_a_customer(tmp_path).close()
    (tmp_path / db_key.FALLBACK_FILE).write_text("not hex at all")
    with pytest.raises(KeyMissing) as raised:
        Replica.open(tmp_path)
    assert raised.value.code == "database_key_invalid"


def test_a_wrong_key_fails_at_once_with_its_own_error(tmp_path: Path) -> None:
    _tablet_with_a_customer(tmp_path).close()
    (tmp_path / db_key.FALLBACK_FILE).write_text("ab" * 32)
    with pytest.raises(store.WrongKey) as raised:
        Replica.open(tmp_path)
    assert raised.value.code == "database_key_wrong"


def test_forgetting_the_key_makes_the_data_unreadable(tmp_path: Path,
                                                      vault: MemoryKeyring) -> None:
    _tablet_with_a_customer(tmp_path).close()
    db_key.forget(tmp_path)
    assert vault.items == {}
    assert not (tmp_path / db_key.ID_FILE).exists()
    with pytest.raises(KeyMissing):
        Replica.open(tmp_path)


def test_photos_are_encrypted_too_and_bound_to_their_name(tmp_path: Path) -> None:
    from fieldapp.errors import InvalidInput

    replica = _tablet_with_a_customer(tmp_path / "tablet")
    Image.new("RGB", (640, 480), (20, 120, 200)).save(tmp_path / "meter.jpg")
    Image.new("RGB", (640, 480), (200, 20, 20)).save(tmp_path / "door.jpg")
    shas = [replica.get("attachments", replica.evidence.add_photo("job-1", tmp_path / name))
            ["sha256"] for name in ("meter.jpg", "door.jpg")]
    on_disk = [replica.evidence.blob_path(sha).read_bytes() for sha in shas]
    for raw, sha in zip(on_disk, shas, strict=True):
        assert raw.startswith(sealed.MAGIC) and b"JFIF" not in raw and b"Exif" not in raw
        content = replica.evidence.read_blob(sha)
        assert content[:2] == b"\xff\xd8" and hashlib.sha256(content).hexdigest() == sha

    # one photo's file put in place of the other's does not open as it
    replica.evidence.blob_path(shas[1]).write_bytes(on_disk[0])
    with pytest.raises(InvalidInput) as raised:
        replica.evidence.read_blob(shas[1])
    assert raised.value.code == "blob_damaged"
    replica.close()
    assert ("file_damaged", shas[1]) in integrity.check(tmp_path / "tablet").problems
    folder = integrity.rescue(tmp_path / "tablet")  # the intact one is rescued readable
    assert hashlib.sha256((folder / "files" / shas[0]).read_bytes()).hexdigest() == shas[0]

"""The key the tablet's replica is encrypted with: 32 random bytes made once per data
folder and kept in the operating system's keyring (Windows Credential Manager on the
tablets), never next to the database. A thief who copies the folder gets ciphertext.

    key = database_key(data_dir)                 # made on first use
    key = database_key(data_dir, create=False)   # None when this folder has no key
    forget(data_dir)                             # remote wipe: the key goes first

The keyring entry is named by a random id kept in the folder (``replica.keyid``), so
moving the folder keeps its key. Where no keyring exists the key falls back to a file in
the folder, with a warning, as the device token does: the data then stays readable by
whoever holds the folder, and the log says so.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from pathlib import Path

import keyring
from keyring.errors import KeyringError

from fieldapp.errors import FieldAppError
from fieldapp.replica.store import DB_FILE, is_plain
from fieldapp.sync.credentials import keyring_available

log = logging.getLogger("fieldapp.replica.db_key")
SERVICE = "FieldApp replica key"
ID_FILE = "replica.keyid"
FALLBACK_FILE = "replica.key"  # only on a system without a keyring
KEY_BYTES = 32


class KeyMissing(FieldAppError):
    """The replica is encrypted but its key is gone (keyring cleared, folder copied)."""


def database_key(data_dir: Path | str, *, create: bool = True) -> bytes | None:
    data_dir = Path(data_dir)
    account = _account(data_dir, create=create)
    if account is None:
        return None
    stored = _from_keyring(account) or _from_file(data_dir)
    if stored is not None:
        try:
            key = bytes.fromhex(stored)
        except ValueError:
            key = b""
        if len(key) != KEY_BYTES:
            raise KeyMissing("database_key_invalid", "the stored database key is not 32 bytes"
                             " of hex")
        _prefer_keyring(data_dir, account, stored)
        return key
    if not create:
        return None
    database = data_dir / DB_FILE
    if database.exists() and not is_plain(database):
        # A new key would only hide the loss: the data needs the old one.
        raise KeyMissing("database_key_missing",
                         "the database is encrypted and its key is not on this tablet")
    key = secrets.token_bytes(KEY_BYTES)
    _store(data_dir, account, key.hex())
    return key


def forget(data_dir: Path | str) -> None:
    """Delete the key wherever it is kept; what it encrypted can no longer be read."""
    data_dir = Path(data_dir)
    account = _account(data_dir, create=False)
    if account is not None and keyring_available():
        with contextlib.suppress(KeyringError):  # nothing stored there
            keyring.delete_password(SERVICE, account)
    for name in (FALLBACK_FILE, ID_FILE):
        (data_dir / name).unlink(missing_ok=True)


def _account(data_dir: Path, *, create: bool) -> str | None:
    id_file = data_dir / ID_FILE
    if id_file.exists():
        value = id_file.read_text("ascii").strip()
        if value:
            return value
    if not create:
        return None
    data_dir.mkdir(parents=True, exist_ok=True)
    value = "replica-" + secrets.token_hex(8)
    _write_durably(id_file, value)
    return value


def _from_keyring(account: str) -> str | None:
    if not keyring_available():
        return None
    try:
        return keyring.get_password(SERVICE, account)
    except KeyringError as exc:
        log.warning("keyring unreadable (%s); looking for the local key file", exc)
        return None


def _from_file(data_dir: Path) -> str | None:
    path = data_dir / FALLBACK_FILE
    return path.read_text("ascii").strip() if path.exists() else None


def _store(data_dir: Path, account: str, hex_key: str) -> None:
    if keyring_available():
        try:
            keyring.set_password(SERVICE, account, hex_key)
            return
        except KeyringError as exc:
            log.warning("keyring refused the database key (%s); keeping it in a file", exc)
    log.warning("no keyring on this system: the database key is kept in %s, next to the "
                "data, so the encryption does not protect a copied folder", FALLBACK_FILE)
    _write_durably(data_dir / FALLBACK_FILE, hex_key)


def _prefer_keyring(data_dir: Path, account: str, hex_key: str) -> None:
    """A key from the fallback file moves into a keyring that has appeared since."""
    path = data_dir / FALLBACK_FILE
    if not path.exists() or not keyring_available():
        return
    try:
        keyring.set_password(SERVICE, account, hex_key)
        if keyring.get_password(SERVICE, account) == hex_key:
            path.unlink()
    except KeyringError as exc:
        log.warning("database key left in its file: the keyring refused it (%s)", exc)


def _write_durably(path: Path, text: str) -> None:
    # The key must reach the disk before any data is encrypted with it.
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="ascii") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)

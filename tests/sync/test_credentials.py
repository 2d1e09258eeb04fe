"""The device token in the OS keyring, not in the replica; the replica only where there is
no keyring, and a token stored there before moves to the keyring at the next login."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from fieldapp.replica import Replica
from fieldapp.sync import credentials
from fieldapp.sync.credentials import TokenStore
from tests.memory_keyring import MemoryKeyring


def test_the_token_lives_in_the_keyring_not_the_replica(tmp_path: Path,
                                                         vault: MemoryKeyring) -> None:
    replica = Replica.open(tmp_path)
    replica.set_state(credentials.FALLBACK_KEY, "old-token")  # from before the keyring
    store = TokenStore(replica)
    assert store.get() == "old-token"
    store.set("new-token")
    assert vault.items[(credentials.SERVICE, replica.device_id)] == "new-token"
    assert replica.state(credentials.FALLBACK_KEY) is None
    db = (tmp_path / "replica.sqlite3").read_bytes()
    assert b"new-token" not in db and store.get() == "new-token"
    store.clear()
    assert (credentials.SERVICE, replica.device_id) not in vault.items and store.get() is None


def test_without_a_keyring_the_replica_keeps_it_with_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())  # what a system without any keyring has
    try:
        assert not credentials.keyring_available()
        store = TokenStore(Replica.open(tmp_path))
        store.set("token-1")
        assert store.get() == "token-1"
    finally:
        keyring.set_keyring(previous)
    assert "no keyring on this system" in caplog.text

"""The device token in the OS keyring, not in the replica; the replica only where there is
no keyring, and a token stored there before moves to the keyring at the next login."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from fieldapp.replica import Replica
from fieldapp.sync import credentials
from fieldapp.sync.credentials import TokenStore


class MemoryKeyring(KeyringBackend):
    """A real keyring backend kept in memory (the test machine has no keyring daemon).
    Below the "fail" backend, so keyring's own discovery never picks it for other tests."""

    priority = -1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


@pytest.fixture
def vault() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_the_token_lives_in_the_keyring_not_the_replica(tmp_path: Path,
                                                         vault: MemoryKeyring) -> None:
    replica = Replica.open(tmp_path)
    replica.set_state(credentials.FALLBACK_KEY, "old-token")  # from before the keyring
    store = TokenStore(replica)
    assert store.get() == "old-token"
    store.set("new-token")
    assert vault.items == {(credentials.SERVICE, replica.device_id): "new-token"}
    assert replica.state(credentials.FALLBACK_KEY) is None
    db = (tmp_path / "replica.sqlite3").read_bytes()
    assert b"new-token" not in db and store.get() == "new-token"
    store.clear()
    assert vault.items == {} and store.get() is None


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

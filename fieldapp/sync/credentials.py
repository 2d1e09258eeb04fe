"""Where the tablet keeps its device token: the operating system's keyring (Windows
Credential Manager on the rugged tablets), so the token is not in the replica file a thief
could copy; only where no keyring exists does it fall back to the replica, with a warning.

    store = TokenStore(replica)
    store.set(token); store.get(); store.clear()
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

import keyring
from keyring.backends import fail
from keyring.errors import KeyringError

if TYPE_CHECKING:
    from fieldapp.replica import Replica

log = logging.getLogger("fieldapp.credentials")
SERVICE = "FieldApp"
FALLBACK_KEY = "token"  # in the replica's local state, only without a keyring


def keyring_available() -> bool:
    """A real keyring: keyring's "fail" backend stands in when the system has none."""
    try:
        return not isinstance(keyring.get_keyring(), fail.Keyring)
    except Exception:  # a broken backend is no backend
        return False


class TokenStore:
    def __init__(self, replica: Replica) -> None:
        self.r = replica
        self.account = replica.device_id

    def get(self) -> str | None:
        if keyring_available():
            try:
                token = keyring.get_password(SERVICE, self.account)
            except KeyringError as exc:
                log.warning("keyring unreadable (%s); using the local copy", exc)
            else:
                if token:
                    return token
        return self.r.state(FALLBACK_KEY)  # a token from before the keyring, or no keyring

    def set(self, token: str) -> None:
        if keyring_available():
            try:
                keyring.set_password(SERVICE, self.account, token)
            except KeyringError as exc:
                log.warning("keyring refused the token (%s); keeping it locally", exc)
            else:
                self.r.set_state(FALLBACK_KEY, None)  # no copy left in the replica
                return
        log.warning("no keyring on this system: the device token is kept in the replica")
        self.r.set_state(FALLBACK_KEY, token)

    def clear(self) -> None:
        if keyring_available():
            with contextlib.suppress(KeyringError):  # nothing stored there
                keyring.delete_password(SERVICE, self.account)
        self.r.set_state(FALLBACK_KEY, None)

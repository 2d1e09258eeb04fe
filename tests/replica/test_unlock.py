"""Offline unlock: the last online password opens the app; wrong ones are free three times,
then wait longer each time, and ten lock the app until an online login."""

from __future__ import annotations

from pathlib import Path

from fieldapp.replica import Replica, unlock


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def replica_with(tmp_path: Path, password: str = "s3cret-pass") -> Replica:
    replica = Replica.open(tmp_path)
    unlock.remember(replica, password)
    return replica


def test_the_right_password_opens_and_the_hash_is_not_the_password(tmp_path: Path) -> None:
    replica = replica_with(tmp_path)
    assert unlock.check(replica, "s3cret-pass").ok
    stored = replica.state(unlock.HASH_KEY)
    assert stored.startswith("$argon2id$") and "s3cret-pass" not in stored


def test_wrong_passwords_wait_longer_then_lock(tmp_path: Path) -> None:
    replica, clock = replica_with(tmp_path), Clock()
    for n in range(unlock.FREE_TRIES - 1):
        assert unlock.check(replica, "guess", clock) == unlock.Attempt(
            False, failures=n + 1)
    third = unlock.check(replica, "guess", clock)
    assert (third.ok, third.wait_s) == (False, unlock.WAITS_S[0])
    # while waiting, even the right password is not tried
    early = unlock.check(replica, "s3cret-pass", clock)
    assert not early.ok and 0 < early.wait_s <= unlock.WAITS_S[0]
    clock.now += unlock.WAITS_S[0]
    assert unlock.check(replica, "s3cret-pass", clock).ok  # and the count starts again
    for _ in range(unlock.LOCK_AFTER):
        clock.now += 4000
        attempt = unlock.check(replica, "guess", clock)
    assert attempt.locked
    clock.now += 10 ** 6
    assert unlock.check(replica, "s3cret-pass", clock).locked  # only online now
    unlock.remember(replica, "s3cret-pass")  # what an online login does
    assert unlock.check(replica, "s3cret-pass", clock).ok


def test_a_tampered_count_or_no_hash_locks(tmp_path: Path) -> None:
    replica = replica_with(tmp_path)
    replica.set_state(unlock.FAILURES_KEY, "not json")
    assert unlock.check(replica, "s3cret-pass").locked
    fresh = Replica.open(tmp_path / "fresh")
    assert not unlock.can_unlock(fresh) and unlock.check(fresh, "anything").locked

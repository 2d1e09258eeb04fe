"""Tokens are refreshed without the password once half their life is gone, never before;
the token a refresh replaces keeps working until the new one is used, so a lost answer
locks nobody out; after that it is retired, and a retired token presented again (a copy
being replayed) ends every token of the device, visibly to the admin."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from fieldapp.errors import AuthError
from fieldapp.replica import Replica
from fieldapp.sync.client import TOKEN_ISSUED, TOKEN_NOT_BEFORE, SyncClient
from tests.conftest import ServerProcess, synced_tablet
from tests.server.test_conflict_review import office_session
from tests.world import PASSWORD


def pull_status(server: ServerProcess, token: str) -> tuple[int, str | None]:
    resp = requests.get(server.url + "/api/v1/sync/pull", timeout=10,
                        headers={"Authorization": f"Bearer {token}"})
    return resp.status_code, resp.json().get("error") if not resp.ok else None


def refresh(server: ServerProcess, token: str) -> requests.Response:
    return requests.post(server.url + "/api/v1/auth/refresh", timeout=10,
                         headers={"Authorization": f"Bearer {token}"})


def age_token(server: ServerProcess, device_id: str) -> None:
    """As if the device's current token had been issued long ago (past half-life)."""
    server.query("UPDATE devices SET issued_at = '2000-01-01T00:00:00+00:00'"
                 " WHERE device_id = ? RETURNING device_id", [device_id])


def age_on_tablet(replica: Replica) -> None:
    replica.set_state(TOKEN_ISSUED, "2000-01-01T00:00:00+00:00")


def test_a_refresh_before_half_life_is_refused_and_says_when(server: ServerProcess) -> None:
    login = requests.post(server.url + "/api/v1/auth/login", timeout=10, json={
        "username": "tech01", "password": PASSWORD, "device_id": "pad-early"}).json()
    issued = datetime.fromisoformat(login["issued_at"])
    assert datetime.fromisoformat(login["expires_at"]) - issued == timedelta(hours=1)
    before = server.query("SELECT token_hash, issued_at, expires_at FROM devices"
                          " WHERE device_id = 'pad-early'")
    early = refresh(server, login["token"])
    assert (early.status_code, early.json()["error"]) == (409, "refresh_too_early")
    assert datetime.fromisoformat(early.json()["detail"]["refresh_after"]) == \
        issued + timedelta(minutes=30)
    assert 0 < early.json()["detail"]["retry_after_s"] <= 30 * 60 + 1
    assert server.query("SELECT token_hash, issued_at, expires_at FROM devices"
                        " WHERE device_id = 'pad-early'") == before
    assert pull_status(server, login["token"]) == (200, None)

    age_token(server, "pad-early")
    fresh = refresh(server, login["token"])
    assert fresh.status_code == 200 and fresh.json()["token"] != login["token"]
    assert fresh.json()["issued_at"] >= login["issued_at"]


def test_the_tablet_refreshes_past_half_life_on_elapsed_time_whatever_its_clock(
        tmp_path: Path) -> None:
    """A tablet whose clock runs an hour fast still asks only once the server agrees: it
    measures the token's life from when it arrived, not against the server's times."""
    server = ServerProcess(tmp_path / "server", token_ttl=12)
    (tmp_path / "server").mkdir()
    server.seed_world()
    server.start()
    try:
        replica = Replica.open(tmp_path / "tablet")
        client = SyncClient(replica, server.url)
        client.login("tech01", PASSWORD)
        fast = timedelta(hours=1)
        arrived = datetime.now(UTC) + fast
        replica.set_state(TOKEN_ISSUED, arrived.isoformat())
        old = client.tokens.get()
        assert not client.refresh_if_due(now=datetime.now(UTC) + fast)
        # 55% of the token's life after it arrived (and 5.4 s before it expires)
        time.sleep(max(0.0, (arrived - fast + timedelta(seconds=6.7) - datetime.now(UTC))
                       .total_seconds()))
        assert client.refresh_if_due(now=datetime.now(UTC) + fast)
        assert replica.state(TOKEN_NOT_BEFORE) is None  # never refused on the way
        assert client.tokens.get() != old and pull_status(server, client.tokens.get())[0] == 200
    finally:
        server.stop()


def test_a_refusal_does_not_stop_the_sync(server: ServerProcess, tmp_path: Path) -> None:
    """Should a tablet ask too early (its clock jumped), the sync goes on with the token it
    holds and the tablet waits as long as the server said before asking again."""
    replica, client = synced_tablet(server, tmp_path / "tablet")
    held = client.tokens.get()
    age_on_tablet(replica)
    client.sync()
    assert client.tokens.get() == held
    not_before = datetime.fromisoformat(replica.state(TOKEN_NOT_BEFORE))
    assert timedelta(minutes=29) < not_before - datetime.now(UTC) <= timedelta(minutes=31)
    assert not client.refresh_if_due()  # not asked again meanwhile
    assert client.tokens.get() == held


def test_a_token_is_refreshed_at_half_life_and_a_replay_of_the_old_one_ends_the_login(
        server: ServerProcess, tmp_path: Path) -> None:
    replica, client = synced_tablet(server, tmp_path / "tablet")
    stolen = client.tokens.get()
    age_token(server, replica.device_id)
    age_on_tablet(replica)
    client.sync()  # refreshes first, then syncs with the new token
    new = client.tokens.get()
    assert new != stolen and pull_status(server, new) == (200, None)

    # The old token is retired; presented again it can only be a copy.
    assert pull_status(server, stolen) == (401, "token_reused")
    assert pull_status(server, new) == (401, "token_reused")  # the family is ended
    with pytest.raises(AuthError) as ended:
        client.sync()
    assert ended.value.code == "token_reused"
    assert replica.db.execute("SELECT count(*) FROM jobs").fetchone()[0] > 0  # not wiped

    admin = office_session(server, "admin")
    row = admin.get(server.url + "/office/users", timeout=10).text
    assert "旧令牌被再次使用（疑似被复制盗用）" in row
    assert server.scalar("SELECT ended_reason FROM devices WHERE device_id = ?",
                         [replica.device_id]) == "token_reused"

    client.login("tech01", PASSWORD)  # the technician logs in again: a new family
    client.sync()
    assert pull_status(server, stolen) == (401, "invalid_token")  # cannot end it again
    assert pull_status(server, client.tokens.get()) == (200, None)


def test_a_lost_refresh_answer_leaves_a_working_token(server: ServerProcess,
                                                      tmp_path: Path) -> None:
    replica, client = synced_tablet(server, tmp_path / "tablet")
    held = client.tokens.get()
    age_token(server, replica.device_id)
    lost = refresh(server, held).json()["token"]  # the answer never reached the tablet
    assert pull_status(server, held) == (200, None)
    age_on_tablet(replica)
    client.sync()  # refreshes again with the token it holds, then syncs with the new one
    current = client.tokens.get()
    assert current not in (held, lost) and pull_status(server, current) == (200, None)
    # Whoever caught the lost answer is found out the moment they use it.
    assert pull_status(server, lost) == (401, "token_reused")
    assert pull_status(server, current) == (401, "token_reused")


def test_a_revoked_device_cannot_refresh(server: ServerProcess, tmp_path: Path) -> None:
    from tests.sync.test_remote_wipe import revoke

    replica, client = synced_tablet(server, tmp_path / "tablet")
    age_token(server, replica.device_id)
    revoke(server, replica.device_id)
    resp = refresh(server, client.tokens.get())
    assert (resp.status_code, resp.json()["error"]) == (401, "device_revoked")

"""Tokens are refreshed without the password once half their life is gone; the token a
refresh replaces keeps working until the new one is used, so a lost answer locks nobody out."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import requests

from fieldapp.sync.client import TOKEN_EXPIRES, TOKEN_ISSUED
from tests.conftest import ServerProcess, synced_tablet


def pull_status(server: ServerProcess, token: str) -> tuple[int, str | None]:
    resp = requests.get(server.url + "/api/v1/sync/pull", timeout=10,
                        headers={"Authorization": f"Bearer {token}"})
    return resp.status_code, resp.json().get("error") if not resp.ok else None


def test_a_token_is_refreshed_at_half_life_and_the_old_one_retires(
        server: ServerProcess, tmp_path: Path) -> None:
    replica, client = synced_tablet(server, tmp_path / "tablet")
    old = client.tokens.get()
    issued = datetime.fromisoformat(replica.state(TOKEN_ISSUED))
    expires = datetime.fromisoformat(replica.state(TOKEN_EXPIRES))
    half = issued + (expires - issued) / 2
    assert not client.refresh_if_due(now=half - timedelta(seconds=5))
    assert client.tokens.get() == old

    assert client.refresh_if_due(now=half + timedelta(seconds=5))
    new = client.tokens.get()
    assert new != old and datetime.fromisoformat(replica.state(TOKEN_EXPIRES)) >= expires
    assert pull_status(server, old) == (200, None)  # until the new one is used
    client.sync()
    assert pull_status(server, old) == (401, "invalid_token")
    assert pull_status(server, new) == (200, None)


def test_a_lost_refresh_answer_leaves_a_working_token(server: ServerProcess,
                                                      tmp_path: Path) -> None:
    replica, client = synced_tablet(server, tmp_path / "tablet")
    held = client.tokens.get()
    lost = requests.post(server.url + "/api/v1/auth/refresh", timeout=10,
                         headers={"Authorization": f"Bearer {held}"}).json()["token"]
    assert pull_status(server, held) == (200, None)
    replica.set_state(TOKEN_ISSUED, "2020-01-01T00:00:00+08:00")  # long due
    client.sync()  # refreshes with the token it holds, then syncs with the new one
    assert client.tokens.get() not in (held, lost)
    assert pull_status(server, lost) == (401, "invalid_token")
    assert pull_status(server, held) == (401, "invalid_token")


def test_a_revoked_device_cannot_refresh(server: ServerProcess, tmp_path: Path) -> None:
    from tests.sync.test_remote_wipe import revoke

    replica, client = synced_tablet(server, tmp_path / "tablet")
    revoke(server, replica.device_id)
    resp = requests.post(server.url + "/api/v1/auth/refresh", timeout=10,
                         headers={"Authorization": f"Bearer {client.tokens.get()}"})
    assert (resp.status_code, resp.json()["error"]) == (401, "device_revoked")

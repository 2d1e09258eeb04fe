"""Password guessing is slowed to a stop, on the tablet login and the back office alike;
pages carry security headers."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from fieldapp.errors import ServerRejected
from fieldapp.replica import Replica
from fieldapp.sync.client import SyncClient
from fieldapp.ui.messages import describe
from tests.conftest import ServerProcess
from tests.server.test_conflict_review import sign_in
from tests.world import PASSWORD


def tablet_login(server: ServerProcess, username: str, password: str) -> requests.Response:
    return requests.post(server.url + "/api/v1/auth/login", timeout=30, json={
        "username": username, "password": password, "device_id": "pad-guess"})


def test_five_wrong_passwords_lock_the_user_for_a_while(server: ServerProcess):
    assert tablet_login(server, "tech01", "wrong-1").status_code == 401
    assert tablet_login(server, "tech01", PASSWORD).status_code == 200  # clears the count
    for n in range(5):
        assert tablet_login(server, "tech01", f"wrong-{n}").status_code == 401
    locked = tablet_login(server, "tech01", PASSWORD)  # even the right one, for now
    assert (locked.status_code, locked.json()["error"]) == (429, "too_many_attempts")
    assert "15 minutes" in locked.json()["message"]
    assert tablet_login(server, "tech02", PASSWORD).status_code == 200  # others are not
    office = sign_in(requests.Session(), server.url, "tech01", PASSWORD)
    assert office.status_code == 429 and "密码错误次数过多" in office.text
    assert server.scalar("SELECT count(*) FROM login_failures WHERE username = 'tech01'") == 5


def test_pages_carry_security_headers(server: ServerProcess):
    page = requests.get(server.url + "/office/login", timeout=10)
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "script-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    api = requests.get(server.url + "/api/v1/health", timeout=10)
    assert api.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in api.headers


def test_the_tablet_says_why_it_cannot_log_in(server: ServerProcess, tmp_path: Path):
    for n in range(5):
        tablet_login(server, "tech01", f"wrong-{n}")
    client = SyncClient(Replica.open(tmp_path / "tablet"), server.url)
    with pytest.raises(ServerRejected) as refused:
        client.login("tech01", PASSWORD)
    assert refused.value.code == "too_many_attempts"
    assert describe(refused.value) == "密码错误次数过多，请 15 分钟后再试"

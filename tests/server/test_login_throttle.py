"""Password guessing is slowed to a stop, on the tablet login and the back office alike;
pages carry security headers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from fieldapp.errors import ServerRejected
from fieldapp.replica import Replica
from fieldapp.sync.client import SyncClient
from fieldapp.ui.i18n.messages import describe
from tests.conftest import ServerProcess
from tests.server.test_conflict_review import sign_in
from tests.world import PASSWORD


def tablet_login(server: ServerProcess, username: str, password: str) -> requests.Response:
    return requests.post(server.url + "/api/v1/auth/login", timeout=30, json={
        "username": username, "password": password, "device_id": "pad-guess-" + username})


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


def test_parallel_wrong_passwords_never_get_past_the_limit(server: ServerProcess):
    """Each attempt reserves its failure before its password is checked, so twenty at once
    check exactly five passwords."""
    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(lambda n: tablet_login(server, "tech01", f"wrong-{n}")
                              .status_code, range(20)))
    assert sorted(codes) == [401] * 5 + [429] * 15
    assert server.scalar("SELECT count(*) FROM login_failures") == 5


def from_address(server: ServerProcess, address: str, username: str,
                 password: str) -> requests.Response:
    """A login as if from ``address`` (the test client is the trusted proxy, 127.0.0.1)."""
    return requests.post(server.url + "/api/v1/auth/login", timeout=30,
                         headers={"X-Forwarded-For": address}, json={
                             "username": username, "password": password,
                             "device_id": "pad-" + username})


def test_an_attacker_cannot_lock_a_user_out_of_their_own_address(server: ServerProcess):
    attacker, own = "203.0.113.7", "198.51.100.2"
    for n in range(5):
        assert from_address(server, attacker, "admin", f"guess-{n}").status_code == 401
    assert from_address(server, attacker, "admin", PASSWORD).status_code == 429
    assert from_address(server, own, "admin", PASSWORD).status_code == 200
    office = sign_in(requests.Session(), server.url, "admin", PASSWORD,
                     headers={"X-Forwarded-For": own}, allow_redirects=False)
    assert office.status_code == 303
    # One address guessing many accounts stops at its own cap…
    for n in range(15):
        assert from_address(server, attacker, f"user{n}", "guess").status_code == 401
    assert from_address(server, attacker, "tech02", PASSWORD).status_code == 429
    assert from_address(server, own, "tech02", PASSWORD).status_code == 200
    assert server.scalar("SELECT count(*) FROM login_failures WHERE client = ?",
                         [attacker]) == 20


def test_a_spread_out_attack_meets_the_per_user_cap(server: ServerProcess):
    """Only many addresses together lock an account everywhere (50 failures in 15 min)."""
    for n in range(50):
        assert from_address(server, f"203.0.113.{n}", "tech01", "guess").status_code == 401
    assert from_address(server, "198.51.100.2", "tech01", PASSWORD).status_code == 429
    assert from_address(server, "198.51.100.2", "tech02", PASSWORD).status_code == 200


@pytest.fixture
def counted(tmp_path: Path) -> Iterator[tuple[ServerProcess, Path]]:
    """A server that notes every argon2 password check in a file."""
    checks = tmp_path / "password-checks"
    proc = ServerProcess(tmp_path)
    proc.seed_world()
    proc.start(FIELDAPP_PASSWORD_CHECKS=str(checks))
    yield proc, checks
    proc.discard()


def test_an_unknown_user_costs_the_same_password_check(counted):
    server, checks = counted
    answers = [tablet_login(server, "nobody", "x").json() for _ in range(3)]
    assert len(checks.read_text().splitlines()) == 3
    answers += [tablet_login(server, "tech01", "x").json() for _ in range(3)]
    assert len(checks.read_text().splitlines()) == 6  # one argon2 verification each
    assert all(a == answers[0] for a in answers)  # and one answer for both
    sign_in(requests.Session(), server.url, "ghost", "x")
    assert len(checks.read_text().splitlines()) == 7


def test_a_push_does_not_wait_for_a_password_check(tmp_path: Path):
    """argon2 runs outside any write transaction: with a password check held open (until a
    file appears), a push goes through. Were the check inside the write lock, the push
    would wait for the file, which only appears after it."""
    from tests.server.test_sync_api import login, push

    gate = tmp_path / "gate-open"
    server = ServerProcess(tmp_path)
    server.seed_world()
    server.start(FIELDAPP_PASSWORD_GATE=str(gate))
    try:
        gate.touch()
        headers = login(server, "tech01", "pad-1")
        gate.unlink()
        with ThreadPoolExecutor(1) as pool:
            held = pool.submit(tablet_login, server, "tech02", "wrong")
            deadline = time.monotonic() + 20  # the attempt has reserved its failure
            while not server.scalar("SELECT count(*) FROM login_failures") \
                    and time.monotonic() < deadline:
                time.sleep(0.05)
            pushed = push(server, headers, "pad-1", [], batch_id="while-checking")
            assert pushed.status_code == 200, pushed.text
            assert not held.done()  # the password check is still held open
            gate.touch()
            assert held.result().status_code == 401
        assert server.scalar("SELECT count(*) FROM batches WHERE batch_id = 'while-checking'")
    finally:
        server.stop()

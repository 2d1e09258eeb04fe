"""Back-office sessions are not device tokens; a password reset or a disabled account ends
every login of that account at once; a device id belongs to the account that first
registered it."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from fieldapp.errors import AuthError, ServerRejected
from fieldapp.ui.i18n.messages import describe
from tests.conftest import ServerProcess, synced_tablet
from tests.server.test_conflict_review import csrf, office_session, sign_in
from tests.server.test_sync_api import login
from tests.world import PASSWORD

NEW_PASSWORD = "a-new-password-1"


def bearer(server: ServerProcess, method: str, path: str, token: str) -> tuple[int, str]:
    resp = requests.request(method, server.url + path, timeout=10,
                            headers={"Authorization": f"Bearer {token}"})
    return resp.status_code, resp.json().get("error", "") if not resp.ok else ""


def signed_in(session: requests.Session, server: ServerProcess) -> bool:
    page = session.get(server.url + "/office/", timeout=10, allow_redirects=False)
    return page.status_code == 200


def users_form(admin: requests.Session, server: ServerProcess, action: str,
               **fields: str) -> str:
    page = admin.get(server.url + "/office/users", timeout=10).text
    done = admin.post(server.url + action, timeout=30, data={"csrf": csrf(page), **fields})
    assert done.status_code == 200, done.text
    return done.text


def test_a_session_opens_the_office_only_and_is_never_refreshed(server: ServerProcess,
                                                                 tmp_path: Path) -> None:
    office = office_session(server, "dispatcher")
    cookie = office.cookies["fieldapp_office"]
    assert server.scalar("SELECT kind FROM devices WHERE token_hash IS NOT NULL"
                         " AND username = 'dispatcher'") == "session"
    server.query("UPDATE devices SET issued_at = '2000-01-01T00:00:00+00:00'"
                 " WHERE username = 'dispatcher' RETURNING device_id")  # long past half-life
    for method, path in [("POST", "/api/v1/auth/refresh"), ("GET", "/api/v1/sync/pull"),
                         ("POST", "/api/v1/sync/push")]:
        assert bearer(server, method, path, cookie) == (401, "session_token"), path
    assert signed_in(office, server)  # still a working office session, unchanged
    assert server.scalar("SELECT count(*) FROM devices WHERE username = 'dispatcher'") == 1

    # …and a device token does not open the office as a cookie.
    device = login(server, "dispatcher", "pad-disp")["Authorization"].removeprefix("Bearer ")
    forged = requests.Session()
    forged.cookies.set("fieldapp_office", device)
    assert not signed_in(forged, server)


@pytest.mark.parametrize("how", ["password", "disable"])
def test_a_reset_or_disable_ends_every_login_of_the_account(
        server: ServerProcess, tmp_path: Path, how: str) -> None:
    replica, tablet = synced_tablet(server, tmp_path / "tablet", "tech02")
    jobs = replica.db.execute("SELECT count(*) FROM jobs").fetchone()[0]
    token = tablet.tokens.get()
    other_tablet = login(server, "tech02", "pad-spare")["Authorization"].removeprefix("Bearer ")
    dispatcher = office_session(server, "dispatcher")  # another account: untouched
    bystander = synced_tablet(server, tmp_path / "bystander", "tech01")[1]
    admin = office_session(server, "admin")
    if how == "password":
        page = users_form(admin, server, "/office/users/tech02/password", password=NEW_PASSWORD)
        assert "2 个登录已失效" in page
        code = "password_reset"
    else:
        page = users_form(admin, server, "/office/users/tech02/active", active="0")
        assert "2 个登录已失效" in page
        users_form(admin, server, "/office/users/tech02/active", active="1")
        code = "login_ended"  # enabling the account again does not bring them back
    for t in (token, other_tablet):
        assert bearer(server, "GET", "/api/v1/sync/pull", t) == (401, code)
    with pytest.raises(AuthError) as ended:
        tablet.sync()
    assert ended.value.code == code
    assert replica.db.execute("SELECT count(*) FROM jobs").fetchone()[0] == jobs  # kept
    assert signed_in(dispatcher, server) and signed_in(admin, server)
    bystander.sync()

    password = NEW_PASSWORD if how == "password" else PASSWORD
    if how == "password":
        with pytest.raises(AuthError):
            tablet.login("tech02", PASSWORD)
    tablet.login("tech02", password)
    tablet.sync()


def test_a_reset_ends_the_accounts_office_sessions_too(server: ServerProcess) -> None:
    supervisor = office_session(server, "supervisor")
    admin = office_session(server, "admin")
    users_form(admin, server, "/office/users/supervisor/password", password=NEW_PASSWORD)
    assert not signed_in(supervisor, server)
    again = requests.Session()
    page = sign_in(again, server.url, "supervisor", NEW_PASSWORD)
    assert page.status_code == 200 and signed_in(again, server)


def test_a_device_id_belongs_to_the_account_that_registered_it(server: ServerProcess,
                                                               tmp_path: Path) -> None:
    replica, tablet = synced_tablet(server, tmp_path / "tablet", "tech01")
    taken = requests.post(server.url + "/api/v1/auth/login", timeout=10, json={
        "username": "tech02", "password": PASSWORD, "device_id": replica.device_id})
    assert (taken.status_code, taken.json()["error"]) == (403, "device_taken")
    assert server.scalar("SELECT username FROM devices WHERE device_id = ?",
                         [replica.device_id]) == "tech01"
    tablet.sync()  # the owner's token was not touched
    with pytest.raises(ServerRejected) as refused:  # the tablet says why, in words
        tablet.login("tech02", PASSWORD)
    assert describe(refused.value) == "本平板已登记在其他账号名下，请联系管理员"
    # an office session cannot be taken over by naming its id either
    office_session(server, "admin")
    web = server.scalar("SELECT device_id FROM devices WHERE username = 'admin'")
    assert requests.post(server.url + "/api/v1/auth/login", timeout=10, json={
        "username": "admin", "password": PASSWORD,
        "device_id": web}).json()["error"] == "device_taken"
    # the same account on its own device is fine, and a revoked device stays refused
    tablet.login("tech01", PASSWORD)
    from tests.sync.test_remote_wipe import revoke

    revoke(server, replica.device_id)
    again = requests.post(server.url + "/api/v1/auth/login", timeout=10, json={
        "username": "tech01", "password": PASSWORD, "device_id": replica.device_id})
    assert (again.status_code, again.json()["error"]) == (403, "device_revoked")


def test_an_admin_hands_a_tablet_on_to_another_technician(server: ServerProcess,
                                                          tmp_path: Path) -> None:
    replica, tablet = synced_tablet(server, tmp_path / "tablet", "tech01")
    admin = office_session(server, "admin")
    page = users_form(admin, server, f"/office/devices/{replica.device_id}/release")
    assert "已解除绑定" in page
    assert bearer(server, "GET", "/api/v1/sync/pull", tablet.tokens.get()) == \
        (401, "device_released")
    replica.jobs.transition("job-1", "accepted")  # tech01 left work unsent
    with pytest.raises(AuthError) as pending:
        tablet.login("tech02", PASSWORD)
    assert pending.value.code == "other_user_pending"
    assert server.scalar("SELECT username FROM devices WHERE device_id = ?",
                         [replica.device_id]) == "tech01"  # asked before the server was
    tablet.login("tech01", PASSWORD)  # the released tablet lets its last user send it
    tablet.sync()
    users_form(admin, server, f"/office/devices/{replica.device_id}/release")
    tablet.login("tech02", PASSWORD)
    tablet.sync()
    assert server.scalar("SELECT username FROM devices WHERE device_id = ?",
                         [replica.device_id]) == "tech02"
    taken = requests.post(server.url + "/api/v1/auth/login", timeout=10, json={
        "username": "tech01", "password": PASSWORD, "device_id": replica.device_id})
    assert taken.json()["error"] == "device_taken"  # bound again, to its new account

"""Remote wipe: a revoked tablet hands in everything it holds (files, changes, and the
changes the server refused), then erases its data and confirms; until then it is refused
everything else, and after that everything."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from PIL import Image

from fieldapp.errors import AuthError, ServerUnreachable, WipeRequested
from fieldapp.replica import Replica, db_key, wipe
from fieldapp.sync.credentials import TokenStore
from fieldapp.ui import ops
from tests.conftest import ServerProcess, synced_tablet
from tests.server.test_sync_api import login


def revoke(server: ServerProcess, device_id: str) -> None:
    admin = login(server, "admin", "office-admin")
    resp = requests.post(f"{server.url}/api/v1/admin/devices/{device_id}/revoke",
                         headers=admin, timeout=10)
    assert resp.status_code == 200, resp.text


def test_a_revoked_tablet_hands_in_its_work_then_erases(server: ServerProcess,
                                                        tmp_path: Path) -> None:
    data = tmp_path / "tablet"
    replica, client = synced_tablet(server, data)
    device, token = replica.device_id, TokenStore(replica).get()
    replica.jobs.transition("job-1", "accepted")
    Image.new("RGB", (640, 480), (180, 90, 30)).save(tmp_path / "door.jpg")
    attachment = replica.evidence.add_photo("job-1", tmp_path / "door.jpg")
    sha = replica.get("attachments", attachment)["sha256"]
    replica.update("customers", "cust-1", {"address": "改过的地址"})  # refused: not a tech's
    client.sync()
    assert replica.outbox.counts()["rejected"] == 1
    replica.jobs.transition("job-1", "en_route")  # made after the revocation, offline
    revoke(server, device)

    with pytest.raises(WipeRequested) as raised:
        client.sync()
    assert raised.value.params["kept"] == 1
    assert server.scalar("SELECT status FROM jobs WHERE id = 'job-1'") == "en_route"
    assert server.scalar("SELECT count(*) FROM blobs WHERE sha256 = ?", [sha]) == 1
    [kept] = server.query("SELECT field, preserved, reason, preserved_device FROM conflicts"
                          " WHERE reason LIKE 'handed_in:%'")
    assert kept == {"field": "address", "preserved": '"改过的地址"',
                    "reason": "handed_in:forbidden", "preserved_device": device}
    assert server.scalar("SELECT wiped_at FROM devices WHERE device_id = ?", [device])

    assert ops.erase_tablet(replica) == []
    assert sorted(p.name for p in data.iterdir()) == []
    assert db_key.database_key(data, create=False) is None
    fresh = Replica.open(data)  # a new, empty tablet
    assert fresh.device_id != device and fresh.session is None
    assert fresh.db.execute("SELECT count(*) FROM jobs").fetchone()[0] == 0
    # the old token is dead everywhere now, pushing included
    for method, path in (("GET", "/api/v1/sync/pull"), ("GET", f"/api/v1/attachments/{sha}"),
                         ("POST", "/api/v1/device/wiped")):
        resp = requests.request(method, server.url + path, timeout=10, json={},
                                headers={"Authorization": f"Bearer {token}"})
        assert (resp.status_code, resp.json()["error"]) == (401, "device_revoked"), path


def test_work_that_cannot_be_sent_keeps_the_data(server: ServerProcess,
                                                 tmp_path: Path) -> None:
    replica, client = synced_tablet(server, tmp_path / "tablet")
    revoke(server, replica.device_id)
    replica.jobs.transition("job-1", "accepted")
    server.kill()  # the connection drops before the push
    with pytest.raises(ServerUnreachable):
        client.sync()
    assert replica.outbox.counts()["pending"] > 0

    # a blob the server will not take keeps the tablet from erasing itself too
    server.start()
    replica.db.execute("INSERT INTO blobs(sha256, size, uploaded, created_at)"
                       " VALUES (?, 1, 0, '2026-11-29')", ["f" * 64])
    replica.db.conn.commit()
    with pytest.raises(Exception) as raised:
        client.sync()
    assert not isinstance(raised.value, WipeRequested)
    assert server.scalar("SELECT status FROM jobs WHERE id = 'job-1'") == "dispatched"
    replica.db.execute("DELETE FROM blobs WHERE uploaded = 0")
    replica.db.conn.commit()
    with pytest.raises(WipeRequested):
        client.sync()
    assert server.scalar("SELECT status FROM jobs WHERE id = 'job-1'") == "accepted"


def test_work_made_after_the_wipe_was_confirmed_is_kept_and_counted(
        server: ServerProcess, tmp_path: Path) -> None:
    """The tablet confirmed, then died before erasing and was used offline: that work can
    no longer be sent, so the data stays and the technician is told how much."""
    replica, client = synced_tablet(server, tmp_path / "tablet")
    revoke(server, replica.device_id)
    confirmed = requests.post(server.url + "/api/v1/device/wiped", json={}, timeout=10,
                              headers={"Authorization": f"Bearer {TokenStore(replica).get()}"})
    assert confirmed.json()["wiped"] is True
    replica.jobs.transition("job-1", "accepted")
    with pytest.raises(AuthError) as raised:
        client.sync()
    pending = replica.outbox.counts()["pending"]
    assert (raised.value.code, raised.value.params["unsent"]) == ("device_revoked_unsent",
                                                                  pending)
    assert replica.jobs.get("job-1")["status"] == "accepted"


def test_an_erase_cut_short_finishes_at_the_next_start(tmp_path: Path) -> None:
    from fieldapp.ui.app import finish_wipe

    replica = Replica.open(tmp_path)
    replica.close()
    (tmp_path / wipe.MARKER).write_text("erase\n")
    (tmp_path / "notes-of-the-user.txt").write_text("not ours")
    finish_wipe(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes-of-the-user.txt"]


def test_a_device_that_is_not_revoked_cannot_say_it_was_wiped(server: ServerProcess) -> None:
    tech = login(server, "tech01", "pad-1")
    resp = requests.post(server.url + "/api/v1/device/wiped", json={}, headers=tech,
                         timeout=10)
    assert (resp.status_code, resp.json()["error"]) == (403, "device_not_revoked")
    assert server.scalar("SELECT wiped_at FROM devices WHERE device_id = 'pad-1'") is None


def test_the_users_page_revokes_and_shows_the_wipe(server: ServerProcess,
                                                   tmp_path: Path) -> None:
    from tests.server.test_conflict_review import csrf, office_session

    replica, client = synced_tablet(server, tmp_path / "tablet")
    admin = office_session(server, "admin")
    page = admin.get(server.url + "/office/users", timeout=30).text
    assert "停用并清除设备" in page and "停用会话" in page  # a tablet; the admin's browser
    revoked = admin.post(f"{server.url}/office/devices/{replica.device_id}/revoke",
                         data={"csrf": csrf(page)}, timeout=30)
    assert "先上传未上传的工作，然后清除本机数据" in revoked.text
    assert "等待联网清除本机数据" in revoked.text
    with pytest.raises(WipeRequested):
        client.sync()
    assert "本机数据已清除" in admin.get(server.url + "/office/users", timeout=30).text

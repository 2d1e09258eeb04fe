"""Every admin and security action is an entry of the audit chain, made through the real
pages and API: accounts created, disabled, enabled, passwords reset, devices revoked (office
page and API), a revoked tablet's wipe, rule edits, office sign-ins (refused ones too) and
sign-outs, alert acknowledgements. The audit page shows them in Chinese; no pull (a
technician's or an office account's) ever carries one, and the chain still holds."""

from __future__ import annotations

import json
import time

import requests

from fieldapp.records import TABLES
from fieldapp.wire import PROTOCOL_VERSION
from tests.conftest import ServerProcess
from tests.server.test_conflict_review import csrf, office_session, sign_in
from tests.server.test_sync_api import login
from tests.world import PASSWORD


def security_log(server: ServerProcess) -> list[tuple[str, str, str]]:
    return [(r["op"], r["record_id"], r["by_user"]) for r in server.query(
        "SELECT op, record_id, by_user FROM changes WHERE tbl = 'security' ORDER BY seq")]


def pull_all(server: ServerProcess, headers: dict[str, str]) -> list[dict]:
    changes, cursor, more = [], 0, True
    while more:
        page = requests.get(f"{server.url}/api/v1/sync/pull", headers=headers, timeout=30,
                            params={"cursor": cursor, "limit": 200})
        assert page.status_code == 200, page.text
        body = page.json()
        changes += body["changes"]
        cursor, more = body["cursor"], body["more"]
    return changes


def test_every_admin_and_security_action_is_in_the_chain(server: ServerProcess) -> None:
    server.stop()
    server.start(FIELDAPP_ALERT_SCAN_S="0.3")  # the server raises alerts (and anchors) itself
    deadline = time.monotonic() + 15
    while server.scalar("SELECT count(*) FROM alerts") < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    alert_id = server.scalar("SELECT min(id) FROM alerts")
    assert alert_id is not None

    refused = sign_in(requests.Session(), server.url, "admin", "not-the-password")
    assert refused.status_code == 401
    admin = office_session(server, "admin")
    page = admin.get(f"{server.url}/office/users", timeout=10).text
    token = csrf(page)
    made = admin.post(f"{server.url}/office/users", timeout=10, data={
        "csrf": token, "username": "tech09", "display_name": "周八", "role": "technician",
        "district": "秦淮区", "password": "初始密码12345", "skills": ["inspection"]})
    assert "已创建用户 tech09" in made.text
    for active in ("0", "1"):
        admin.post(f"{server.url}/office/users/tech09/active", timeout=10,
                   data={"csrf": token, "active": active})
    reset = admin.post(f"{server.url}/office/users/tech09/password", timeout=10,
                       data={"csrf": token, "password": "另一个密码67890"})
    assert "已重设 tech09 的密码" in reset.text

    tablet = login(server, "tech01", "pad-7")
    login(server, "tech02", "pad-8")
    assert "设备 pad-7 已停用" in admin.post(f"{server.url}/office/devices/pad-7/revoke",
                                          timeout=10, data={"csrf": token}).text
    supervisor_api = login(server, "supervisor", "sup-api")
    assert requests.post(f"{server.url}/api/v1/admin/devices/pad-8/revoke", timeout=10,
                         headers=supervisor_api).status_code == 200
    wiped = requests.post(f"{server.url}/api/v1/device/wiped", json={}, timeout=10,
                          headers={**tablet, "X-FieldApp-Protocol": str(PROTOCOL_VERSION)})
    assert wiped.json()["wiped"] is True

    rules_page = admin.get(f"{server.url}/office/rules", timeout=10).text
    saved = admin.post(f"{server.url}/office/rules/rule-abnormal-usage", timeout=10, data={
        "csrf": csrf(rules_page), "name": "用量异常提醒", "condition": "${ratio} > 5",
        "text": "{customer_name} 用量异常", "enabled": "on"})
    assert "已保存" in saved.text
    supervisor = office_session(server, "supervisor")
    alerts_page = supervisor.get(f"{server.url}/office/alerts", timeout=10).text
    supervisor.post(f"{server.url}/office/alerts/{alert_id}/ack", timeout=10,
                    data={"csrf": csrf(alerts_page)})
    admin.post(f"{server.url}/office/logout", timeout=10, data={"csrf": token})

    # The server's own: the alert reached level 1 of its escalation chain as it was raised.
    assert ("alert_escalated", str(alert_id), "system") in security_log(server)
    assert [e for e in security_log(server) if e[0] != "alert_escalated"] == [
        ("sign_in_failed", "admin", "admin"), ("sign_in", "admin", "admin"),
        ("user_created", "tech09", "admin"), ("user_disabled", "tech09", "admin"),
        ("user_enabled", "tech09", "admin"), ("password_reset", "tech09", "admin"),
        ("device_revoked", "pad-7", "admin"), ("device_revoked", "pad-8", "supervisor"),
        ("device_wiped", "pad-7", "tech01"), ("rule_changed", "rule-abnormal-usage", "admin"),
        ("sign_in", "supervisor", "supervisor"),
        ("alert_acknowledged", str(alert_id), "supervisor"), ("sign_out", "admin", "admin")]
    details = " ".join(r["fields"] for r in server.query(
        "SELECT fields FROM changes WHERE tbl = 'security'"))
    assert "初始密码" not in details and "另一个密码" not in details and PASSWORD not in details
    assert json.loads(server.query("SELECT fields FROM changes WHERE op = 'sign_in_failed'")[0]
                      ["fields"]) == {"client": "127.0.0.1", "reason": "bad_credentials"}

    shown = supervisor.get(f"{server.url}/office/audit", timeout=10,
                           params={"table": "security"}).text
    for words in ("后台登录失败", "原因：用户名或密码错误", "创建用户", "角色：安检员",
                  "区域：秦淮区", "技能：安检", "停用账号", "启用账号", "重设密码",
                  "途径：后台页面", "途径：接口", "设备已清除数据", "修改规则",
                  "条件：${ratio} &gt; 5", "确认提醒", "后台退出", "安全与管理"):
        assert words in shown, words
    assert shown.count("<tr>") == 1 + len(security_log(server))
    assert "哈希链无断点" in shown

    # Nothing that reads the change log for syncing sees them: a technician's pull from the
    # start, an office account's pull, the KPIs; and the chain still holds over them.
    technician = pull_all(server, login(server, "tech01", "pad-9"))
    office = pull_all(server, login(server, "dispatcher", "office-9"))
    assert technician and office
    assert {c["table"] for c in technician + office} <= set(TABLES)
    assert not {"tech09", "pad-7", "rule-abnormal-usage"} & {c["record_id"] for c in technician}
    assert supervisor.get(f"{server.url}/office/kpis", timeout=10).status_code == 200
    assert "哈希链无断点" in supervisor.get(f"{server.url}/office/audit", timeout=10,
                                       params={"check": "1"}).text

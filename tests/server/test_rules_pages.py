"""规则 and 回访 over HTTP: a repair completed on a tablet is texted to the customer and
turns into a follow-up call; the call made closes the job as 已回访 on the tablet too; only
an admin edits a rule, and a wrong condition is refused in words."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, synced_tablet
from tests.reports.reportkit import repair_done
from tests.server.test_conflict_review import csrf, office_session


def wait_for(server: ServerProcess, sql: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not server.scalar(sql) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.scalar(sql), sql


@pytest.mark.server_env(FIELDAPP_ALERT_SCAN_S="0.3")
def test_a_repair_done_on_a_tablet_is_texted_called_back_and_closed(server: ServerProcess,
                                                                   tmp_path: Path):
    replica, client = synced_tablet(server, tmp_path / "tech02", "tech02")
    repair_done(replica, "job-3", tmp_path)
    client.sync()
    wait_for(server, "SELECT count(*) FROM tasks")
    wait_for(server, "SELECT count(*) FROM notifications WHERE status = 'sent'")

    office = office_session(server, "dispatcher")
    page = office.get(f"{server.url}/office/tasks", timeout=10).text
    assert "回访 周强（工单 GD202611240003）" in page
    task_id = server.scalar("SELECT id FROM tasks")
    empty = office.post(f"{server.url}/office/tasks/{task_id}/done", timeout=10,
                        data={"csrf": csrf(page), "outcome": " "})
    assert "请填写回访结果" in empty.text
    done = office.post(f"{server.url}/office/tasks/{task_id}/done", timeout=10,
                       data={"csrf": csrf(page), "outcome": "用户满意，灶具使用正常"})
    assert done.status_code == 200 and 'id="no-tasks"' in done.text
    assert "用户满意，灶具使用正常" in done.text

    client.sync()
    assert replica.get("jobs", "job-3")["status"] == "followed_up"
    assert [h["to_status"] for h in replica.jobs.history("job-3")][-1] == "followed_up"
    rules_page = office.get(f"{server.url}/office/rules", timeout=10).text
    assert "已发送" in rules_page and "周强" in rules_page
    assert "仅写入日志" in rules_page  # no gateway configured: nothing left the building


def test_only_an_admin_edits_a_rule_and_a_wrong_one_is_refused(server: ServerProcess):
    dispatcher = office_session(server, "dispatcher")
    page = dispatcher.get(f"{server.url}/office/rules", timeout=10).text
    assert "完工短信通知" in page and 'action="/office/rules/' not in page
    refused = dispatcher.post(f"{server.url}/office/rules/rule-completed-sms", timeout=10,
                              data={"csrf": csrf(page), "name": "x", "condition": ""})
    assert "只有管理员可以修改规则" in refused.text

    admin = office_session(server, "admin")
    page = admin.get(f"{server.url}/office/rules", timeout=10).text
    wrong = admin.post(f"{server.url}/office/rules/rule-abnormal-usage", timeout=10, data={
        "csrf": csrf(page), "name": "用量异常提醒", "condition": "${ratio} >> 3",
        "text": "{customer_name} 用量异常", "enabled": "on"})
    assert "未保存" in wrong.text and "条件写法有误" in wrong.text
    assert server.scalar("SELECT condition FROM rules WHERE id = 'rule-abnormal-usage'") == \
        "${daily_use} = 0 or ${expected_ratio} > 3"
    saved = admin.post(f"{server.url}/office/rules/rule-abnormal-usage", timeout=10, data={
        "csrf": csrf(page), "name": "用量异常提醒", "condition": "${ratio} > 5",
        "text": "{customer_name} 用量是以往的 {ratio} 倍"})  # unchecked: switched off
    assert "已保存" in saved.text
    row = server.query("SELECT condition, enabled, updated_by FROM rules"
                       " WHERE id = 'rule-abnormal-usage'")[0]
    assert row == {"condition": "${ratio} > 5", "enabled": 0, "updated_by": "admin"}

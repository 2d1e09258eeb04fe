"""规则编辑 over HTTP and in Chromium: an admin picks an event and an action, builds the
condition from rows, previews what it matches today (nothing fired), saves it switched
off, edits it into a second version; wrong rows, wrong roles, made-up events and absurd
values are refused in words and save nothing. The editor's screenshot is written to
docs/screenshots/backoffice_rule_editor.png."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import requests

from tests.conftest import ServerProcess
from tests.server.test_conflict_review import csrf, office_session
from tests.server.test_office_browser import sign_in

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def post(session: requests.Session, server: ServerProcess, path: str, page: str,
         **fields: Any) -> requests.Response:
    return session.post(f"{server.url}{path}", timeout=10,
                        data={"csrf": csrf(page), **fields})


def counts(server: ServerProcess) -> tuple[int, int, int]:
    return (server.scalar("SELECT count(*) FROM rules"),
            server.scalar("SELECT count(*) FROM rule_firings"),
            server.scalar("SELECT count(*) FROM rule_versions"))


def test_a_rule_is_made_from_lists_previewed_saved_off_and_versioned(server: ServerProcess):
    admin = office_session(server, "admin")
    first = admin.get(f"{server.url}/office/rule-editor", timeout=10)
    assert first.status_code == 200
    assert "工单状态变化" in first.text and "给客户加标签" in first.text
    page = admin.get(f"{server.url}/office/rule-editor", timeout=10,
                     params={"event": "job.status", "action": "notify_staff"}).text
    assert "新状态（已派单、已完成…）" in page and "${" not in page.split('id="variables"')[0]
    before = counts(server)

    rows = {"name": "完工通知主管", "match": "all", "field_0": "status", "op_0": "eq",
            "value_0": "completed", "role": "supervisor", "text": "{number} 已完成"}
    shown = post(admin, server, "/office/rule-editor", page, event="job.status",
                 action="notify_staff", do="preview", **rows)
    assert shown.status_code == 200, shown.text
    matched = int(re.search(r'id="matched">(\d+)<', shown.text)[1])
    assert matched >= 1 and "GD202611240004" in shown.text  # the world's job-old, done today
    assert counts(server) == before  # a preview writes nothing

    wrong = post(admin, server, "/office/rule-editor", page, event="job.status",
                 action="notify_staff", do="save", **{**rows, "field_1": "priority",
                                                      "op_1": "gt", "value_1": "很急"})
    assert wrong.status_code == 422
    assert "第 2 行条件：“优先级（1 紧急）”是数字，“很急”不是数字" in wrong.text
    assert counts(server) == before

    saved = post(admin, server, "/office/rule-editor", page, event="job.status",
                 action="notify_staff", do="save", **rows)
    assert saved.status_code == 200 and "已保存" in saved.text
    rule = server.query("SELECT * FROM rules WHERE name = '完工通知主管'")[0]
    assert (rule["condition"], rule["enabled"], rule["updated_by"]) == (
        "${status} = 'completed'", 0, "admin")  # not ticked: off until switched on
    assert "当 <b>工单状态变化</b>，新状态代码 等于 completed，就 <b>短信通知员工</b>" in saved.text
    logged = server.query("SELECT record_id FROM changes WHERE tbl = 'security'"
                          " AND op = 'rule_created'")
    assert [r["record_id"] for r in logged] == [rule["id"]]

    edit = admin.get(f"{server.url}/office/rules/{rule['id']}/edit", timeout=10).text
    assert 'name="value_0" value="completed"' in edit and "第 1 版" in edit
    again = post(admin, server, f"/office/rules/{rule['id']}", edit, do="save",
                 **{**rows, "value_0": "returned", "enabled": "on"})
    assert "已保存" in again.text
    assert server.scalar("SELECT condition FROM rules WHERE id = ?", [rule["id"]]) == \
        "${status} = 'returned'"
    versions = admin.get(f"{server.url}/office/rules/{rule['id']}/edit", timeout=10).text
    assert "第 2 版" in versions and "新状态代码 等于 returned" in versions


def test_only_an_admin_makes_rules_and_nonsense_changes_nothing(server: ServerProcess):
    dispatcher = office_session(server, "dispatcher")
    page = dispatcher.get(f"{server.url}/office/rules", timeout=10).text
    assert 'id="new-rule"' not in page
    assert "只有管理员可以新建规则" in dispatcher.get(f"{server.url}/office/rule-editor",
                                                  timeout=10).text
    refused = post(dispatcher, server, "/office/rule-editor", page, event="job.status",
                   action="alert", name="x", text="x", do="save")
    assert refused.status_code == 403 and "只有管理员可以新建规则" in refused.text

    admin = office_session(server, "admin")
    page = admin.get(f"{server.url}/office/rule-editor", timeout=10).text
    before = counts(server)
    no_csrf = admin.post(f"{server.url}/office/rule-editor", timeout=10,
                         data={"event": "job.status", "action": "alert", "name": "x"})
    assert no_csrf.status_code in (400, 403)
    for fields, said in [
        ({"event": "meteor.strike", "action": "alert", "text": "x"}, "未知的事件：meteor.strike"),
        ({"event": "job.status", "action": "launch", "text": "x"}, "未知的动作：launch"),
        ({"event": "job.status", "action": "alert", "text": "x", "field_0": "<script>",
          "op_0": "eq", "value_0": "1"}, "请从列表中选择字段"),
        ({"event": "job.status", "action": "alert", "text": "x", "field_0": "kind",
          "op_0": "drop table", "value_0": "1"}, "请选择比较方式"),
        ({"event": "job.status", "action": "alert", "text": "x", "field_0": "kind",
          "op_0": "eq", "value_0": "维" * 5000}, "最多 100 个字"),
        ({"event": "date.reached", "action": "notify_customer", "text": "x"}, "没有客户"),
        ({"event": "job.status", "action": "alert", "text": "{nobody}"}, "{nobody}"),
        ({"event": "job.status", "action": "alert", "text": "x", "daily_limit": "-3"},
         "每日上限应为 1–10000 的整数"),
        ({"event": "job.status", "action": "alert", "text": "x", "name": ""}, "请填写规则名称"),
    ]:
        answer = post(admin, server, "/office/rule-editor", page, do="save",
                      **{"name": "试验", **fields})
        assert answer.status_code == 422 and said in answer.text, (fields, answer.text[:300])
    missing = admin.get(f"{server.url}/office/rules/rule-nope/edit", timeout=10)
    assert missing.status_code == 200 and "没有这条规则" in missing.text
    assert counts(server) == before


def test_a_condition_typed_before_is_kept_until_rows_replace_it(server: ServerProcess):
    admin = office_session(server, "admin")
    page = admin.get(f"{server.url}/office/rules", timeout=10).text
    typed = post(admin, server, "/office/rules/rule-abnormal-usage", page,
                 name="用量异常提醒", condition="not(${daily_use} > 0)",
                 text="{customer_name} 用量异常", enabled="on")
    assert "已保存" in typed.text and "满足表达式 not(${daily_use} &gt; 0)" in typed.text
    edit = admin.get(f"{server.url}/office/rules/rule-abnormal-usage/edit", timeout=10).text
    assert 'id="legacy"' in edit
    kept = post(admin, server, "/office/rules/rule-abnormal-usage", edit, do="save",
                name="用量异常提醒", condition="not(${daily_use} > 0)",
                text="{customer_name} 用量异常", enabled="on")
    assert "已保存" in kept.text
    assert server.scalar("SELECT condition FROM rules WHERE id = 'rule-abnormal-usage'") == \
        "not(${daily_use} > 0)"
    rows = post(admin, server, "/office/rules/rule-abnormal-usage", edit, do="save",
                name="用量异常提醒", condition="not(${daily_use} > 0)", match="any",
                field_0="daily_use", op_0="eq", value_0="0", field_1="expected_ratio",
                op_1="gt", value_1="4", text="{customer_name} 用量异常", enabled="on")
    assert "已保存" in rows.text
    assert server.scalar("SELECT condition FROM rules WHERE id = 'rule-abnormal-usage'") == \
        "${daily_use} = 0 or ${expected_ratio} > 4"


def test_the_rule_editor_in_chromium(server: ServerProcess, browser) -> None:
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    page.goto(server.url + "/office/rules")
    sign_in(page, "admin")
    with page.expect_navigation():
        page.click("#new-rule")
    page.select_option("#event", "customer.tagged")
    page.select_option("#action", "create_job")
    with page.expect_navigation():
        page.click("#choose button")
    page.fill("input[name=name]", "独居老人关爱安检")
    page.select_option("select[name=field_0]", label="标签（每个标签一次）")
    page.select_option("select[name=op_0]", label="等于")
    page.fill("input[name=value_0]", "独居老人")
    page.select_option("select[name=kind]", "inspection")
    page.select_option("select[name=priority]", "2")
    page.fill("input[name=hours]", "72")
    page.fill("textarea[name=text]", "独居老人关爱上门：{customer_name}")
    server.query("UPDATE customers SET tags = '[\"独居老人\"]' WHERE id = 'cust-1'"
                 " RETURNING id")
    with page.expect_navigation():
        page.click("#preview-button")
    assert page.locator("#preview").count() == 1
    assert page.locator("input[name=value_0]").input_value() == "独居老人"  # kept as typed
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "backoffice_rule_editor.png"), full_page=True)
    with page.expect_navigation():
        page.click("#save-button")
    assert "已保存" in page.locator("#saved").inner_text()
    assert page.locator(".rule", has_text="独居老人关爱安检").count() == 1
    assert (SHOTS / "backoffice_rule_editor.png").stat().st_size > 20_000

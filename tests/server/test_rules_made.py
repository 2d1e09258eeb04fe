"""Rules made in the office: conditions picked as rows (never typed as ``${x}``), the new
events (a job's status, a customer tagged, a bill overdue, the day) and actions (text the
staff, open a job, tag the customer), a preview that fires nothing, a daily limit that
holds, and every version kept."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from fieldapp.local_time import LOCAL_ZONE
from sync_server.clock import ServerClock
from sync_server.services import dispatch, rule_book, rules
from sync_server.services.rule_conditions import Row, compile_rows, describe, rows_of
from sync_server.storage.db import Storage
from tests.server.test_rules import ADMIN, TECH01, TECH02, at, complete, installed, rows, run

READING = rule_book.EVENTS["reading.recorded"][1]


@pytest.fixture
def engine(db: Storage) -> Storage:
    return installed(db)


def make(db: Storage, **rule: Any) -> str:
    fields = {"name": "测试规则", "condition": "", "params": {}, "enabled": True, **rule}
    with db.write() as conn:
        rule_id, problems = rule_book.create(conn, ADMIN, at(8), **fields)
    assert problems == [] and rule_id
    return rule_id


def tag(db: Storage, customer_id: str, *tags: str) -> None:
    """The office gives a customer tags (as the desk does: through the change log)."""
    with db.write() as conn:
        row = conn.execute("SELECT tags, version FROM customers WHERE id = ?",
                           [customer_id]).fetchone()
        dispatch.write(conn, ADMIN, ServerClock(), "customers", customer_id, "update",
                       {"tags": json.dumps(list(tags), ensure_ascii=False)},
                       old={"tags": row["tags"]}, base_version=row["version"])


# -- conditions as rows ---------------------------------------------------------------------


def test_rows_compile_to_the_expression_the_engine_runs_and_read_back() -> None:
    rows_in = [Row("daily_use", "eq", "0"), Row("expected_ratio", "gt", "3")]
    expression, problems = compile_rows(READING, "any", rows_in)
    assert (expression, problems) == ("${daily_use} = 0 or ${expected_ratio} > 3", [])
    assert rows_of(expression) == ("any", rows_in)
    assert describe(READING, expression) == "日均用量 等于 0，或日均用量是应有的几倍 大于 3"
    tagged, _ = compile_rows(READING, "all", [Row("tags", "has_tag", "独居老人"),
                                              Row("household_size", "le", "1"),
                                              Row("customer_phone", "filled")])
    assert tagged == ("selected(${tags}, '独居老人') and ${household_size} <= 1"
                      " and ${customer_phone} != ''")
    assert rows_of(tagged) == ("all", [Row("tags", "has_tag", "独居老人"),
                                       Row("household_size", "le", "1"),
                                       Row("customer_phone", "filled")])
    assert rows_of("not(${daily_use} = 0)") is None  # typed by hand: shown as written
    assert compile_rows(READING, "all", []) == ("", [])  # always


def test_a_row_that_makes_no_sense_is_named() -> None:
    _, problems = compile_rows(READING, "all", [
        Row("daily_use", "gt", "很多"), Row("customer_name", "gt", "张"),
        Row("colour", "eq", "red"), Row("district", "eq", ""),
        Row("customer_name", "eq", "O'Brien"), Row("district", "has_tag", "鼓楼区")])
    assert problems == [
        "第 1 行条件：“日均用量”是数字，“很多”不是数字",
        "第 2 行条件：“客户姓名”是文字，只能比较等于、不等于或包含",
        "第 3 行条件：请从列表中选择字段（colour不可用）",
        "第 4 行条件：请填写“区域”要比较的值",
        "第 5 行条件：值不能包含单引号 '，最多 100 个字",
        "第 6 行条件：“区域”不是标签，请用“包含文字”"]
    assert compile_rows(READING, "some", [])[1] == ["请选择“全部满足”或“任一满足”"]


# -- new events and actions -----------------------------------------------------------------


def test_a_customer_tagged_as_living_alone_gets_a_care_visit_once(engine: Storage) -> None:
    make(engine, name="独居老人关爱安检", event="customer.tagged",
         condition="${tag} = '独居老人'", action="create_job",
         params={"kind": "inspection", "priority": 2, "hours": 72,
                 "text": "独居老人关爱上门：{customer_name}"})
    before = rows(engine, "SELECT id FROM jobs WHERE customer_id = 'cust-1'")
    tag(engine, "cust-1", "独居老人")
    run(engine)
    tag(engine, "cust-1", "独居老人", "有老人小孩的家庭")  # another tag, same old one
    run(engine)
    made = rows(engine, "SELECT id, kind, priority, status, summary, district FROM jobs"
                        " WHERE customer_id = 'cust-1' AND id NOT IN"
                        f" ({', '.join('?' * len(before))})", [r["id"] for r in before])
    assert [{k: v for k, v in m.items() if k != "id"} for m in made] == [
        {"kind": "inspection", "priority": 2, "status": "pending",
         "summary": "独居老人关爱上门：陈桂芳", "district": "秦淮区"}]
    logged = rows(engine, "SELECT by_user, op FROM changes WHERE tbl = 'jobs' AND"
                          " record_id = ?", [made[0]["id"]])
    assert logged == [{"by_user": "system", "op": "insert"}]  # tablets and dispatch see it


def test_an_overdue_bill_tags_the_customer_through_the_change_log(engine: Storage) -> None:
    make(engine, name="欠费标记", event="bill.overdue", condition="${amount} >= 100",
         action="tag_customer", params={"tag": "欠费"})
    today = datetime.now(LOCAL_ZONE).date()
    with engine.write() as conn:
        for bill, customer, cents in (("bill-a", "cust-3", 15000), ("bill-b", "cust-1", 900)):
            conn.execute("INSERT INTO bills(id, customer_id, amount_cents, due_on, status)"
                         " VALUES (?, ?, ?, ?, 'unpaid')",
                         [bill, customer, cents, (today - timedelta(days=5)).isoformat()])
    run(engine)
    run(engine)
    tags = {r["id"]: json.loads(r["tags"] or "[]") for r in
            rows(engine, "SELECT id, tags FROM customers WHERE id IN ('cust-1', 'cust-3')")}
    assert "欠费" in tags["cust-3"] and "欠费" not in tags["cust-1"]
    assert rows(engine, "SELECT count(*) AS n FROM changes WHERE tbl = 'customers'"
                        " AND record_id = 'cust-3'")[0]["n"] >= 1
    outcomes = {r["subject"]: r["outcome"] for r in rows(
        engine, "SELECT subject, outcome FROM rule_firings WHERE event = 'bill.overdue'")}
    assert outcomes == {"bill-a": "已给客户加标签“欠费”", "bill-b": "条件不满足"}


def test_a_status_texts_the_districts_supervisors_and_stops_at_its_daily_limit(
        engine: Storage) -> None:
    with engine.write() as conn:
        conn.execute("UPDATE users SET phone = '13800000001' WHERE username = 'supervisor'")
    make(engine, name="到场通知主管", event="job.status", condition="${status} = 'in_service'",
         action="notify_staff",
         params={"role": "supervisor", "text": "{assignee} 已到场 {number}",
                 "daily_limit": 1})
    complete(engine, TECH01, "job-1")
    complete(engine, TECH02, "job-3")
    run(engine)
    texts = rows(engine, "SELECT recipient, text FROM notifications WHERE customer_id IS NULL")
    assert texts == [{"recipient": "13800000001", "text": "tech01 已到场 GD202611240001"}]
    outcome = rows(engine, "SELECT outcome FROM rule_firings WHERE subject = 'job-3:in_service'")
    assert outcome == [{"outcome": "已达每日上限 1 次，未执行"}]
    [alert] = rows(engine, "SELECT message AS text FROM alerts WHERE kind = 'rule'")
    assert "到场通知主管" in alert["text"] and "每日上限" in alert["text"]
    with engine.write() as conn:
        assert rules.process(conn, at(10, day=1), ServerClock()) == 0  # nothing new tomorrow


def test_the_day_can_alert_but_cannot_text_a_customer(engine: Storage) -> None:
    assert rule_book.check("date.reached", "", "notify_customer", {"text": "x"}) == [
        "“每天（日期到达）”没有客户，不能短信通知客户"]
    month = datetime.now(LOCAL_ZONE).month
    make(engine, name="冬季安检提醒", event="date.reached", condition=f"${{month}} = {month}",
         action="alert", params={"text": "今天 {date}（{weekday_name}），请安排冬季安检"})
    run(engine)
    run(engine)
    [alert] = rows(engine, "SELECT message AS text FROM alerts WHERE kind = 'rule'")
    assert alert["text"].startswith("冬季安检提醒：今天 ") and "星期" in alert["text"]


def test_bad_actions_are_refused_in_words() -> None:
    check = rule_book.check
    assert check("job.status", "", "notify_staff", {"text": "x", "role": "technician"}) == [
        "请选择接收短信的岗位（调度员、主管或管理员）"]
    assert check("job.status", "", "create_job", {"kind": "picnic", "priority": 9,
                                                  "hours": 0}) == [
        "期限应为 1–720 小时", "请选择要生成的工单类型", "优先级应为 1–4"]
    assert check("customer.tagged", "", "tag_customer", {"tag": "独居 老人"}) == [
        "标签应为一个词，最多 20 个字（不含空格、逗号、顿号）"]
    assert check("job.status", "", "alert", {"text": "x", "daily_limit": "1000000"}) == [
        "每日上限应为 1–10000 的整数"]
    assert check("job.status", "", "rectification_check", {}) == [
        "确保整改复查工单只能用于“发现隐患”"]


# -- preview and versions -------------------------------------------------------------------


def test_a_preview_shows_todays_matches_and_fires_nothing(engine: Storage) -> None:
    with engine.read() as conn:  # the test world's own jobs, completed today
        seeded = rules.preview(conn, "job.status", "${status} = 'completed'", at(23))
    complete(engine, TECH01, "job-1")
    complete(engine, TECH02, "job-3")
    with engine.read() as conn:
        done = rules.preview(conn, "job.status", "${status} = 'completed'", at(23))
        repairs = rules.preview(conn, "job.status",
                                "${status} = 'completed' and ${kind} = 'repair'", at(23))
        upcoming = rules.preview(conn, "inspection.upcoming", "", at(6))
    # accepted, in service, completed: three status events for each job
    assert (done.matched, done.looked_at) == (seeded.matched + 2, seeded.looked_at + 6)
    assert {e["number"] for e in done.examples} >= {"GD202611240001", "GD202611240003"}
    assert [e["customer_name"] for e in repairs.examples] == ["周强"]
    assert upcoming.matched >= 1 and upcoming.examples[0]["reschedule_link"] == "（改约链接）"
    assert rows(engine, "SELECT * FROM rule_firings") == []
    assert rows(engine, "SELECT * FROM notifications") == []


def test_every_version_of_a_rule_is_kept(engine: Storage) -> None:
    rule_id = make(engine, name="完工提醒", event="job.completed", action="alert",
                   params={"text": "{number} 完成"}, enabled=False)
    now = at(9)
    with engine.write() as conn:
        for condition in ("${priority} = 1", "${priority} = 1", "${priority} <= 2"):
            assert rule_book.update(conn, rule_id, ADMIN, now, name="完工提醒",
                                    condition=condition, params={"text": "{number} 完成"},
                                    enabled=True) == []
        kept = rule_book.versions(conn, rule_id)
        same_name = rule_book.create(conn, ADMIN, now, name="完工提醒", event="job.completed",
                                     condition="", action="alert", params={"text": "x"},
                                     enabled=False)
    assert [(v["version"], v["condition"], v["enabled"]) for v in kept] == [
        (3, "${priority} <= 2", 1), (2, "${priority} = 1", 1), (1, "", 0)]
    assert {v["by_user"] for v in kept} == {"admin"}
    assert same_name == (None, ["已有名为“完工提醒”的规则"])
    # Rules made in the same instant get ids of their own.
    made = {make(engine, name=f"提醒 {n}", event="job.status", action="alert",
                 params={"text": "x"}) for n in range(5)}
    assert len(made) == 5
    shipped = rows(engine, "SELECT version, by_user FROM rule_versions"
                           " WHERE rule_id = 'rule-completed-sms'")
    assert shipped == [{"version": 1, "by_user": "system"}]

"""规则引擎: the shipped rules fire on what tablets sync (a job completed, a hazard found, a
reading recorded) and on the clock (an inspection coming up), once each, from a cursor kept
with what they did; an admin's edit is checked before it is saved; messages go out through
the notifier, retried when the gateway fails."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from fieldapp.ids import new_id
from fieldapp.local_time import LOCAL_ZONE, now_iso
from fieldapp.wire import Mutation
from sync_server.clock import ServerClock
from sync_server.services import notify, rule_book, rule_events, rules
from sync_server.services.auth import Principal
from sync_server.storage.db import Storage
from sync_server.storage.rows import current_row
from sync_server.sync import merge

TECH01 = Principal("tech01", "王建国", "technician", "秦淮区", "pad-1")
TECH02 = Principal("tech02", "李秀英", "technician", "鼓楼区", "pad-2")
ADMIN = Principal("admin", "孙立", "admin", None, "web-admin")


def at(hour: int, day: int = 0) -> datetime:
    today = datetime.now(LOCAL_ZONE).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=day, hours=hour)


def push(db: Storage, who: Principal, table: str, record_id: str, fields: dict[str, Any],
         op: str = "update") -> None:
    """A tablet's change, merged as the sync endpoint would."""
    clock = ServerClock()
    with db.write() as conn:
        current = current_row(conn, table, record_id)
        m = Mutation(mutation_id=new_id(), table=table, record_id=record_id, op=op,
                     fields=fields, old={k: current[k] for k in fields} if current else {},
                     base_version=current["version"] if current else 0, hlc=clock.now(),
                     at=now_iso())
        result = merge.apply_mutation(conn, m, who, "batch-" + new_id())
    assert result.status == "applied", result


def complete(db: Storage, who: Principal, job_id: str) -> None:
    for status in ("accepted", "in_service", "completed"):
        push(db, who, "jobs", job_id, {"status": status})


def run(db: Storage, now: datetime | None = None) -> int:
    with db.write() as conn:
        return rules.process(conn, now or at(23), ServerClock())


def installed(db: Storage) -> Storage:
    with db.write() as conn:
        rule_book.install_defaults(conn)
    return db


def rows(db: Storage, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    with db.read() as conn:
        return [dict(r) for r in conn.execute(sql, params or []).fetchall()]


@pytest.fixture
def engine(db: Storage) -> Storage:
    return installed(db)


def test_the_past_is_not_announced_and_defaults_install_once(engine: Storage) -> None:
    installed(engine)  # a second start changes nothing
    assert len(rows(engine, "SELECT id FROM rules")) == len(rule_book.DEFAULT_RULES)
    assert run(engine, at(23)) == 0  # the seeded world's jobs and readings came before
    assert rows(engine, "SELECT * FROM notifications") == []


def test_a_completed_job_texts_the_customer_and_a_repair_gets_a_follow_up_call(
        engine: Storage) -> None:
    complete(engine, TECH01, "job-1")
    complete(engine, TECH02, "job-3")
    assert run(engine) == 3  # two messages, one follow-up task (job-1 is an inspection)

    texts = {r["job_id"]: r for r in rows(engine, "SELECT * FROM notifications")}
    assert texts["job-1"]["recipient"] == "13912345678"
    assert "陈桂芳" in texts["job-1"]["text"] and "安检工单 GD202611240001 已完成" in \
        texts["job-1"]["text"]
    assert texts["job-3"]["status"] == "pending"
    [task] = rows(engine, "SELECT * FROM tasks")
    assert (task["job_id"], task["kind"]) == ("job-3", "follow_up_call")
    assert "周强" in task["title"]
    skipped = rows(engine, "SELECT outcome FROM rule_firings WHERE subject = 'job-1'"
                           " AND rule_id = 'rule-completed-follow-up'")
    assert skipped == [{"outcome": "条件不满足"}]

    assert run(engine) == 0  # once per job, whatever happens next
    assert len(rows(engine, "SELECT id FROM notifications")) == 2


def test_a_hazard_without_its_check_job_gets_one(engine: Storage) -> None:
    push(engine, TECH01, "jobs", "job-1", {"status": "accepted"})
    push(engine, TECH01, "jobs", "job-1", {"status": "in_service"})
    push(engine, TECH01, "hazards", "hz-1", {
        "job_id": "job-1", "customer_id": "cust-1", "submission_id": None, "notice_id": None,
        "question": "hose_age", "label": "软管未超期使用", "level": "serious",
        "deadline_days": 7, "due_at": at(9, day=7).isoformat(), "note": "龟裂",
        "status": "open", "check_job_id": None, "found_at": now_iso(), "by_user": "tech01",
        "device_id": "pad-1"}, op="insert")
    assert run(engine) == 1
    [check] = rows(engine, "SELECT * FROM jobs WHERE kind = 'rectification_check'")
    assert (check["assignee"], check["status"], check["customer_id"]) == (
        "tech01", "dispatched", "cust-1")
    assert rows(engine, "SELECT check_job_id FROM hazards WHERE id = 'hz-1'") == [
        {"check_job_id": check["id"]}]
    logged = rows(engine, "SELECT by_user FROM changes WHERE record_id = ?", [check["id"]])
    assert logged == [{"by_user": "system"}]  # the tablet pulls it like any office change


@pytest.mark.parametrize(("used", "alerted"), [(5.0, True), (0.0, True), (0.7, False)])
def test_abnormal_use_alerts_the_supervisor(engine: Storage, used: float,
                                            alerted: bool) -> None:
    """meter-1 read 1161.5, 1181.5, 1201.5 a month apart: about 0.67 m³ a day."""
    push(engine, TECH01, "readings", "rd-new", {
        "customer_id": "cust-1", "meter_id": "meter-1", "read_at": now_iso(),
        "value": 1201.5 + used, "source": "tablet:meter_reading"}, op="insert")
    run(engine)
    found = rows(engine, "SELECT message FROM alerts WHERE kind = 'rule'")
    assert bool(found) is alerted
    if alerted:
        assert "陈桂芳" in found[0]["message"] and "用量异常" in found[0]["message"]
    [firing] = rows(engine, "SELECT fired FROM rule_firings WHERE subject = 'rd-new'")
    assert firing["fired"] == int(alerted)


def test_customers_are_reminded_of_an_inspection_coming_up(engine: Storage) -> None:
    run(engine, at(6))  # job-1 and job-2 are inspections due at 9 and 11 today
    reminded = rows(engine, "SELECT job_id, text FROM notifications ORDER BY job_id")
    assert [r["job_id"] for r in reminded] == ["job-1", "job-2"]
    assert "上门进行入户安检" in reminded[0]["text"]
    run(engine, at(7))
    assert len(rows(engine, "SELECT id FROM notifications")) == 2


def test_an_admins_edit_is_checked_then_takes_effect(engine: Storage) -> None:
    assert rule_book.check("job.completed", "${kind} = ", "alert", {"text": "x"})[0].startswith(
        "条件写法有误")
    assert "条件中没有这些变量：colour" in rule_book.check(
        "job.completed", "${colour} = 'red'", "alert", {"text": "x"})[0]
    assert rule_book.check("job.completed", "pulldata('t', 'a', 'b', ${kind}) = 'x'", "alert",
                           {"text": "x"}) == [
        "条件中不能使用 pulldata()：它读表单附带的表格，规则没有表单"]
    assert rule_book.check("job.completed", "", "notify_customer",
                       {"text": "您好 {name}"}) == ["消息中没有这些变量：{name}"]
    assert rule_book.check("job.completed", "", "follow_up_task", {"hours": "-1"}) == [
        "回访期限应为 1–720 小时"]

    now = at(12)
    with engine.write() as conn:
        refused = rule_book.update(conn, "rule-completed-sms", ADMIN, now, name="完工短信",
                               condition="${priority} =", params={"text": "x"}, enabled=True)
        assert refused and rule_book.get(conn, "rule-completed-sms").condition == ""
        assert rule_book.update(conn, "rule-completed-sms", ADMIN, now, name="紧急完工短信",
                            condition="${priority} = 1", params={"text": "{number} 已处理"},
                            enabled=True) == []
        assert rule_book.update(conn, "rule-completed-follow-up", ADMIN, now, name="回访",
                            condition="", params={"hours": 12}, enabled=False) == []
    complete(engine, TECH02, "job-3")  # priority 3
    run(engine)
    assert rows(engine, "SELECT id FROM notifications") == []
    assert rows(engine, "SELECT id FROM tasks") == []  # disabled
    edited = rows(engine, "SELECT updated_by, condition FROM rules WHERE id = ?",
                  ["rule-completed-sms"])
    assert edited == [{"updated_by": "admin", "condition": "${priority} = 1"}]


def test_a_broken_stored_condition_is_logged_not_fatal(engine: Storage) -> None:
    with engine.write() as conn:
        conn.execute("UPDATE rules SET condition = '${kind} = = 1' WHERE id = ?",
                     ["rule-completed-sms"])
    complete(engine, TECH01, "job-1")
    run(engine)
    [firing] = rows(engine, "SELECT fired, outcome FROM rule_firings WHERE rule_id = ?",
                    ["rule-completed-sms"])
    assert firing["fired"] == 0 and firing["outcome"].startswith("条件有误")


class Gateway(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    fail = 0

    def do_POST(self) -> None:  # noqa: N802 (the handler's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if Gateway.fail:
            Gateway.fail -= 1
            self.send_response(503)
            self.end_headers()
            self.wfile.write(b"busy")
            return
        Gateway.received.append({**body, "auth": self.headers.get("Authorization")})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"id": f"sms-{len(Gateway.received)}"}).encode())

    def log_message(self, *args: Any) -> None:
        pass


def test_messages_go_through_the_gateway_and_failures_are_retried(engine: Storage) -> None:
    complete(engine, TECH01, "job-1")
    run(engine)
    http = HTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    try:
        gateway = notify.HttpSms(f"http://127.0.0.1:{http.server_port}/send", "tok")
        Gateway.received, Gateway.fail = [], 1
        assert notify.deliver(engine, gateway) == 0  # the gateway is busy: kept pending
        [waiting] = rows(engine, "SELECT status, attempts, error FROM notifications")
        assert (waiting["status"], waiting["attempts"]) == ("pending", 1)
        assert "503" in waiting["error"]
        assert notify.deliver(engine, gateway) == 1
    finally:
        http.shutdown()
        http.server_close()
    [sent] = Gateway.received
    assert sent["to"] == "13912345678" and "陈桂芳" in sent["text"]
    assert sent["auth"] == "Bearer tok"
    [row] = rows(engine, "SELECT status, provider_id FROM notifications")
    assert row == {"status": "sent", "provider_id": "http-sms:sms-1"}


def test_a_message_that_keeps_failing_is_marked_failed(engine: Storage) -> None:
    complete(engine, TECH01, "job-1")
    run(engine)

    class Down:
        name = "down"

        def send(self, channel: str, recipient: str, text: str) -> str:
            raise ConnectionError("gateway unreachable")

    for _ in range(notify.MAX_ATTEMPTS):
        notify.deliver(engine, Down())
    [row] = rows(engine, "SELECT status, attempts, error FROM notifications")
    assert (row["status"], row["attempts"]) == ("failed", notify.MAX_ATTEMPTS)
    assert notify.deliver(engine, notify.LogNotifier()) == 0  # not sent again


def test_messages_are_signed_with_the_utilitys_name(engine: Storage) -> None:
    from sync_server.services.records import publish_setting

    with engine.write() as conn:
        publish_setting(conn, "utility_name", "江宁港华燃气有限公司")
    complete(engine, TECH01, "job-1")
    run(engine)
    [text] = [r["text"] for r in rows(engine, "SELECT text FROM notifications")]
    assert text.startswith("【江宁港华燃气有限公司】您好，陈桂芳")
    assert rule_book.check("job.completed", "", "notify_customer",
                           {"text": "【{utility}】好"}) == []


def _history(db: Storage, meter: str, customer: str, monthly: list[tuple[datetime, float]]
             ) -> None:
    with db.write() as conn:
        for when, value in monthly:
            conn.execute("INSERT INTO readings (id, customer_id, meter_id, read_at, value,"
                         " source, version, hlc) VALUES (?, ?, ?, ?, ?, 'billing', 1, 'seed')",
                         [new_id(), customer, meter, when.isoformat(timespec="seconds"), value])


@pytest.mark.parametrize(("winter_use", "alerted"), [(60.0, False), (200.0, True)])
def test_a_winter_reading_is_judged_against_last_winter(engine: Storage, winter_use: float,
                                                        alerted: bool) -> None:
    """A household that burns 60 m³ a month in winter and 10 in summer: its winter reading
    is four times the summer's, which the old comparison (the six readings before) called
    abnormal every year; against last December it is normal, and only a real jump alerts."""
    today = datetime.now(LOCAL_ZONE).replace(hour=10, minute=0, second=0, microsecond=0)
    season = [60, 25, 15, 12, 10, 10, 10, 10, 12, 15, 30, 50]  # by months back from now
    monthly, value = [], 5000.0
    for back in range(24, 0, -1):  # two years of monthly readings up to a month ago
        value += season[back % 12]
        monthly.append((today - timedelta(days=30.4 * back), value))
    with engine.write() as conn:  # the new meter's own, so the seeded history is not in it
        conn.execute("INSERT INTO meters (id, customer_id, barcode, version, hlc) VALUES"
                     " ('meter-s', 'cust-1', 'GXSEASON', 1, 'seed')")
    _history(engine, "meter-s", "cust-1", monthly)
    run(engine)
    push(engine, TECH01, "readings", "rd-winter", {
        "customer_id": "cust-1", "meter_id": "meter-s", "read_at": now_iso(),
        "value": value + winter_use, "source": "tablet:meter_reading"}, op="insert")
    with engine.read() as conn:
        [event] = rule_events.reading_event(conn, "rd-winter", 0)
    facts = event.facts
    assert facts["ratio"] > 3  # the old measure: four times the summer months
    assert facts["same_period_daily_use"] == pytest.approx(season[0] / 30.4, rel=0.2)
    assert facts["expected_ratio"] == pytest.approx(winter_use / season[0], rel=0.2)
    assert facts["per_person_daily_use"] is not None
    run(engine)
    found = rows(engine, "SELECT message FROM alerts WHERE kind = 'rule'")
    assert bool(found) is alerted
    if alerted:
        assert "应有日均" in found[0]["message"]


def test_a_new_meter_is_judged_against_its_own_readings(engine: Storage) -> None:
    """A meter with no earlier year around the same days: the readings before it are all
    there is, so the expected use is theirs."""
    today = datetime.now(LOCAL_ZONE).replace(hour=10, minute=0, second=0, microsecond=0)
    with engine.write() as conn:
        conn.execute("INSERT INTO meters (id, customer_id, barcode, version, hlc) VALUES"
                     " ('meter-n', 'cust-1', 'GXNEW', 1, 'seed')")
    _history(engine, "meter-n", "cust-1",
             [(today - timedelta(days=30 * back), 100.0 + 30 * (4 - back))
              for back in range(4, 0, -1)])  # 1 m³ a day for three months
    push(engine, TECH01, "readings", "rd-new", {
        "customer_id": "cust-1", "meter_id": "meter-n", "read_at": now_iso(),
        "value": 310.0, "source": "tablet:meter_reading"}, op="insert")  # 4 m³ a day
    with engine.read() as conn:
        [event] = rule_events.reading_event(conn, "rd-new", 0)
    assert event.facts["same_period_daily_use"] is None
    assert event.facts["expected_daily_use"] == event.facts["usual_daily_use"] == 1.0
    assert event.facts["expected_ratio"] == pytest.approx(4.0, rel=0.05)


def test_a_newer_shipped_rule_replaces_an_unchanged_one_but_not_an_admins(
        engine: Storage) -> None:
    with engine.write() as conn:
        conn.execute("UPDATE rules SET condition = '${ratio} > 3', updated_by = NULL"
                     " WHERE id = 'rule-abnormal-usage'")
        conn.execute("UPDATE rules SET condition = '${priority} = 1', updated_by = 'admin'"
                     " WHERE id = 'rule-completed-sms'")
        rule_book.install_defaults(conn)
    got = {r["id"]: r["condition"] for r in rows(engine, "SELECT id, condition FROM rules")}
    assert got["rule-abnormal-usage"] == "${daily_use} = 0 or ${expected_ratio} > 3"
    assert got["rule-completed-sms"] == "${priority} = 1"

"""时限与升级 over HTTP, as a plain client: a supervisor sees the shipped emergency limits and
changes them; a page with a wrong value saves nothing and names every problem; a district's
supervisor cannot change the utility's limits; an admin gives a dispatcher the phone an
escalation texts; an alert that escalated says how far on the alert list."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ServerProcess
from tests.server.districts import add_scoped_accounts
from tests.server.test_conflict_review import csrf, office_session
from tests.server.test_office_browser import sign_in


def limits(server: ServerProcess) -> dict[str, int]:
    return {f"{r['kind']}.{r['priority']}.{r['step']}": r["minutes"] for r in server.query(
        "SELECT kind, priority, step, minutes FROM time_limits")}


def test_a_supervisor_changes_a_limit_and_a_wrong_page_saves_nothing(
        server: ServerProcess) -> None:
    office = office_session(server, "supervisor")
    page = office.get(f"{server.url}/office/time-limits", timeout=10).text
    assert 'name="repair.1.arrive" value="30"' in page and "保存时限" in page
    shipped = limits(server)
    fields = {"csrf": csrf(page), **{k: str(v) for k, v in shipped.items()}}
    wrong = office.post(f"{server.url}/office/time-limits", timeout=10, data={
        **fields, "repair.1.arrive": "-5", "inspection.3.accept": "两小时",
        "meter_reading.2.arrive": "2000", "repair.9.accept": "1", "x": "y"})
    assert wrong.status_code == 400
    assert "维修·紧急：到场时限应为分钟数（整数），不是“-5”" in wrong.text
    assert "安检·普通：接单时限应为分钟数（整数），不是“两小时”" in wrong.text
    assert "抄表·加急：派单到到场共 2060 分钟，已超过完工时限 1440 分钟" in wrong.text
    assert 'value="两小时"' in wrong.text  # what was typed comes back to be corrected
    assert limits(server) == shipped
    saved = office.post(f"{server.url}/office/time-limits", timeout=10, data={
        **fields, "repair.3.accept": "45", "repair.1.arrive": "20", "repair.2.complete": ""})
    assert saved.status_code == 200 and "时限已保存" in saved.text
    now = limits(server)
    assert now["repair.3.accept"] == 45 and now["repair.1.arrive"] == 20
    assert "repair.2.complete" not in now
    assert server.scalar("SELECT count(*) FROM changes WHERE op = 'time_limits_changed'") == 3


def test_the_chain_is_edited_and_a_wrong_one_refused(server: ServerProcess) -> None:
    office = office_session(server, "admin")
    page = office.get(f"{server.url}/office/time-limits", timeout=10).text
    wrong = office.post(f"{server.url}/office/time-limits/chain", timeout=10, data={
        "csrf": csrf(page), "role_1": "supervisor", "after_1": "30", "role_2": "dispatcher",
        "after_2": "10", "role_3": "technician", "after_3": "5"})
    assert wrong.status_code == 400 and "第 2 级（10 分钟）早于第 1 级" in wrong.text
    assert "第 3 级：角色应为调度员、主管或管理员" in wrong.text
    assert server.scalar("SELECT count(*) FROM escalation_chain") == 3
    saved = office.post(f"{server.url}/office/time-limits/chain", timeout=10, data={
        "csrf": csrf(page), "role_1": "supervisor", "after_1": "0", "role_2": "admin",
        "after_2": "15", "role_3": "", "after_3": ""})
    assert saved.status_code == 200 and "升级链已保存" in saved.text
    assert [(r["role"], r["after_minutes"]) for r in server.query(
        "SELECT role, after_minutes FROM escalation_chain ORDER BY level")] == [
        ("supervisor", 0), ("admin", 15)]


def test_a_districts_supervisor_reads_the_limits_but_cannot_change_them(
        server: ServerProcess) -> None:
    add_scoped_accounts(server)
    office = office_session(server, "qh_super")
    page = office.get(f"{server.url}/office/time-limits", timeout=10).text
    assert "保存时限" not in page and "disabled" in page
    before = limits(server)
    refused = office.post(f"{server.url}/office/time-limits", timeout=10, data={
        "csrf": csrf(page), "repair.1.arrive": "500"})
    assert refused.status_code == 403 and "不限区域" in refused.text
    assert limits(server) == before


def test_an_admin_gives_a_dispatcher_a_phone_and_the_escalation_texts_it(
        server: ServerProcess) -> None:
    admin = office_session(server, "admin")
    page = admin.get(f"{server.url}/office/users", timeout=10).text
    bad = admin.post(f"{server.url}/office/users/dispatcher/phone", timeout=10,
                     data={"csrf": csrf(page), "phone": "12345"})
    assert "手机号应为 11 位大陆手机号码" in bad.text
    assert server.scalar("SELECT phone FROM users WHERE username = 'dispatcher'") is None
    good = admin.post(f"{server.url}/office/users/dispatcher/phone", timeout=10,
                      data={"csrf": csrf(page), "phone": "+86 139-0000-0001"})
    assert "已保存 dispatcher 的手机号" in good.text
    assert server.scalar("SELECT phone FROM users WHERE username = 'dispatcher'") == \
        "13900000001"
    # The world's jobs were dispatched days ago and nobody accepted them: opening the alert
    # list raises them, and level 1 (the dispatcher, at once) is texted.
    alerts = admin.get(f"{server.url}/office/alerts", timeout=10).text
    assert "已升级至第 1 级（调度员）" in alerts
    assert server.scalar("SELECT count(*) FROM notifications WHERE recipient = '13900000001'"
                         " AND text LIKE '%超时提醒（第 1 级，调度员）%'") >= 1


def test_a_supervisor_sets_a_limit_in_the_browser(server: ServerProcess, browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server.url}/office/time-limits")
    sign_in(page, "supervisor")
    assert page.input_value("input[name='repair.1.dispatch']") == "5"
    page.fill("input[name='inspection.3.arrive']", "240")
    shots = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "backoffice_time_limits.png"), full_page=True)
    page.click("text=保存时限")
    page.wait_for_selector("#saved")
    assert page.input_value("input[name='inspection.3.arrive']") == "240"
    assert limits(server)["inspection.3.arrive"] == 240
    page.close()

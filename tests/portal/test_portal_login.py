"""Signing in to the portal: account + phone on file + SMS code; codes expire and take
five tries; sessions are HttpOnly cookies; staff sessions and tokens mean nothing here."""

from __future__ import annotations

import re

import requests

from tests.conftest import ServerProcess
from tests.portal.conftest import CHEN, LIU, Inbox, csrf, execute, seed_portal, sign_in


def test_a_customer_signs_in_with_the_code_sent_to_the_phone_on_file(
        portal: ServerProcess, inbox: type[Inbox]) -> None:
    s = requests.Session()
    first = s.get(portal.url + "/portal/usage", timeout=10)
    assert first.url.endswith("/portal/login")  # no session: the sign-in page
    sent = s.post(portal.url + "/portal/login",
                  data={"account_no": CHEN[0], "phone": "139-1234-5678"}, timeout=10)
    assert sent.url.endswith("/portal/verify") and "验证码已发送" in sent.text
    [message] = inbox.received
    assert message["to"] == CHEN[1] and "5 分钟内有效" in message["text"]
    code = inbox.code_for(CHEN[1])
    # The office sees that a message went out, never the code itself.
    [kept] = portal.query("SELECT text, status FROM notifications")
    assert code not in kept["text"] and "******" in kept["text"] and kept["status"] == "sent"
    assert portal.scalar("SELECT count(*) FROM portal_codes WHERE code_hash = ?", [code]) == 0
    done = s.post(portal.url + "/portal/verify", data={"code": code}, timeout=10,
                  allow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/portal/"
    cookie = done.headers["set-cookie"]
    assert "fieldapp_portal=" in cookie and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie and "Path=/portal" in cookie
    home = s.get(portal.url + "/portal/", timeout=10)
    assert "陈**，您好" in home.text and CHEN[0] in home.text
    assert home.headers["Content-Security-Policy"].count("script-src 'none'") == 1
    # A used code does not open a second session.
    again = requests.post(portal.url + "/portal/verify", data={"code": code}, timeout=10,
                          cookies={"fieldapp_portal_code": s.cookies["fieldapp_portal_code"]}
                          if "fieldapp_portal_code" in s.cookies else {})
    assert "fieldapp_portal=" not in again.headers.get("set-cookie", "")


def test_a_phone_not_on_file_gets_no_code(portal: ServerProcess, inbox: type[Inbox]) -> None:
    wrong = requests.post(portal.url + "/portal/login",
                          data={"account_no": CHEN[0], "phone": LIU[1]}, timeout=10)
    assert wrong.status_code == 401 and "户号与预留手机号不一致" in wrong.text
    nobody = requests.post(portal.url + "/portal/login",
                           data={"account_no": "999999999999", "phone": LIU[1]}, timeout=10)
    assert nobody.status_code == 401 and "户号与预留手机号不一致" in nobody.text
    bad = requests.post(portal.url + "/portal/login",
                        data={"account_no": "32010 abc", "phone": "12"}, timeout=10)
    assert bad.status_code == 422 and "户号应为 6–20 位数字" in bad.text
    assert inbox.received == []
    assert portal.scalar("SELECT count(*) FROM portal_codes") == 0


def test_wrong_codes_are_counted_and_the_fifth_ends_the_code(
        portal: ServerProcess, inbox: type[Inbox]) -> None:
    s = requests.Session()
    s.post(portal.url + "/portal/login", data={"account_no": CHEN[0], "phone": CHEN[1]},
           timeout=10)
    code = inbox.code_for(CHEN[1])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    first = s.post(portal.url + "/portal/verify", data={"code": wrong}, timeout=10)
    assert first.status_code == 401 and "验证码不正确，还可再试 4 次" in first.text
    letters = s.post(portal.url + "/portal/verify", data={"code": "abcdef"}, timeout=10)
    assert "6 位数字" in letters.text  # not counted: it cannot be a code
    for _ in range(4):
        last = s.post(portal.url + "/portal/verify", data={"code": wrong}, timeout=10)
    assert last.status_code == 429 and "错误次数过多，请重新获取" in last.text
    late = s.post(portal.url + "/portal/verify", data={"code": code}, timeout=10)
    assert "错误次数过多" in late.text and "fieldapp_portal" not in s.cookies.get_dict().get(
        "fieldapp_portal", "")
    assert portal.scalar("SELECT count(*) FROM portal_sessions") == 0


def test_an_expired_code_is_refused_and_codes_are_rationed(
        portal: ServerProcess, inbox: type[Inbox]) -> None:
    s = requests.Session()
    s.post(portal.url + "/portal/login", data={"account_no": CHEN[0], "phone": CHEN[1]},
           timeout=10)
    soon = s.post(portal.url + "/portal/login", data={"account_no": CHEN[0], "phone": CHEN[1]},
                  timeout=10)
    assert soon.status_code == 429 and "秒后再获取" in soon.text and len(inbox.received) == 1
    execute(portal, "UPDATE portal_codes SET expires_at = '2000-01-01T00:00:00.000+00:00'")
    late = s.post(portal.url + "/portal/verify", data={"code": inbox.code_for(CHEN[1])},
                  timeout=10)
    assert late.status_code == 400 and "验证码已过期" in late.text
    assert portal.scalar("SELECT count(*) FROM portal_sessions") == 0


def test_a_forged_pending_cookie_checks_no_code(portal: ServerProcess,
                                                inbox: type[Inbox]) -> None:
    requests.post(portal.url + "/portal/login", data={"account_no": CHEN[0], "phone": CHEN[1]},
                  timeout=10)
    forged = requests.post(portal.url + "/portal/verify",
                           data={"code": inbox.code_for(CHEN[1])},
                           cookies={"fieldapp_portal_code": "1.deadbeef"}, timeout=10)
    assert forged.status_code == 400 and "请先获取验证码" in forged.text
    assert portal.scalar("SELECT count(*) FROM portal_sessions") == 0


def test_signing_out_ends_the_session(portal: ServerProcess, inbox: type[Inbox]) -> None:
    s = sign_in(portal, inbox)
    token = s.cookies["fieldapp_portal"]
    page = s.get(portal.url + "/portal/", timeout=10).text
    stale = s.post(portal.url + "/portal/logout", data={"csrf": "0" * 64}, timeout=10)
    assert stale.status_code == 403 and "页面已过期" in stale.text
    out = s.post(portal.url + "/portal/logout", data={"csrf": csrf(page)}, timeout=10)
    assert out.url.endswith("/portal/login")
    replay = requests.get(portal.url + "/portal/bills", cookies={"fieldapp_portal": token},
                          timeout=10)
    assert replay.url.endswith("/portal/login")


def test_staff_sessions_and_tokens_do_not_open_the_portal(portal: ServerProcess) -> None:
    from tests.server.test_conflict_review import office_session
    from tests.server.test_sync_api import login

    office = office_session(portal, "admin")
    office.headers.update(login(portal, "tech01", "pad-9"))
    for path in ("/portal/", "/portal/bills", "/portal/usage", "/portal/requests"):
        got = office.get(portal.url + path, timeout=10, allow_redirects=False)
        assert got.status_code == 303 and got.headers["location"] == "/portal/login"


def test_codes_older_than_a_day_are_not_kept(portal: ServerProcess, inbox: type[Inbox]) -> None:
    execute(portal, "INSERT INTO portal_codes(customer_id, code_hash, client, created_at,"
                    " expires_at) VALUES ('cust-2', 'x', '10.0.0.9', ?, ?)",
            ["2026-01-01T00:00:00.000+00:00", "2026-01-01T00:05:00.000+00:00"])
    requests.post(portal.url + "/portal/login", data={"account_no": CHEN[0], "phone": CHEN[1]},
                  timeout=10)
    assert [r["customer_id"] for r in portal.query("SELECT customer_id FROM portal_codes")] == [
        "cust-1"]


def test_without_a_gateway_the_log_never_holds_a_login_code(tmp_path) -> None:
    # No SMS gateway configured: the message goes to the server's log (LogNotifier).
    data = tmp_path / "server"
    data.mkdir()
    server = ServerProcess(data)
    server.seed_world()
    seed_portal(server)
    server.start()
    try:
        sent = requests.post(server.url + "/portal/login", timeout=10,
                             data={"account_no": CHEN[0], "phone": CHEN[1]})
        assert sent.url.endswith("/portal/verify") and "验证码已发送" in sent.text
        log = (data / "server.log").read_text("utf-8")
    finally:
        server.stop()
    [line] = [ln for ln in log.splitlines() if "fieldapp.notify" in ln]
    assert re.search(r"sms to 139\*\*\*\*5678: 【[^】]+】您的网上营业厅登录验证码为 \*{6}，"
                     r"5 分钟内有效。如非本人操作，请忽略本短信。$", line), line
    assert not re.search(r"验证码为 \d", log)
    # The office's copy is masked the same way, and one code was issued.
    [kept] = server.query("SELECT text FROM notifications")
    assert kept["text"] == line.split(": ", 1)[1]
    assert server.scalar("SELECT count(*) FROM portal_codes") == 1

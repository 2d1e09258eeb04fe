"""Back-office posts only from the back office's own pages: a foreign Origin or Referer is
refused before anything happens, and the sign-in form carries a pre-session CSRF token."""

from __future__ import annotations

import requests

from tests.conftest import ServerProcess
from tests.server.test_conflict_review import csrf, office_session, sign_in
from tests.world import PASSWORD


def test_a_foreign_origin_cannot_sign_in_or_post_anything(server: ServerProcess):
    browser = requests.Session()
    form = browser.get(server.url + "/office/login", timeout=10)
    token = csrf(form.text)
    assert browser.cookies["fieldapp_office_login"] == token  # double submit: cookie = field
    data = {"username": "supervisor", "password": PASSWORD, "csrf": token}

    for headers in ({"Origin": "http://evil.example"},
                    {"Origin": "null"},
                    {"Referer": "http://evil.example/phish.html"},
                    # the same host on another port is another origin
                    {"Origin": f"http://127.0.0.1:{server.port + 1}"}):
        refused = browser.post(server.url + "/office/login", data=data, headers=headers,
                               timeout=30, allow_redirects=False)
        assert refused.status_code == 403, headers
        assert "请求被拒绝" in refused.text and "其他网站" in refused.text
        assert refused.headers["content-type"].startswith("text/html")
        assert "fieldapp_office" not in refused.cookies
    assert server.scalar("SELECT count(*) FROM devices WHERE device_id LIKE 'web-%'") == 0

    # From its own page (the browser names this origin), the same form signs in.
    own = browser.post(server.url + "/office/login", data=data, timeout=30,
                       headers={"Origin": server.url}, allow_redirects=False)
    assert own.status_code == 303 and "fieldapp_office" in own.cookies

    # A signed-in session is not usable from another site either: sign-out is refused...
    page = browser.get(server.url + "/office/", timeout=10).text
    away = browser.post(server.url + "/office/logout", data={"csrf": csrf(page)},
                        headers={"Origin": "https://evil.example"}, timeout=10,
                        allow_redirects=False)
    assert away.status_code == 403 and "请求被拒绝" in away.text
    assert browser.get(server.url + "/office/", timeout=10,
                       allow_redirects=False).status_code == 200  # still signed in
    # ...and so is every other office form, before its route reads the form.
    office = office_session(server, "supervisor")
    conflicts = office.get(server.url + "/office/conflicts", timeout=10).text
    foreign = office.post(server.url + "/office/conflicts/1/resolve",
                          data={"choice": "current", "csrf": csrf(conflicts)},
                          headers={"Referer": "http://evil.example/"}, timeout=10)
    assert foreign.status_code == 403 and "请求被拒绝" in foreign.text


def test_signing_in_without_the_forms_token_is_refused(server: ServerProcess):
    # A plain client with neither Origin nor Referer and no token: refused, nothing counted.
    bare = requests.post(server.url + "/office/login", timeout=30, allow_redirects=False,
                         data={"username": "supervisor", "password": PASSWORD})
    assert bare.status_code == 403 and "登录页面已过期" in bare.text
    assert "fieldapp_office" not in bare.cookies
    assert server.scalar("SELECT count(*) FROM login_failures") == 0

    # The token of one browser does not sign in another (the cookie must match the field).
    first = requests.Session()
    token = csrf(first.get(server.url + "/office/login", timeout=10).text)
    other = requests.Session()
    other.get(server.url + "/office/login", timeout=10)
    stolen = other.post(server.url + "/office/login", timeout=30, allow_redirects=False,
                        data={"username": "supervisor", "password": PASSWORD, "csrf": token})
    assert stolen.status_code == 403 and "fieldapp_office" not in stolen.cookies

    # With its own token, and no Origin at all, the form signs in.
    fine = sign_in(requests.Session(), server.url, "supervisor", PASSWORD,
                   allow_redirects=False)
    assert fine.status_code == 303 and "fieldapp_office" in fine.cookies

"""退订安全提示 in the portal: the customer opts out of campaign notices (and back in) on
the home page, audited as themselves; the office's desk shows where it was done."""

from __future__ import annotations

from tests.conftest import ServerProcess
from tests.portal.conftest import Inbox, csrf, sign_in
from tests.server.test_conflict_review import office_session


def test_the_customer_opts_out_in_the_portal(portal: ServerProcess, inbox: type[Inbox]) -> None:
    server = portal
    session = sign_in(server, inbox)
    home = session.get(server.url + "/portal/", timeout=10)
    assert 'id="notices-out"' in home.text
    out = session.post(server.url + "/portal/notices", timeout=10,
                      data={"csrf": csrf(home.text), "out": "1"})
    assert out.status_code == 200 and 'id="notices-in"' in out.text
    assert server.query("SELECT source, by_user FROM campaign_opt_outs") == [
        {"source": "portal", "by_user": "portal:320100000001"}]
    assert session.post(server.url + "/portal/notices", timeout=10,
                       data={"csrf": "0" * 64, "out": "0"}).status_code == 403
    assert session.post(server.url + "/portal/notices", timeout=10,
                       data={"csrf": csrf(out.text), "out": "x"}).status_code == 400
    desk = office_session(server, "dispatcher").get(server.url + "/office/desk/cust-1",
                                                    timeout=10)
    assert "网上营业厅" in desk.text and 'id="opted-out"' in desk.text

"""The portal on a phone, in real Chromium, as a customer uses it: sign in with the SMS code,
read the gas use, pay a bill, ask for a transfer of ownership with two photos, follow it as
the office dispatches it and a technician's tablet does it, rate it, and find help. Every
page is checked by axe-core for serious and critical accessibility problems and for
scrolling sideways on the phone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fieldapp.replica import Replica
from fieldapp.sync.client import SyncClient
from tests.conftest import ServerProcess
from tests.portal import axe
from tests.portal.conftest import CHEN, Inbox, reschedule_link
from tests.portal.phone import DESKTOP, PHONE, fill_transfer, overflow, read_meter
from tests.world import PASSWORD


@pytest.fixture
def portal(paying_portal: ServerProcess) -> ServerProcess:
    """These tests pay bills: the portal started with the simulated payment provider."""
    return paying_portal


class Walk:
    """The customer's way through the pages: each page reached is first checked for the
    error page (failing the step with the server's log), and each distinct page is run
    through axe and the width check, kept to assert together at the end."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.pages: list[str] = []
        self.violations: list[dict[str, Any]] = []
        self.overflows: list[str] = []

    def tap(self, page: Any, selector: str) -> None:
        """Tap what takes the customer to another page, and wait for that page."""
        with page.expect_navigation():
            page.locator(selector).tap()
        page.wait_for_load_state()
        self.not_broken(page, f"tapping {selector}")

    def goto(self, page: Any, url: str) -> None:
        page.goto(url)
        self.not_broken(page, f"opening {url}")

    def not_broken(self, page: Any, step: str) -> None:
        if page.locator("#error").count():
            log = (self.server.data_dir / "server.log").read_text(errors="replace")
            pytest.fail(f"{step}: {page.url} is the error page:"
                        f" {page.locator('#error').inner_text()}\n--- server.log (end) ---\n"
                        f"{log[-4000:]}")

    def check(self, page: Any, name: str) -> None:
        self.pages.append(name)
        self.violations += [{**v, "page": f"{name} ({v['page']})"} for v in axe.violations(page)]
        wide = overflow(page)
        if wide:
            self.overflows.append(f"{name}: {wide}")

    def step(self, page: Any, url: str) -> str:
        """The request's step as the customer reads it after reloading its page."""
        self.goto(page, url)
        return page.locator("#step").inner_text()


def test_a_customer_does_everything_on_a_phone(portal: ServerProcess, inbox: type[Inbox],
                                               browser: Any, tmp_path: Path) -> None:
    walk = Walk(portal)
    phone = browser.new_context(**PHONE)
    office = browser.new_context(**DESKTOP)
    stranger = browser.new_context(**PHONE)  # whoever opens the reminder's link: no session
    replica = Replica.open(tmp_path / "tablet")
    try:
        page = phone.new_page()
        # -- 1. sign in with the code sent to the phone on file ---------------------------------
        walk.goto(page, portal.url + "/portal/")
        assert page.url.endswith("/portal/login")
        walk.check(page, "login")
        page.locator("#account_no").fill(CHEN[0])
        page.locator("#phone").fill(CHEN[1])
        walk.tap(page, "#send-code")
        assert page.url.endswith("/portal/verify")
        walk.check(page, "verify")
        page.locator("#code").fill(inbox.code_for(CHEN[1]))
        walk.tap(page, "#verify")
        assert page.url == portal.url + "/portal/"
        assert "陈**，您好" in page.locator("h1").inner_text()
        walk.check(page, "home")

        # -- 2. gas use: the chart and the price tiers ----------------------------------------
        walk.tap(page, "nav.tabs a[href='/portal/usage']")
        chart = page.locator("svg.chart")
        assert chart.is_visible()
        assert chart.locator("rect").count() >= 1
        assert page.locator("#tiers").is_visible()
        walk.check(page, "usage")

        # -- 3. bills: pay one through the simulated provider ---------------------------------
        walk.tap(page, "nav.tabs a[href='/portal/bills']")
        walk.check(page, "bills")
        unpaid = page.locator("section.bill:has(button.pay)").first
        bill_id = unpaid.get_attribute("id").removeprefix("bill-")
        assert portal.scalar("SELECT status FROM bills WHERE id = ?", [bill_id]) != "paid"
        walk.tap(page, f"#bill-{bill_id} button.pay")
        assert "/portal/pay/sim/" in page.url
        assert page.locator("#simulated").is_visible()
        walk.check(page, "simulated pay")
        walk.tap(page, "#confirm-pay")
        assert "/portal/pay/result/" in page.url
        assert "缴费成功" in page.locator("#pay-result").inner_text()
        walk.check(page, "pay result")
        walk.tap(page, "a[href='/portal/bills']:not(nav a)")
        assert page.locator(f"#bill-{bill_id} .status").inner_text() == "已缴清"
        assert page.locator(f"#bill-{bill_id} button.pay").count() == 0
        assert portal.scalar("SELECT status FROM bills WHERE id = ?", [bill_id]) == "paid"
        walk.check(page, "bills (one paid)")

        # -- 4. 办事 → 过户 with two photos -------------------------------------------------------
        walk.tap(page, "nav.tabs a[href='/portal/requests']")
        walk.check(page, "requests (none yet)")
        walk.tap(page, "#new-transfer")
        assert page.url.endswith("/portal/requests/new/transfer")
        walk.check(page, "transfer form")
        fill_transfer(page, tmp_path)
        walk.tap(page, "#submit-request")
        assert page.locator("#form-error").count() == 0, page.locator("#form-error").inner_text()
        [row] = portal.query("SELECT r.id, r.job_id, j.number, j.kind, j.status, j.customer_id"
                             " FROM portal_requests r JOIN jobs j ON j.id = r.job_id")
        assert (row["kind"], row["status"], row["customer_id"]) == (
            "meter_reading", "pending", "cust-1")
        assert portal.scalar("SELECT count(*) FROM portal_uploads WHERE request_id = ?",
                             [row["id"]]) == 2
        status_url = f"{portal.url}/portal/requests/{row['id']}"
        assert page.url.startswith(status_url)
        assert page.locator("#step").inner_text() == "审核中"
        assert row["number"] in page.locator("#submitted").inner_text()
        assert row["number"] in page.locator("h1").inner_text()
        walk.check(page, "request status (审核中)")

        # -- 5. the dispatcher assigns it to tech01 in the back office ------------------------
        desk = office.new_page()
        desk.goto(f"{portal.url}/office/jobs/{row['job_id']}")
        assert "/office/login" in desk.url
        desk.fill("input[name=username]", "dispatcher")
        desk.fill("input[name=password]", PASSWORD)
        desk.click("#login")
        desk.wait_for_load_state()
        assert desk.url.endswith(f"/office/jobs/{row['job_id']}")
        desk.locator("#assign-to").select_option("tech01")
        with desk.expect_navigation():
            desk.click("#assign-form button[type=submit]")
        assert desk.locator("#assignee").inner_text() == "tech01"
        assert walk.step(page, status_url) == "待上门"
        assert "王师傅" in page.locator("#visit").locator("..").inner_text()

        # -- 6. the technician's tablet does the job; the customer follows and rates it -------
        client = SyncClient(replica, portal.url)
        client.login("tech01", PASSWORD)
        client.sync()
        job_id = row["job_id"]
        assert replica.get("jobs", job_id)["assignee"] == "tech01"
        replica.jobs.transition(job_id, "accepted")
        replica.jobs.transition(job_id, "en_route")
        client.sync()
        assert walk.step(page, status_url) == "待上门"
        replica.jobs.transition(job_id, "in_service")
        client.sync()
        assert walk.step(page, status_url) == "服务中"
        walk.check(page, "request status (服务中)")
        read_meter(replica, job_id)
        replica.jobs.transition(job_id, "completed")
        client.sync()
        assert replica.outbox.problems() == []
        assert portal.scalar("SELECT status FROM jobs WHERE id = ?", [job_id]) == "completed"
        assert walk.step(page, status_url) == "已完成"
        assert page.locator("#rating").is_visible()
        walk.check(page, "request status (已完成, rating form)")
        page.locator("input[name=stars][value='5']").check()
        page.locator("#comment").fill("师傅很细心，半小时就办好了")
        walk.tap(page, "#rate")
        assert "★★★★★" in page.locator("#rated").inner_text()
        walk.check(page, "request status (rated)")
        assert portal.scalar("SELECT rating FROM portal_requests WHERE id = ?",
                             [row["id"]]) == 5

        walk.tap(page, "nav.tabs a[href='/portal/requests']")
        mine = page.locator("#my-requests").inner_text()
        assert "过户" in mine and row["number"] in mine and "已完成" in mine
        walk.check(page, "requests")

        # -- 7. help: the public article, not the staff's ----------------------------------------
        walk.tap(page, "nav.tabs a[href='/portal/help']")
        page.locator("#q").fill("漏气")
        walk.tap(page, "#search")
        assert "q=" in page.url
        hits = page.locator("#hits").inner_text()
        assert "如何自查漏气" in hits and "内部" not in hits
        walk.check(page, "help search")
        walk.tap(page, "#hits a:has-text('如何自查漏气')")
        assert page.locator("article h1").inner_text() == "如何自查漏气"
        walk.check(page, "article")

        # -- the reminder's link moves the planned inspection, without signing in ----------
        # The link's expiry is given apart from the visit (today's, which may be past).
        link = reschedule_link(portal, "job-1", datetime.now(UTC) + timedelta(days=3),
                               datetime.now(UTC))
        visitor = stranger.new_page()
        walk.goto(visitor, link if link.startswith("http") else portal.url + link)
        assert "GD202611240001" in visitor.locator("main").inner_text()
        walk.check(visitor, "appointment")
        day = visitor.locator("#day")
        day.select_option(index=3)
        walk.tap(visitor, "#move")
        assert visitor.locator("#moved").is_visible()
        walk.check(visitor, "appointment (moved)")
        moved_to = portal.scalar("SELECT due_at FROM jobs WHERE id = 'job-1'")
        assert moved_to.startswith(visitor.locator("#day option").nth(3).get_attribute("value"))
    finally:
        replica.close()
        for context in (phone, office, stranger):
            context.close()

    assert len(walk.pages) >= 14
    assert not walk.overflows, "pages scroll sideways on a phone:\n" + "\n".join(
        walk.overflows)
    assert not walk.violations, (
        f"axe: serious/critical problems on {len({v['page'] for v in walk.violations})}"
        f" of {len(walk.pages)} pages:\n" + axe.report(walk.violations))

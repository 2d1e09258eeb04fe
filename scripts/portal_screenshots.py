"""Screenshots of the customer portal (网上营业厅) on a phone, in Debian's Chromium.

    PYTHONPATH=. .venv/bin/python scripts/portal_screenshots.py    # → docs/screenshots/portal/

A server starts in a temporary folder on the portal tests' data (the test world, its bills and
the public help articles; tests/portal/conftest.py), with an SMS gateway on loopback that
keeps the login code. A customer's phone (390×844 at 2×) signs in, reads the gas use, pays a
bill, asks for a transfer of ownership with two photos; a dispatcher assigns it in the back
office, a scripted tablet does it and syncs; the customer rates it, searches the help, and a
reminder's link opens the page that moves a planned inspection. The same walk as
tests/portal/test_portal_browser.py, each page saved whole.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from http.server import HTTPServer
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from fieldapp.replica import Replica  # noqa: E402
from fieldapp.sync.client import SyncClient  # noqa: E402
from sync_server.storage.db import open_database  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, ServerProcess  # noqa: E402
from tests.portal.conftest import CHEN, Inbox, reschedule_link, seed_portal  # noqa: E402
from tests.portal.phone import DESKTOP, PHONE, fill_transfer, read_meter  # noqa: E402
from tests.world import PASSWORD  # noqa: E402

OUT = ROOT / "docs" / "screenshots" / "portal"


def shoot(page: Page, name: str) -> None:
    """The whole page, as on a phone tall enough to show it at once: a full-page capture
    of the phone's own height would draw the sticky tab bar across the middle."""
    page.wait_for_load_state("networkidle")
    size = page.viewport_size
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
    page.screenshot(path=str(OUT / name))
    page.set_viewport_size(size)
    print(f"wrote {OUT / name}")


def tap(page: Page, selector: str) -> None:
    with page.expect_navigation():
        page.locator(selector).tap()


def assign(browser: Browser, url: str, job_id: str) -> None:
    """The dispatcher gives the job to tech01 on the back office's job page."""
    context = browser.new_context(**DESKTOP)
    desk = context.new_page()
    desk.goto(f"{url}/office/jobs/{job_id}")
    desk.fill("input[name=username]", "dispatcher")
    desk.fill("input[name=password]", PASSWORD)
    desk.click("#login")
    desk.wait_for_load_state()
    desk.locator("#assign-to").select_option("tech01")
    with desk.expect_navigation():
        desk.click("#assign-form button[type=submit]")
    context.close()


def walk(browser: Browser, server: ServerProcess, work: Path) -> None:
    url = server.url
    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    page.goto(url + "/portal/")
    page.locator("#account_no").fill(CHEN[0])
    page.locator("#phone").fill(CHEN[1])
    shoot(page, "login.png")
    tap(page, "#send-code")
    page.locator("#code").fill(Inbox.code_for(CHEN[1]))
    shoot(page, "verify.png")
    tap(page, "#verify")
    shoot(page, "home.png")
    tap(page, "nav.tabs a[href='/portal/usage']")
    page.locator("#months").locator("..").locator("summary").tap()  # the figures, opened
    shoot(page, "usage.png")

    tap(page, "nav.tabs a[href='/portal/bills']")
    shoot(page, "bills.png")
    tap(page, "section.bill button.pay >> nth=0")
    shoot(page, "pay_simulated.png")
    tap(page, "#confirm-pay")
    shoot(page, "pay_result.png")

    page.goto(url + "/portal/requests/new/transfer")
    fill_transfer(page, work)
    shoot(page, "request_transfer.png")
    tap(page, "#submit-request")
    status_url = page.url.split("?")[0]
    [row] = server.query("SELECT job_id FROM portal_requests")
    job_id = row["job_id"]

    assign(browser, url, job_id)
    page.goto(status_url)
    shoot(page, "request_status.png")

    replica = Replica.open(work / "tablet")
    try:
        client = SyncClient(replica, url)
        client.login("tech01", PASSWORD)
        client.sync()
        for status in ("accepted", "en_route", "in_service"):
            replica.jobs.transition(job_id, status)
        read_meter(replica, job_id)
        replica.jobs.transition(job_id, "completed")
        client.sync()
    finally:
        replica.close()
    page.goto(status_url)
    page.locator("input[name=stars][value='5']").check()
    page.locator("#comment").fill("师傅很细心，半小时就办好了")
    shoot(page, "request_done_rating.png")
    tap(page, "#rate")

    tap(page, "nav.tabs a[href='/portal/requests']")
    shoot(page, "requests.png")
    tap(page, "nav.tabs a[href='/portal/help']")
    page.locator("#q").fill("漏气")
    tap(page, "#search")
    shoot(page, "help.png")
    tap(page, "#hits a:has-text('如何自查漏气')")
    shoot(page, "article.png")
    desk = browser.new_context(**DESKTOP)  # the same customer at a computer
    desk.add_cookies(phone.cookies())
    wide = desk.new_page()
    wide.goto(url + "/portal/usage")
    shoot(wide, "usage_desktop.png")
    desk.close()
    phone.close()

    link = reschedule_link(server, "job-1", datetime.now(UTC) + timedelta(days=3),
                           datetime.now(UTC))
    stranger = browser.new_context(**PHONE)
    page = stranger.new_page()
    page.goto(link if link.startswith("http") else url + link)
    page.locator("#day").select_option(index=3)
    shoot(page, "appointment.png")
    stranger.close()


def two_years_of_readings(server: ServerProcess) -> None:
    """Monthly readings of 陈桂芳's meter back two years before the world's three, more gas
    in winter than in summer, so the chart and the bills look like a household's."""
    from fieldapp.local_time import LOCAL_ZONE
    from sync_server.services.records import insert_records

    now = datetime.now(LOCAL_ZONE).replace(hour=9, minute=0, second=0, microsecond=0)
    value, rows = 1161.5, []
    for k in range(3, 27):
        at = now - timedelta(days=30 * k + 1)
        value -= (38, 34, 26, 16, 10, 8, 7, 7, 9, 14, 24, 33)[(at + timedelta(days=30)).month - 1]
        rows.append({"id": f"read-1-{k}", "customer_id": "cust-1", "meter_id": "meter-1",
                     "read_at": at.isoformat(), "value": round(value, 1), "source": "billing"})
    db = open_database(server.data_dir, server.database_url)
    try:
        with db.write() as conn:
            insert_records(conn, "readings", rows)
    finally:
        db.close()


def paid_on_time(server: ServerProcess) -> None:
    """Every bill but the last two paid, as a household's would be (at the counter)."""
    from sync_server.clock import ServerClock
    from sync_server.services import billing

    db = open_database(server.data_dir, server.database_url)
    try:
        with db.write() as conn:
            bills = conn.execute("SELECT * FROM bills WHERE customer_id = 'cust-1'"
                                 " ORDER BY period_end DESC").fetchall()
            for bill in bills[2:]:
                billing.settle(conn, billing.SYSTEM, ServerClock(), bill, "微信")
    finally:
        db.close()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="fieldapp-portal-"))
    sms = HTTPServer(("127.0.0.1", 0), Inbox)
    threading.Thread(target=sms.serve_forever, daemon=True).start()
    (work / "server").mkdir()
    server = ServerProcess(work / "server")
    server.seed_world()
    two_years_of_readings(server)
    seed_portal(server)
    paid_on_time(server)
    server.start(FIELDAPP_SMS_URL=f"http://127.0.0.1:{sms.server_port}/sms",
                 FIELDAPP_SIMULATED_PAYMENTS="1")  # its pages show paying a bill
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                         headless=True)
            walk(browser, server, work)
            browser.close()
    finally:
        server.stop()
        sms.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

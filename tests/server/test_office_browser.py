"""The back office in real Chromium: sign-in, the synced report with its evidence, and the
supervisor resolving a conflict."""

from __future__ import annotations

from pathlib import Path

from fieldapp.replica import Replica
from fieldapp.sync.client import SyncClient
from tests.conftest import ServerProcess
from tests.server.test_conflict_review import phone_conflict
from tests.world import CHECKLIST, PASSWORD, complete_inspection


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    """Sign in on the page the back office redirected to, and land where it was going."""
    assert "/office/login" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("#login")
    page.wait_for_load_state("networkidle")


def test_synced_report_is_listed_and_shows_answers_photo_signature(
        server: ServerProcess, browser, tmp_path: Path):
    replica = Replica.open(tmp_path / "tablet")
    client = SyncClient(replica, server.url)
    client.login("tech01", PASSWORD)
    client.sync()
    complete_inspection(replica, "job-1", tmp_path / "photo.jpg")
    client.sync()

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server.url + "/")
    sign_in(page, "dispatcher")
    assert page.title().startswith("报告")
    rows = page.locator("#reports tr")
    assert rows.count() == 2  # header + the one synced report
    assert "陈桂芳" in rows.nth(1).inner_text()
    rows.nth(1).locator("a").click()
    page.wait_for_load_state("networkidle")
    answers = page.locator("#answers tr")
    assert answers.count() == 1 + len(replica.submissions.definition(*CHECKLIST)["items"])
    failed = page.locator("#answers td.fail")
    assert failed.count() == 1 and failed.inner_text() == "不合格"
    assert "橡胶软管已龟裂" in page.locator("#answers").inner_text()
    widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
    assert len(widths) == 2 and all(w > 0 for w in widths)  # the photo and the signature load
    history = page.locator("#history tr")
    assert history.count() == 4  # header + accepted, in service, completed
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_supervisor_resolves_a_conflict_by_clicking(server: ServerProcess, browser,
                                                    tmp_path: Path):
    conflict_id = phone_conflict(server)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server.url + "/office/conflicts")
    sign_in(page, "supervisor", "wrong password")
    assert page.locator("#login-error").inner_text() == "用户名或密码错误"
    sign_in(page, "supervisor")
    assert page.url.endswith("/office/conflicts")
    assert page.locator("#nav-conflicts .badge").inner_text() == "1"
    card = page.locator(f"#conflict-{conflict_id}")
    assert card.locator(".current").inner_text() == "13900000000"
    assert card.locator(".preserved").inner_text() == "13811112222"
    page.screenshot(path=str(tmp_path / "conflicts.png"), full_page=True)
    card.locator("input[value=preserved]").check()
    card.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#no-conflicts").is_visible()
    assert server.scalar("SELECT phone FROM customers WHERE id = 'cust-1'") == "13811112222"
    assert server.scalar("SELECT resolved_by FROM conflicts WHERE id = ?",
                         [conflict_id]) == "supervisor"


def test_dispatcher_creates_dispatches_and_reads_the_dashboard(server: ServerProcess,
                                                               browser, tmp_path: Path):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(server.url + "/office/dispatch")
    sign_in(page, "dispatcher")
    assert page.locator("#col-pending h2").inner_text().startswith("待受理")
    page.click("#new-job")
    page.select_option("select[name=kind]", "inspection")
    page.fill("input[name=customer]", "320100000002")
    page.select_option("select[name=priority]", "1")
    page.fill("input[name=due_at]", "2026-12-01T09:30")
    page.fill("input[name=summary]", "用户来电：厨房有异味，请尽快上门")
    page.click("#job-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("#created").is_visible()
    assert page.locator("#job-status").inner_text() == "待受理"
    assert "王建国" in page.locator("#suggestion").inner_text()
    number = page.locator("h1").inner_text().split()[1]

    page.click("#nav-dispatch")
    page.click("#auto-dispatch")
    page.wait_for_load_state("networkidle")
    assert "1 单已派出" in page.locator("#done").inner_text()
    card = page.locator(f"#col-dispatched #job-{number}")
    assert "王建国" in card.inner_text()
    card.click()
    page.wait_for_load_state("networkidle")
    assert "自动（dispatcher）" in page.locator("#dispatch-log").inner_text()

    page.click("#nav-kpis")
    page.wait_for_load_state("networkidle")
    assert page.locator("#kpi-overdue b").inner_text().isdigit()
    assert page.locator("#chart-coverage rect").count() >= 1
    page.screenshot(path=str(tmp_path / "kpis.png"), full_page=True)
    assert (tmp_path / "kpis.png").stat().st_size > 10_000


def test_the_desk_finds_a_caller_by_phone_and_opens_their_page(
        server: ServerProcess, browser, tmp_path: Path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server.url + "/office/desk")
    sign_in(page, "dispatcher")
    assert page.locator("#nav-desk").count() == 1
    page.fill("#q", "139 1234 5678")  # read out over the phone, with spaces
    with page.expect_navigation():
        page.keyboard.press("Enter")
    rows = page.locator("#found tr.found-row")
    assert rows.count() == 1 and "陈桂芳" in rows.first.inner_text()
    with page.expect_navigation():
        rows.first.locator("a").first.click()
    assert page.locator("#customer-name").inner_text().startswith("陈桂芳")
    assert "GM0000000001" in page.locator("#meters").inner_text()
    assert page.locator("#jobs tr").count() >= 2  # header and her job
    page.screenshot(path=str(tmp_path / "desk.png"), full_page=True)
    assert (tmp_path / "desk.png").stat().st_size > 10_000

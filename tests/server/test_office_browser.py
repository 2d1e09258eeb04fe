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

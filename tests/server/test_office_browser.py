"""The back office in real Chromium: the synced report is listed and shows its evidence."""

from __future__ import annotations

from pathlib import Path

from fieldapp.replica import Replica
from fieldapp.sync.client import SyncClient
from tests.conftest import ServerProcess
from tests.world import PASSWORD, complete_inspection


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
    assert page.title().startswith("安检报告")
    rows = page.locator("#reports tr")
    assert rows.count() == 2  # header + the one synced report
    assert "陈桂芳" in rows.nth(1).inner_text()
    rows.nth(1).locator("a").click()
    page.wait_for_load_state("networkidle")
    answers = page.locator("#answers tr")
    assert answers.count() == 1 + len(replica.inspections.definition()["items"])
    failed = page.locator("#answers td.fail")
    assert failed.count() == 1 and failed.inner_text() == "不合格"
    assert "橡胶软管已龟裂" in page.locator("#answers").inner_text()
    widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
    assert len(widths) == 2 and all(w > 0 for w in widths)  # the photo and the signature load
    history = page.locator("#history tr")
    assert history.count() == 4  # header + accepted, in service, completed
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000

"""群发安全提示 in real Chromium: chips tapped, the preview read, the campaign sent once; the
page's screenshot is written to docs/screenshots/backoffice_campaigns.png."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ServerProcess
from tests.server.campaign_helpers import add_customers, campaign_messages
from tests.server.test_office_browser import sign_in

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_a_supervisor_previews_and_sends_a_notice_by_tapping(server: ServerProcess,
                                                             browser) -> None:
    add_customers(server, 24, "秦淮区", json.dumps(["独居老人"], ensure_ascii=False), "qh")
    server.query("UPDATE customers SET phone = NULL WHERE id = 'qh-3' RETURNING id")
    server.query("INSERT INTO campaign_opt_outs(customer_id, at, by_user, source)"
                 " VALUES ('qh-5', '2026-12-01T00:00:00+00:00', 'dispatcher', 'office')"
                 " RETURNING customer_id")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server.url + "/office/campaigns")
    sign_in(page, "supervisor")
    assert page.locator("#nav-campaigns").count() == 1
    page.locator("#tag-chips label.chip", has_text="独居老人").click()  # a tap on the chip
    assert page.locator("#tag-chips input[value=独居老人]").is_checked()
    if not page.locator("#district-chips input[value=秦淮区]").is_checked():
        page.locator("#district-chips label.chip", has_text="秦淮区").click()
    if page.locator("#district-chips input[value=鼓楼区]").is_checked():
        page.locator("#district-chips label.chip", has_text="鼓楼区").click()
    with page.expect_navigation():
        page.click("#preview")
    assert page.locator("#recipients").inner_text() == "23"  # 24 + 陈桂芳, less two
    assert page.locator("#excluded-opted_out").inner_text() == "1"
    assert page.locator("#excluded-no_phone").inner_text() == "1"
    assert "****" in page.locator("#sample").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "backoffice_campaigns.png"), full_page=True)
    with page.expect_navigation():
        page.click("#send")
    assert "已写入 23 条短信" in page.locator("#sent-note").inner_text()
    page.go_back()  # the preview again: everyone had today's notice, nothing to send
    assert "没有可发送的对象" in page.locator("#preview-result").inner_text()
    assert page.locator("#send").count() == 0
    assert len(campaign_messages(server)) == 23
    page.goto(server.url + "/office/campaigns")
    assert page.locator("tr.campaign-row").count() == 1
    assert (SHOTS / "backoffice_campaigns.png").stat().st_size > 20_000

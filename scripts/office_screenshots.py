"""Screenshots of the back office in Debian's Chromium, on the demo data set.

    PYTHONPATH=. .venv/bin/python scripts/office_screenshots.py     # → docs/screenshots/

A demo server starts in a temporary folder; a scripted tablet inspects one household and
syncs, then a dispatcher's browser visits the dispatch board, creates a job, opens the synced
report, the KPIs, the alerts, runs billing and opens a bill and the audit log; an admin's
the rules, the users, a knowledge-base article given its fault codes and published, an
import from the billing system (checked, then its good rows) and an XLSForm published and
chosen for commercial customers' inspections.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

import demo  # noqa: E402

from fieldapp.replica import Replica  # noqa: E402
from fieldapp.sync.client import SyncClient  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def inspected_report(url: str, work: Path) -> str:
    """One household inspected on a tablet and synced; returns its submission id."""
    replica = Replica.open(work / "tablet")
    client = SyncClient(replica, url)
    client.login(demo.USER, demo.PASSWORD)
    client.sync()
    job = next(j for j in replica.jobs.today()
               if j["kind"] == "inspection" and j["status"] == "dispatched")
    replica.jobs.transition(job["id"], "accepted")
    replica.jobs.transition(job["id"], "in_service")
    meter = replica.customers.view360(job["customer_id"])["meters"][0]
    sub_id = demo.inspect(replica, job["id"], meter, meter["barcode"], None, work)
    replica.evidence.add_signature(job["id"], demo.signature_strokes(), job["customer_name"])
    replica.submissions.submit(sub_id)
    replica.jobs.transition(job["id"], "completed")
    client.sync()
    replica.close()
    return sub_id


def signed_in(browser: Browser, url: str, username: str) -> Page:
    """A page of its own for ``username``, opened at ``url`` through the sign-in it asks for."""
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(url)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", demo.PASSWORD)
    page.click("#login")
    return page


def shoot(page: Page, name: str) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(OUT / name), full_page=False)
    print(f"wrote {OUT / name}")


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="fieldapp-office-"))
    server = demo.DemoServer(work / "server", 8791)
    server.start()
    try:
        sub_id = inspected_report(server.url, work)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            page = signed_in(browser, f"{server.url}/office/dispatch", "dispatcher")
            shoot(page, "backoffice_dispatch.png")
            page.click("#to-map")
            shoot(page, "backoffice_map.png")
            page.goto(server.url + "/office/dispatch")
            page.click("#new-job")
            page.select_option("select[name=kind]", "repair")
            account = server_account(server.data_dir)
            page.fill("input[name=customer]", account)
            page.select_option("select[name=priority]", "1")
            page.fill("input[name=due_at]", "2026-12-01T10:30")
            page.fill("input[name=summary]", "厨房有燃气味，用户已关闭表前阀")
            shoot(page, "backoffice_new_job.png")
            page.click("#job-form button[type=submit]")
            shoot(page, "backoffice_job.png")
            page.goto(f"{server.url}/office/reports/{sub_id}")
            shoot(page, "backoffice_report.png")
            page.goto(f"{server.url}/office/desk")
            page.fill("#q", account[-6:])
            with page.expect_navigation():
                page.keyboard.press("Enter")
            shoot(page, "backoffice_desk.png")
            with page.expect_navigation():
                page.locator("#found tr.found-row a").first.click()
            page.screenshot(path=str(OUT / "backoffice_customer.png"), full_page=True)
            page.goto(f"{server.url}/office/kpis")
            shoot(page, "backoffice_kpis.png")
            page.goto(f"{server.url}/office/alerts")
            shoot(page, "backoffice_alerts.png")
            page.goto(f"{server.url}/office/billing")
            page.click("#run-billing")
            shoot(page, "backoffice_billing.png")
            page.locator("#bills a").first.click()
            shoot(page, "backoffice_bill.png")
            page.goto(f"{server.url}/office/audit")
            shoot(page, "backoffice_audit.png")
            admin = signed_in(browser, f"{server.url}/office/rules", "admin")
            shoot(admin, "backoffice_rules.png")
            admin.goto(server.url + "/office/users")
            shoot(admin, "backoffice_users.png")
            knowledge_base(admin, server.url)
            data_import(admin, server.url, work)
            forms(admin, server.url, work)
            browser.close()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def knowledge_base(page: Page, url: str) -> None:
    """知识库: a demo article found by a fault code, its codes entered, saved and published."""
    page.goto(url + "/office/kb")
    page.fill("#q", "E02")
    with page.expect_navigation():
        page.click("#search")
    with page.expect_navigation():
        page.locator("#articles tr.article-row a").first.click()
    page.fill("#fault_codes", "E01 E02 E03 E04 E05 E06 E07 E08 E09 E10")
    with page.expect_navigation():
        page.click("#save")
    with page.expect_navigation():
        page.click("#publish")
    shoot(page, "backoffice_kb.png")


def data_import(page: Page, url: str, work: Path) -> None:
    """导入: a billing system's export of new customers with two bad rows, checked (the
    preview), then its good rows imported."""
    rows = ["户号,户名,联系电话,用气地址,营业区域,人口,表条码,安装日期"]
    for i in range(60):
        rows.append(f"9900{i:08d},新用户{i},1391234{i:04d},秦淮区 中华路 {i} 号,秦淮区,"
                    f"{1 + i % 4},XJ{i:010d},2024-05-01")
    rows.insert(20, "9900999999,外区用户,13912340000,某路 1 号,雨花台区,3,XJ9999999999,"
                    "2024-05-01")
    rows.insert(40, ",无户号,,某路 2 号,秦淮区,2,XJ9999999998,去年")
    export = work / "营收系统导出.csv"
    export.write_bytes("\n".join(rows).encode("gbk"))
    page.goto(url + "/office/imports")
    page.set_input_files("#file", str(export))
    page.click("#upload")
    page.wait_for_selector("#summary")
    page.screenshot(path=str(OUT / "backoffice_import.png"), full_page=True)
    print(f"wrote {OUT / 'backoffice_import.png'}")
    page.click("#run-good")
    page.wait_for_selector("#said")
    shoot(page, "backoffice_import_done.png")


def forms(page: Page, url: str, work: Path) -> None:
    """表单: a commercial kitchen's XLSForm previewed, published and chosen for the
    inspections of commercial customers."""
    from tests.forms.test_xlsform_import import (
        KITCHEN_CHOICES,
        KITCHEN_SETTINGS,
        KITCHEN_SURVEY,
        xlsx,
    )

    path = work / "工商业后厨检查.xlsx"
    path.write_bytes(xlsx(KITCHEN_SURVEY, KITCHEN_CHOICES, KITCHEN_SETTINGS))
    page.goto(url + "/office/forms")
    page.set_input_files("#xlsform", str(path))
    page.click("#check-form")
    page.wait_for_selector("#preview")
    page.fill("#code", "commercial_kitchen")
    page.screenshot(path=str(OUT / "backoffice_form_preview.png"), full_page=True)
    print(f"wrote {OUT / 'backoffice_form_preview.png'}")
    page.click("#publish")
    page.wait_for_selector("#done")
    page.goto(url + "/office/forms")
    page.select_option("#choice-inspection\\.commercial select", "commercial_kitchen")
    page.click("#choice-inspection\\.commercial button")
    page.wait_for_selector("#done")
    shoot(page, "backoffice_forms.png")


def server_account(data_dir: Path) -> str:
    """A demo customer's account number in 秦淮区, from the demo server's database."""
    conn = sqlite3.connect(data_dir / "server.sqlite3")
    try:
        return conn.execute("SELECT account_no FROM customers WHERE district = '秦淮区'"
                            " ORDER BY account_no LIMIT 1").fetchone()[0]
    finally:
        conn.close()


if __name__ == "__main__":
    main()

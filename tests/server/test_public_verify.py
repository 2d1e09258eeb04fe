"""The QR code on a printout opens a public page (no sign-in) that says whether the document
matches the utility's record, with its number, date and the utility's name only: in real
Chromium from the code decoded off the printed PDF, and with a plain HTTP client for forged
and altered documents."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from PIL import Image

from fieldapp.reports import documents
from fieldapp.reports.report_data import from_replica
from sync_server.http.headers import OFFICE
from tests.conftest import ServerProcess, synced_tablet
from tests.reports.reportkit import qr_codes
from tests.world import inspect_household

CUSTOMER = ("陈桂芳", "13912345678", "龙蟠中路", "320100000001")


@pytest.fixture
def printed(server: ServerProcess, tmp_path: Path):
    """tech01's signed inspection with one hazard, synced, its report and notice printed on
    the tablet: (replica, client, submission id, {document: QR text})."""
    replica, client = synced_tablet(server, tmp_path / "pad")
    sub_id = inspect_household(replica, "job-1", tmp_path, {"hose_age": "软管老化开裂"})
    client.sync()
    codes = {}
    for document in ("report", "notice"):
        pdf = documents.write(replica, "job-1", document)
        [code] = qr_codes(pdf, 1, tmp_path / document)
        codes[document] = code
    return replica, client, sub_id, codes


def local(server: ServerProcess, code: str) -> str:
    """The QR's address on this test server (the published public address is the same)."""
    parts = urlsplit(code)
    return f"{server.url}{parts.path}?{parts.query}"


def test_the_printed_qr_code_opens_the_public_page_in_a_browser(
        server: ServerProcess, browser, printed):
    replica, _, sub_id, codes = printed
    report = from_replica(replica, sub_id)
    assert codes["report"] == (f"{server.url}/verify/inspection/{sub_id}"
                               f"?sha256={report.content_hash}")
    page = browser.new_page(viewport={"width": 420, "height": 800})  # a phone
    answer = page.goto(codes["report"])
    assert answer.status == 200 and urlsplit(page.url).path == f"/verify/inspection/{sub_id}"
    assert answer.headers["content-security-policy"] == OFFICE["Content-Security-Policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert page.locator("#verdict").inner_text().startswith("✓ 一致")
    assert page.locator("#number").inner_text() == "GD202611240001"
    assert page.locator("#date").inner_text() == report.inspected_at[:10]
    assert page.locator("#utility").inner_text() == report.utility
    shown = page.content()
    assert not [c for c in CUSTOMER if c in shown]

    notice = page.goto(codes["notice"])
    assert notice.status == 200
    assert page.locator("#verdict").inner_text().startswith("✓ 一致")
    assert page.locator("#number").inner_text().startswith("TZ")
    assert page.locator("#title").inner_text() == "燃气安全隐患整改通知书"
    page.close()


def test_an_altered_or_forged_document_does_not_match(server: ServerProcess, printed):
    replica, client, sub_id, codes = printed
    good = local(server, codes["report"])
    assert "✓ 一致" in requests.get(good, timeout=10).text
    digest = urlsplit(good).query.removeprefix("sha256=")
    altered = good.replace(digest, ("0" if digest[0] != "0" else "1") + digest[1:])
    cases = {
        "altered hash": (altered, 200),
        "another document's kind": (good.replace("/inspection/", "/repair/"), 200),
        "forged id": (good.replace(sub_id, "01a2aaaa-0000-7000-8000-000000000000"), 404),
    }
    for name, (url, status) in cases.items():
        resp = requests.get(url, timeout=10)
        assert resp.status_code == status, name
        assert "✗ 不一致" in resp.text and 'id="number"' not in resp.text, name
        assert not [c for c in CUSTOMER if c in resp.text], name
    for bad in ("?sha256=xyz", "?sha256=" + "A" * 64, ""):
        resp = requests.get(f"{server.url}/verify/inspection/{sub_id}{bad}", timeout=10)
        assert resp.status_code == 400 and "无法核验" in resp.text
    resp = requests.get(f"{server.url}/verify/bogus/{sub_id}?sha256={digest}", timeout=10)
    assert resp.status_code == 400

    # A photo added after printing changes the record: the printout no longer matches.
    late = Path(replica.data_dir) / "late.jpg"
    Image.new("RGB", (320, 240), (1, 2, 3)).save(late)
    replica.evidence.add_photo("job-1", late, question="meter_photo")
    client.sync()
    assert "✗ 不一致" in requests.get(good, timeout=10).text

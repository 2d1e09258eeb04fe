"""A customer's own gas use, tier position and bills, and nobody else's whatever the URL."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
import requests

from tests.conftest import ServerProcess
from tests.portal.conftest import LIU, Inbox, csrf, sign_in


@pytest.fixture
def portal(paying_portal: ServerProcess) -> ServerProcess:
    """These tests pay bills: the portal started with the simulated payment provider."""
    return paying_portal


def test_usage_page_draws_24_months_and_the_tier_position(portal: ServerProcess,
                                                          inbox: type[Inbox]) -> None:
    s = sign_in(portal, inbox)
    page = s.get(portal.url + "/portal/usage", timeout=10).text
    assert page.count("<rect") == sum(1 for _ in re.finditer(r"<td class=\"num\">\d", page))
    assert '<svg class="chart"' in page and "近 24 个月用气量柱状图" in page
    assert page.count("<tr><td>20") == 24  # every month in the table, read or not
    # The world's readings: 20 m³ a month on each of the last two readings.
    assert "20.0" in page and "无读数" in page
    billed = sum(Decimal(line["volume"]) for r in portal.query(
        "SELECT lines FROM bills WHERE customer_id = 'cust-1'")
        for line in json.loads(r["lines"]))
    assert f"今年已出账用气 <b>{billed:.1f}</b> m³" in page
    # A household of one: 300 m³ in the first tier.
    assert f"再用 <b>{Decimal(300) - billed:.1f}</b> m³ 进入第 2 阶梯" in page


def test_bills_show_their_tier_lines_and_only_the_customers_own(portal: ServerProcess,
                                                                inbox: type[Inbox]) -> None:
    s = sign_in(portal, inbox)
    page = s.get(portal.url + "/portal/bills", timeout=10).text
    own = [r["id"] for r in portal.query("SELECT id FROM bills WHERE customer_id = 'cust-1'")]
    other = portal.scalar("SELECT id FROM bills WHERE customer_id = 'cust-2' LIMIT 1")
    assert own and all(f'id="bill-{b}"' in page for b in own)
    assert other not in page and "年第 1 档" in page and "2.53" in page
    # Paying someone else's bill by its id: "not found", and no order is opened.
    theirs = s.post(f"{portal.url}/portal/bills/{other}/pay", data={"csrf": csrf(page)},
                    timeout=10)
    assert theirs.status_code == 404 and "没有找到这张账单" in theirs.text
    assert portal.scalar("SELECT count(*) FROM payment_orders") == 0


def test_another_customers_request_and_order_are_not_found(portal: ServerProcess,
                                                           inbox: type[Inbox]) -> None:
    liu = sign_in(portal, inbox, LIU)
    page = liu.get(portal.url + "/portal/bills", timeout=10).text
    bill = portal.scalar("SELECT id FROM bills WHERE customer_id = 'cust-2' LIMIT 1")
    order = liu.post(f"{portal.url}/portal/bills/{bill}/pay", data={"csrf": csrf(page)},
                     timeout=10, allow_redirects=False).headers["location"].rsplit("/", 1)[1]
    form = liu.get(portal.url + "/portal/requests/new/repair", timeout=10).text
    day = re.search(r'<option value="(\d{4}-\d\d-\d\d)"', form)[1]  # type: ignore[index]
    made = liu.post(portal.url + "/portal/requests/new/repair", timeout=10, data={
        "csrf": csrf(form), "description": "灶具打不着火", "day": day, "slot": "am"})
    request_id = made.url.split("/")[-1].split("?")[0]
    chen = sign_in(portal, inbox)
    for path in (f"/portal/requests/{request_id}", f"/portal/pay/sim/{order}",
                 f"/portal/pay/result/{order}"):
        got = chen.get(portal.url + path, timeout=10)
        assert got.status_code == 404 and "没有找到" in got.text, path
        assert "灶具打不着火" not in got.text
    chen_page = chen.get(portal.url + "/portal/", timeout=10).text
    confirm = chen.post(f"{portal.url}/portal/pay/sim/{order}", timeout=10,
                        data={"csrf": csrf(chen_page), "outcome": "paid"})
    assert confirm.status_code == 404
    rated = chen.post(f"{portal.url}/portal/requests/{request_id}/rate", timeout=10,
                      data={"csrf": csrf(chen_page), "stars": 1})
    assert rated.status_code == 404
    assert portal.scalar("SELECT status FROM bills WHERE id = ?", [bill]) == "unpaid"
    assert portal.scalar("SELECT rating FROM portal_requests") is None
    assert "灶具打不着火" not in chen.get(portal.url + "/portal/requests", timeout=10).text


def test_help_searches_only_the_public_articles(portal: ServerProcess,
                                                inbox: type[Inbox]) -> None:
    page = requests.get(portal.url + "/portal/help", params={"q": "漏气"}, timeout=10).text
    assert "如何自查漏气" in page and "内部" not in page and "<mark>漏气</mark>" in page
    assert 'aria-label="主菜单"' not in page  # nobody signed in: no account menu
    signed = sign_in(portal, inbox).get(portal.url + "/portal/help", timeout=10).text
    assert 'aria-label="主菜单"' in signed and 'id="logout"' in signed
    tiers = requests.get(portal.url + "/portal/help", params={"q": "阶梯 气价"},
                         timeout=10).text
    assert "阶梯气价如何计算" in tiers
    article_id = re.search(r'href="/portal/help/([\w-]+)"', tiers)[1]  # type: ignore[index]
    article = requests.get(f"{portal.url}/portal/help/{article_id}", timeout=10)
    assert "第一阶梯" in article.text
    hidden = requests.get(portal.url + "/portal/help/internal-1", timeout=10)
    assert hidden.status_code == 404 and "没有找到这篇文章" in hidden.text
    none = requests.get(portal.url + "/portal/help", params={"q": "<script>"}, timeout=10)
    assert "没有找到与“&lt;script&gt;”相关的内容" in none.text

"""Helpers of the campaign tests: a preview and its send form as a browser submits them,
and customers written in bulk straight into the server's storage."""

from __future__ import annotations

import html
import re
from typing import Any

import requests

from sync_server.storage.db import open_database
from tests.conftest import ServerProcess

NOTICE = "【{utility}】{customer_name}您好：寒潮将至，请注意用气安全。"


def preview(session: requests.Session, server: ServerProcess, text: str = NOTICE,
            **params: Any) -> requests.Response:
    params = {"preview": "1", "text": text, "match": "any", **params}
    return session.get(server.url + "/office/campaigns", params=params, timeout=60)


def send_form(page: str) -> dict[str, list[str]]:
    """The hidden fields of the preview's send form, as the browser would post them."""
    form = page.split('id="send-form"', 1)[1].split("</form>", 1)[0]
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form):
        fields.setdefault(name, []).append(html.unescape(value))
    return fields


def send(session: requests.Session, server: ServerProcess,
         fields: dict[str, list[str]]) -> requests.Response:
    return session.post(server.url + "/office/campaigns/send", data=fields, timeout=120)


def problems(page: str) -> list[str]:
    return [html.unescape(p) for p in re.findall(r'<p class="error problem">(.*?)</p>', page)]


def add_customers(server: ServerProcess, count: int, district: str, tags: str,
                  prefix: str, start: int = 1) -> None:
    """``count`` customers with phones in ``district`` tagged ``tags`` (stored JSON)."""
    db = open_database(server.data_dir, server.database_url)
    try:
        with db.write() as conn:
            conn.execute(
                "WITH RECURSIVE n(i) AS (SELECT CAST(? AS INTEGER) UNION ALL"
                " SELECT i + 1 FROM n WHERE i < ?)"
                " INSERT INTO customers(id, account_no, name, phone, address, district, kind,"
                " tags, version) SELECT ? || i, ? || i, '客户' || i, '139' || (10000000 + i),"
                " '地址', ?, 'residential', ?, 1 FROM n",
                [start, start + count - 1, f"{prefix}-", prefix, district, tags])
    finally:
        db.close()


def campaign_messages(server: ServerProcess) -> list[dict[str, Any]]:
    return server.query("SELECT customer_id, campaign_id, recipient, text, status"
                        " FROM notifications WHERE campaign_id IS NOT NULL ORDER BY id")

"""A started server for the portal's tests: the test world with bills, public help articles
and an SMS gateway on loopback that keeps what it was sent (the login codes); the tests that
pay a bill use ``paying_portal``, started with the simulated payment provider."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from fieldapp.demo.kb import CUSTOMER_ARTICLES
from sync_server.clock import ServerClock
from sync_server.services import billing
from sync_server.services.appointment_links import appointment_link
from sync_server.services.records import insert_records
from sync_server.storage.db import open_database
from tests.conftest import ServerProcess

CHEN = ("320100000001", "13912345678")  # 陈桂芳, cust-1
LIU = ("320100000002", "13800001111")  # 刘洋, cust-2


class Inbox(BaseHTTPRequestHandler):
    """The SMS gateway: every message the server sends, as {"to", "text"}."""

    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 (the handler's name)
        Inbox.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"id": f"sms-{len(Inbox.received)}"}).encode())

    def log_message(self, *args: Any) -> None:
        pass

    @classmethod
    def code_for(cls, phone: str) -> str:
        """The latest login code sent to ``phone``."""
        texts = [m["text"] for m in cls.received if m["to"] == phone]
        assert texts, f"no message to {phone}"
        return re.search(r"验证码为 (\d{6})", texts[-1])[1]  # type: ignore[index]


@pytest.fixture
def inbox() -> Iterator[type[Inbox]]:
    http = HTTPServer(("127.0.0.1", 0), Inbox)
    Inbox.received = []
    threading.Thread(target=http.serve_forever, daemon=True).start()
    Inbox.url = f"http://127.0.0.1:{http.server_port}/sms"  # type: ignore[attr-defined]
    yield Inbox
    http.shutdown()
    http.server_close()


def seed_portal(server: ServerProcess) -> None:
    """Bills from the world's readings, and the customers' help articles."""
    db = open_database(server.data_dir, server.database_url)
    try:
        with db.write() as conn:
            billing.install_defaults(conn)
            billing.set_billing_from(conn, date(2020, 1, 1))
            billing.run(conn, billing.SYSTEM, ServerClock(), date.today())
            insert_records(conn, "kb_articles", [
                {"id": f"help-{i}", "title": t, "category": c,
                 "tags": json.dumps(list(tags), ensure_ascii=False), "body": "\n\n".join(b)}
                for i, (t, c, tags, b) in enumerate(CUSTOMER_ARTICLES)])
            insert_records(conn, "kb_articles", [{
                "id": "internal-1", "title": "内部：如何处理漏气投诉", "category": "安全规程",
                "tags": json.dumps(["漏气"], ensure_ascii=False), "body": "仅供员工。"}])
    finally:
        db.close()


def _portal(tmp_path: Path, inbox: type[Inbox], **env: str) -> Iterator[ServerProcess]:
    data = tmp_path / "server"
    data.mkdir()
    proc = ServerProcess(data)
    proc.seed_world()
    seed_portal(proc)
    proc.start(FIELDAPP_SMS_URL=inbox.url, **env)  # type: ignore[attr-defined]
    yield proc
    proc.discard()


@pytest.fixture
def portal(tmp_path: Path, inbox: type[Inbox]) -> Iterator[ServerProcess]:
    """The portal as a utility runs it: no online payment provider configured."""
    yield from _portal(tmp_path, inbox)


@pytest.fixture
def paying_portal(tmp_path: Path, inbox: type[Inbox]) -> Iterator[ServerProcess]:
    """The portal with the simulated payment provider (``FIELDAPP_SIMULATED_PAYMENTS=1``,
    as ``--simulated-payments`` sets it): for the tests that pay a bill."""
    yield from _portal(tmp_path, inbox, FIELDAPP_SIMULATED_PAYMENTS="1")


def execute(server: ServerProcess, sql: str, params: list[Any] | None = None) -> None:
    """One committed write to the server's storage, whichever backend."""
    db = open_database(server.data_dir, server.database_url)
    try:
        with db.write() as conn:
            conn.execute(sql, params or [])
    finally:
        db.close()


def reschedule_link(server: ServerProcess, job_id: str, due: datetime,
                    now: datetime) -> str:
    """The inspection reminder's link to move one of 陈桂芳's visits (absolute)."""
    db = open_database(server.data_dir, server.database_url)
    try:
        with db.write() as conn:
            return appointment_link(conn, job_id, "cust-1", due, now)
    finally:
        db.close()


def csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', html)[1]  # type: ignore[index]


def sign_in(server: ServerProcess, inbox: type[Inbox],
            who: tuple[str, str] = CHEN) -> requests.Session:
    """A browser-like session signed in as the customer with this account and phone."""
    s = requests.Session()
    sent = s.post(server.url + "/portal/login", data={"account_no": who[0], "phone": who[1]},
                  timeout=10)
    assert sent.url.endswith("/portal/verify"), sent.text
    done = s.post(server.url + "/portal/verify", data={"code": inbox.code_for(who[1])},
                  timeout=10)
    assert done.url.endswith("/portal/"), done.text
    return s

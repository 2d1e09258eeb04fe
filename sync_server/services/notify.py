"""Sending what the rules queued for customers (短信): through a notifier, outside any
database transaction, with retries.

    deliver(db, notifier)      # every pending message; failures stay pending, counted

The shipped notifier only writes the message to the server's log, a login code in it masked
(a utility connects its own SMS gateway later); ``HttpSms`` posts each message as JSON to a
gateway's URL. A message is marked sent only after the gateway accepted it; one that fails
five times is marked failed with the gateway's answer, for the office to see.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Protocol

from sync_server.services.phones import masked_phone
from sync_server.storage.db import Storage

log = logging.getLogger("fieldapp.notify")
MAX_ATTEMPTS = 5
BATCH = 100


class Notifier(Protocol):
    name: str

    def send(self, channel: str, recipient: str, text: str, secret: str | None = None) -> str:
        """Hand one message over; returns the provider's id for it, raises if refused.
        ``secret`` is the part of ``text`` only the recipient may read (a login code)."""
        ...


def masked(text: str, secret: str | None) -> str:
    """The message as anyone but its recipient may read it: the secret (a login code) in it
    replaced by asterisks. The office's copy of an SMS and the log's are both this."""
    return text.replace(secret, "*" * 6) if secret else text


class LogNotifier:
    """Writes each message to the log instead of sending it: the default until a gateway
    is configured, so nothing reaches a customer by accident from a test system."""

    name = "log"

    def send(self, channel: str, recipient: str, text: str, secret: str | None = None) -> str:
        # The log is read by whoever runs the server: a customer's login code is not theirs.
        log.info("%s to %s: %s", channel, masked_phone(recipient),
                 masked(text, secret))
        return "log"


class HttpSms:
    """An SMS gateway that takes ``{"to", "text"}`` as JSON with a bearer token."""

    name = "http-sms"

    def __init__(self, url: str, token: str | None = None, timeout: float = 10) -> None:
        if not url.startswith(("http://", "https://")):  # urllib would also open file: URLs
            raise ValueError(f"the SMS gateway's URL must be http(s): {url!r}")
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, channel: str, recipient: str, text: str, secret: str | None = None) -> str:
        # The standard library's client: the server keeps the tablet's HTTP stack (requests)
        # out of its process, and one JSON POST needs nothing more.
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = json.dumps({"to": recipient, "text": text}).encode()
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                status, answer = resp.status, resp.read()
        except urllib.error.HTTPError as refused:
            status, answer = refused.code, refused.read()
        if status >= 300:
            said = answer[:200].decode(errors="replace")
            raise RuntimeError(f"gateway answered {status}: {said}")
        try:
            reply = json.loads(answer)
        except ValueError:
            return ""
        return str(reply.get("id") or "") if isinstance(reply, dict) else ""


def from_settings(url: str | None, token: str | None) -> Notifier:
    return HttpSms(url, token) if url else LogNotifier()


def deliver(db: Storage, notifier: Notifier) -> int:
    """Send the pending messages; returns how many went out."""
    with db.read() as conn:
        pending = [dict(r) for r in conn.execute(
            "SELECT id, channel, recipient, text, attempts FROM notifications"
            " WHERE status = 'pending' ORDER BY id LIMIT ?", [BATCH]).fetchall()]
    sent = 0
    for message in pending:
        try:
            provider_id = notifier.send(message["channel"], message["recipient"],
                                        message["text"])
        except Exception as exc:  # the gateway's problem is recorded, the rest go on
            attempts = message["attempts"] + 1
            with db.write() as conn:
                conn.execute("UPDATE notifications SET attempts = ?, error = ?, status = ?"
                             " WHERE id = ?",
                             [attempts, str(exc)[:500],
                              "failed" if attempts >= MAX_ATTEMPTS else "pending",
                              message["id"]])
            continue
        with db.write() as conn:
            conn.execute("UPDATE notifications SET status = 'sent', sent_at = ?,"
                         " provider_id = ?, attempts = attempts + 1, error = NULL"
                         " WHERE id = ?",
                         [datetime.now(UTC).isoformat(timespec="seconds"),
                          f"{notifier.name}:{provider_id}", message["id"]])
        sent += 1
    return sent

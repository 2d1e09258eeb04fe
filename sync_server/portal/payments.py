"""Paying a bill online through a payment provider, and the provider's word that it was paid.

    order = open_order(conn, customer_id, bill_id, provider, now)   # then send them to
    provider.checkout_url(order["id"])                              # the provider's page
    status, outcome = receive(conn, provider, clock, body, signature, now)   # its callback

A bill is paid only by the provider's callback, never by the customer's browser coming back:
the callback's body must carry the provider's signature (HMAC-SHA256 with the secret shared
with it), name an order this server opened, and the order's exact amount. A callback is
idempotent: the second delivery of one that was applied (providers retry until answered)
changes nothing and is answered as a success, so the provider stops. Every callback is kept
with what came of it, forged ones too.

The shipped provider is ``SimulatedProvider``: a page on this server that stands in for a
real one (labelled as such to the customer) and calls back exactly as a real one would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import datetime
from typing import Any, Protocol

from fieldapp.billing.tariff import yuan
from fieldapp.domain.roles import SYSTEM as ROLE_SYSTEM
from sync_server.clock import ServerClock
from sync_server.portal.access import PortalError
from sync_server.services import alerts, billing
from sync_server.services.auth import Principal
from sync_server.services.keys import secret
from sync_server.storage.db import Connection

PORTAL = Principal("portal", "网上营业厅", ROLE_SYSTEM, None, "portal")


class PaymentProvider(Protocol):
    name: str
    label: str  # how the customer sees it named

    def checkout_url(self, order_id: str) -> str: ...

    def signature_ok(self, conn: Connection, body: bytes, signature: str) -> bool: ...


class SimulatedProvider:
    """Stands in for a real provider: its checkout page is ``/portal/pay/sim/{order}``,
    its secret one of the server's own."""

    name = "simulated"
    label = "模拟支付（演示环境，不会真实扣款）"

    def checkout_url(self, order_id: str) -> str:
        return f"/portal/pay/sim/{order_id}"

    def sign(self, conn: Connection, body: bytes) -> str:
        return hmac.new(secret(conn, "payment.simulated"), body, hashlib.sha256).hexdigest()

    def signature_ok(self, conn: Connection, body: bytes, signature: str) -> bool:
        return hmac.compare_digest(self.sign(conn, body), signature.strip().lower())

    def callback_body(self, order: dict[str, Any], status: str) -> bytes:
        """What the provider posts back once the customer paid (or gave up)."""
        return json.dumps({"order_id": order["id"], "status": status,
                           "amount_cents": order["amount_cents"],
                           "provider_ref": "SIM" + secrets.token_hex(8).upper()},
                          separators=(",", ":")).encode()


def open_order(conn: Connection, customer_id: str, bill_id: str, provider: PaymentProvider,
               now: datetime) -> dict[str, Any]:
    """The customer's open order for one of their unpaid bills (one per bill at a time, so
    two tabs cannot pay it twice). Another customer's bill is "not found", as a missing one."""
    bill = conn.execute("SELECT * FROM bills WHERE id = ? AND customer_id = ?",
                        [bill_id, customer_id]).fetchone()
    if bill is None:
        raise PortalError("没有找到这张账单", 404, "unknown_bill")
    if bill["status"] not in billing.UNPAID:
        raise PortalError("这张账单已缴清，无需再缴", 409, "already_paid")
    row = conn.execute("SELECT * FROM payment_orders WHERE bill_id = ? AND status = 'created'"
                       " AND provider = ?", [bill_id, provider.name]).fetchone()
    if row is None:
        order_id = "PO" + now.strftime("%Y%m%d") + secrets.token_hex(6).upper()
        row = conn.execute(
            "INSERT INTO payment_orders(id, bill_id, customer_id, amount_cents, provider,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
            [order_id, bill_id, customer_id, bill["amount_cents"], provider.name,
             now.isoformat(timespec="seconds")]).fetchone()
    return dict(row)


def order_of(conn: Connection, order_id: str, customer_id: str | None = None) -> dict[str, Any]:
    """An order (of this customer, when given), with its bill's period."""
    row = conn.execute("SELECT o.*, b.period_start, b.period_end, b.status AS bill_status"
                       " FROM payment_orders o JOIN bills b ON b.id = o.bill_id"
                       " WHERE o.id = ?" + (" AND o.customer_id = ?" if customer_id else ""),
                       [order_id, *([customer_id] if customer_id else [])]).fetchone()
    if row is None:
        raise PortalError("没有找到这笔支付", 404, "unknown_order")
    return dict(row)


def receive(conn: Connection, provider: PaymentProvider, clock: ServerClock, body: bytes,
            signature: str, now: datetime) -> tuple[int, str]:
    """Apply one callback; (HTTP status, outcome). Refusals are returned, not raised, so
    the callback's record commits with them."""
    status, outcome, order_id = _apply(conn, provider, clock, body, signature, now)
    conn.execute("INSERT INTO payment_callbacks(order_id, provider, body, outcome, at)"
                 " VALUES (?, ?, ?, ?, ?)",
                 [order_id, provider.name, body[:4000].decode("utf-8", "replace"), outcome,
                  now.isoformat(timespec="seconds")])
    return status, outcome


def _apply(conn: Connection, provider: PaymentProvider, clock: ServerClock, body: bytes,
           signature: str, now: datetime) -> tuple[int, str, str | None]:
    if not provider.signature_ok(conn, body, signature):
        return 401, "bad_signature", None
    try:
        sent = json.loads(body)
        order_id, state = str(sent["order_id"]), str(sent["status"])
        amount, ref = int(sent["amount_cents"]), str(sent["provider_ref"])[:64]
    except (ValueError, KeyError, TypeError):
        return 400, "malformed", None
    order = conn.execute("SELECT * FROM payment_orders WHERE id = ? AND provider = ?",
                         [order_id, provider.name]).fetchone()
    if order is None:
        return 404, "unknown_order", order_id
    if amount != order["amount_cents"]:
        return 400, "amount_mismatch", order_id
    if order["status"] != "created":
        return 200, "duplicate", order_id  # a retry of one applied already: nothing changes
    if state != "paid":
        conn.execute("UPDATE payment_orders SET status = 'failed', provider_ref = ?"
                     " WHERE id = ?", [ref, order_id])
        return 200, "failed", order_id
    bill = conn.execute("SELECT * FROM bills WHERE id = ?", [order["bill_id"]]).fetchone()
    stamp = now.isoformat(timespec="seconds")
    if bill["status"] not in billing.UNPAID:
        # Paid at the counter meanwhile: the money came twice and goes back.
        conn.execute("UPDATE payment_orders SET status = 'paid_twice', provider_ref = ?,"
                     " paid_at = ? WHERE id = ?", [ref, stamp, order_id])
        alerts.raise_alert(conn, "payment_twice", order_id, stamp,
                           f"账单 {bill['id']} 已缴清后又收到在线支付 {yuan(amount)} 元"
                           f"（{order_id}），请退款", customer_id=bill["customer_id"])
        return 200, "bill_already_paid", order_id
    conn.execute("UPDATE payment_orders SET status = 'paid', provider_ref = ?, paid_at = ?"
                 " WHERE id = ?", [ref, stamp, order_id])
    billing.settle(conn, PORTAL, clock, bill, "网上营业厅")
    return 200, "paid", order_id

"""Customers who asked for no campaign notices (退订群发): set at 客服中心 or by the customer
in the portal, each change in the audit chain. Only campaigns read it: the messages a
customer's own service sends (job done, appointment, bills, login codes) still go."""

from __future__ import annotations

from sync_server.services import audit
from sync_server.services.auth import Principal
from sync_server.storage.db import Connection, utc_now

SOURCE_ZH = {"office": "客服中心", "portal": "网上营业厅"}


def opted_out(conn: Connection, customer_id: str) -> dict[str, str] | None:
    """When, by whom and where the customer opted out; None when they receive campaigns."""
    row = conn.execute("SELECT at, by_user, source FROM campaign_opt_outs WHERE customer_id = ?",
                       [customer_id]).fetchone()
    return dict(row) if row else None


def set_opt_out(conn: Connection, who: Principal | str, customer_id: str, out: bool,
                source: str) -> bool:
    """Opt the customer out of (or back into) campaigns; False when nothing changed.
    ``who`` is the office user, or the customer's own name for the portal (``portal:户号``)."""
    if (opted_out(conn, customer_id) is not None) == out:
        return False
    username = who.username if isinstance(who, Principal) else who
    if out:
        conn.execute("INSERT INTO campaign_opt_outs(customer_id, at, by_user, source)"
                     " VALUES (?, ?, ?, ?)", [customer_id, utc_now(), username, source])
    else:
        conn.execute("DELETE FROM campaign_opt_outs WHERE customer_id = ?", [customer_id])
    audit.security_event(conn, who, "campaign_opt_out" if out else "campaign_opt_in",
                         customer_id, {"source": source})
    return True

"""Signing customers in: account number and the phone on file, then a one-time code by SMS.

    found = start_login(conn, account, phone, client, now)   # a Login with the code to send
    customer_id = check_code(conn, code_id, typed, now)      # or PortalError, attempts counted
    token = open_session(conn, customer_id, now)             # the cookie's value

Codes live five minutes and take five wrong tries; a customer gets one a minute and five an
hour, a client address twenty an hour, and a client that keeps naming accounts and phones
that do not match is stopped like a wrong password. Only hashes of codes and session tokens
are stored. Every refusal is a ``PortalError`` whose message is for the customer.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sync_server.errors import ApiError
from sync_server.services.auth import token_hash
from sync_server.services.keys import secret
from sync_server.services.phones import phone_digits
from sync_server.storage.db import Connection

CODE_TTL = timedelta(minutes=5)
MAX_CODE_ATTEMPTS = 5
RESEND_AFTER = timedelta(seconds=60)
CODES_PER_HOUR = 5  # per customer
CODES_PER_HOUR_CLIENT = 20
MISMATCHES_PER_CLIENT = 10  # account and phone not matching, per 15 minutes
SESSION_TTL = timedelta(hours=2)
_ACCOUNT = re.compile(r"^\d{6,20}$")


class PortalError(ApiError):
    """A refusal to show the customer; nothing was stored or changed by the request."""

    def __init__(self, message: str, status: int = 422, code: str = "invalid") -> None:
        super().__init__(status, code, message)


@dataclass(frozen=True)
class Login:
    code_id: int
    code: str
    phone: str  # where to send it
    customer_id: str


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def start_login(conn: Connection, account: str, phone: str, client: str,
                now: datetime) -> Login | PortalError:
    """A new code for the customer with this account and phone. A mismatch is returned
    (not raised) so the caller's transaction keeps its record for throttling."""
    account, typed = account.strip(), phone_digits(phone)
    if not _ACCOUNT.match(account):
        raise PortalError("户号应为 6–20 位数字，见燃气账单或燃气卡")
    if not re.fullmatch(r"1\d{10}", typed):
        raise PortalError("手机号应为 11 位数字")
    window = _iso(now - timedelta(minutes=15))
    mismatches = conn.execute("SELECT count(*) FROM login_failures WHERE client = ?"
                              " AND username LIKE 'portal:%' AND at > ?",
                              [client, window]).fetchone()[0]
    if mismatches >= MISMATCHES_PER_CLIENT:
        raise PortalError("尝试次数过多，请 15 分钟后再试", 429, "too_many_attempts")
    customer = conn.execute("SELECT id, phone FROM customers WHERE account_no = ?",
                            [account]).fetchone()
    if customer is None or phone_digits(customer["phone"]) != typed:
        conn.execute("INSERT INTO login_failures(username, client, at) VALUES (?, ?, ?)",
                     ["portal:" + account, client, _iso(now)])
        return PortalError("户号与预留手机号不一致。请核对燃气账单上的户号；"
                           "更换过手机号请携带身份证到营业厅或致电 96777", 401, "no_match")
    hour = _iso(now - timedelta(hours=1))
    last, count = conn.execute("SELECT max(created_at), count(*) FROM portal_codes"
                               " WHERE customer_id = ? AND created_at > ?",
                               [customer["id"], hour]).fetchone()
    if last and datetime.fromisoformat(last) + RESEND_AFTER > now:
        wait = int((datetime.fromisoformat(last) + RESEND_AFTER - now).total_seconds()) + 1
        raise PortalError(f"验证码已发送，请 {wait} 秒后再获取", 429, "too_soon")
    by_client = conn.execute("SELECT count(*) FROM portal_codes WHERE client = ?"
                             " AND created_at > ?", [client, hour]).fetchone()[0]
    if count >= CODES_PER_HOUR or by_client >= CODES_PER_HOUR_CLIENT:
        raise PortalError("获取验证码次数过多，请一小时后再试", 429, "too_many_codes")
    # Codes are of no use after a day (the hourly limits look back one hour): kept no longer.
    conn.execute("DELETE FROM portal_codes WHERE created_at < ?",
                 [_iso(now - timedelta(days=1))])
    code = f"{secrets.randbelow(10**6):06d}"
    row = conn.execute(
        "INSERT INTO portal_codes(customer_id, code_hash, client, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?) RETURNING id",
        [customer["id"], _code_hash(conn, customer["id"], code), client, _iso(now),
         _iso(now + CODE_TTL)]).fetchone()
    return Login(row[0], code, customer["phone"], customer["id"])


def withdraw(conn: Connection, code_id: int) -> None:
    """A code whose SMS could not be sent is no use: it stops counting as sent."""
    conn.execute("DELETE FROM portal_codes WHERE id = ?", [code_id])


def check_code(conn: Connection, code_id: int, typed: str,
               now: datetime) -> str | PortalError:
    """The customer the code was sent to; a wrong code counts an attempt and is returned
    (not raised) so that count commits."""
    row = conn.execute("SELECT * FROM portal_codes WHERE id = ?", [code_id]).fetchone()
    if row is None:
        raise PortalError("请先获取验证码", 400, "no_code")
    if row["used_at"]:
        raise PortalError("该验证码已使用，请重新获取", 400, "code_used")
    if datetime.fromisoformat(row["expires_at"]) <= now:
        raise PortalError("验证码已过期（5 分钟内有效），请重新获取", 400, "code_expired")
    if row["attempts"] >= MAX_CODE_ATTEMPTS:
        raise PortalError("验证码错误次数过多，请重新获取", 429, "code_locked")
    typed = typed.strip()
    if not re.fullmatch(r"\d{6}", typed):
        return PortalError("验证码是短信中的 6 位数字", 422, "bad_code")
    if not hmac.compare_digest(row["code_hash"], _code_hash(conn, row["customer_id"], typed)):
        left = MAX_CODE_ATTEMPTS - row["attempts"] - 1
        conn.execute("UPDATE portal_codes SET attempts = attempts + 1 WHERE id = ?", [code_id])
        if left <= 0:
            return PortalError("验证码错误次数过多，请重新获取", 429, "code_locked")
        return PortalError(f"验证码不正确，还可再试 {left} 次", 401, "wrong_code")
    conn.execute("UPDATE portal_codes SET used_at = ? WHERE id = ?", [_iso(now), code_id])
    return str(row["customer_id"])


def open_session(conn: Connection, customer_id: str, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    conn.execute("INSERT INTO portal_sessions(token_hash, customer_id, created_at, expires_at)"
                 " VALUES (?, ?, ?, ?)",
                 [token_hash(token), customer_id, _iso(now), _iso(now + SESSION_TTL)])
    conn.execute("DELETE FROM portal_sessions WHERE expires_at < ?", [_iso(now)])
    return token


def session_customer(conn: Connection, token: str, now: datetime) -> dict[str, Any] | None:
    """The signed-in customer's row, or None for a missing, ended or expired session."""
    row = conn.execute("SELECT c.* FROM portal_sessions s JOIN customers c"
                       " ON c.id = s.customer_id WHERE s.token_hash = ? AND s.expires_at > ?",
                       [token_hash(token), _iso(now)]).fetchone()
    return dict(row) if row else None


def close_session(conn: Connection, token: str) -> None:
    conn.execute("DELETE FROM portal_sessions WHERE token_hash = ?", [token_hash(token)])


def _code_hash(conn: Connection, customer_id: str, code: str) -> str:
    return hmac.new(secret(conn, "portal"), f"code:{customer_id}:{code}".encode(),
                    hashlib.sha256).hexdigest()

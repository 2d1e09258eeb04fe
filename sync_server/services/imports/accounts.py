"""Technicians and office accounts from the utility's staff list, keyed on the login name.

A new account gets the file's 初始密码, or a random one written (with the others) to the
operator's passwords file, never printed; an account that exists keeps its password, so
the same file twice changes nothing. Every account made or changed is a security event in
the audit chain, as one made on the office's 用户 page is.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from fieldapp.domain.kinds import KIND_ZH, SKILLS
from fieldapp.domain.roles import ACCOUNT_ROLES, DISTRICT_SCOPED, ROLE_ZH, TECHNICIAN
from sync_server.services import audit, auth, customer_fields
from sync_server.services.imports.mapping import Field
from sync_server.services.imports.rows import Checked, rows
from sync_server.services.imports.table_file import Table
from sync_server.services.installation import published_districts
from sync_server.storage.db import Connection

ACCOUNT_FIELDS: dict[str, Field] = {
    "username": Field("账号", ("账号", "用户名", "登录名", "工号", "username"), required=True),
    "display_name": Field("姓名", ("姓名", "名字", "display_name", "name"), required=True),
    "role": Field("角色", ("角色", "岗位", "role"), required=True),
    "district": Field("区域", ("区域", "营业区域", "所属区域", "district")),
    "skills": Field("技能", ("技能", "工种", "skills")),
    "password": Field("初始密码", ("初始密码", "密码", "password")),
}
ROLE_NAMES = {**{zh: code for code, zh in ROLE_ZH.items() if code in ACCOUNT_ROLES},
              **{code: code for code in ACCOUNT_ROLES}, "技术员": TECHNICIAN,
              "维修员": TECHNICIAN, "安检员": TECHNICIAN}
SKILL_NAMES = {**{KIND_ZH[s]: s for s in SKILLS}, **{s: s for s in SKILLS}}
ROLE_CHOICES = "、".join(ROLE_ZH[r] for r in ACCOUNT_ROLES)
SKILL_CHOICES = "、".join(KIND_ZH[s] for s in SKILLS)


@dataclass
class AccountPlan(Checked):
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # by username

    def summary(self) -> str:
        return f"{len(self.accounts)} 个账号"


@dataclass
class AccountOutcome:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    passwords: dict[str, str] = field(default_factory=dict)  # generated, for the operator


def check(conn: Connection, table: Table, mapping: dict[str, str]) -> AccountPlan:
    plan = AccountPlan(rows=len(table.rows))
    districts = set(published_districts(conn))
    first_row: dict[str, int] = {}
    for row in rows(table, mapping, ACCOUNT_FIELDS):
        value, bad = row.value, row.bad
        username = value("username")
        if not auth.USERNAME.fullmatch(username):
            bad("username", f"账号「{username}」应为 3–32 位小写字母、数字或下划线，以字母开头")
        elif username in first_row:
            bad("username", f"账号 {username} 与第 {first_row[username]} 行重复")
        if not value("display_name"):
            bad("display_name", "缺少姓名")
        role = ROLE_NAMES.get(value("role"))
        if role is None:
            bad("role", f"角色「{value('role')}」不认识（{ROLE_CHOICES}）")
        district = value("district") or None
        if district and districts and district not in districts:
            bad("district", f"未知区域「{district}」（已设：{'、'.join(sorted(districts))}）")
        if district and role is not None and role not in DISTRICT_SCOPED \
                and role != TECHNICIAN:
            bad("district", f"{ROLE_ZH[role]}看全部区域，不应填区域")
        words = customer_fields.words(value("skills"))
        skills = [SKILL_NAMES.get(w) for w in words]
        if None in skills:
            unknown = [w for w, s in zip(words, skills, strict=True) if s is None]
            bad("skills", f"技能「{'、'.join(unknown)}」不认识（{SKILL_CHOICES}）")
        if role == TECHNICIAN and not words:
            bad("skills", "安检员至少要有一项技能")
        password = value("password")
        if password and len(password) < auth.MIN_PASSWORD:
            bad("password", f"初始密码至少 {auth.MIN_PASSWORD} 位")
        if not plan.passed(row):
            continue
        first_row[username] = row.number
        plan.accounts[username] = {
            "display_name": value("display_name"), "role": role, "district": district,
            "skills": sorted({s for s in skills if s}), "password": password or None}
    return plan


def apply(conn: Connection, plan: AccountPlan, *, by_user: str) -> AccountOutcome:
    """Make or update the plan's accounts in the caller's transaction."""
    outcome = AccountOutcome()
    stored = {r["username"]: dict(r) for r in conn.execute(
        "SELECT username, display_name, role, district, skills FROM users")}
    for username, account in plan.accounts.items():
        detail = {k: account[k] for k in ("display_name", "role", "district", "skills")}
        current = stored.get(username)
        if current is None:
            password = account["password"] or secrets.token_urlsafe(9)
            if not account["password"]:
                outcome.passwords[username] = password
            auth.add_user(conn, username, account["display_name"], account["role"], password,
                          account["district"], account["skills"])
            audit.security_event(conn, by_user, "user_created", username, detail)
            outcome.added += 1
            continue
        if {**current, "skills": json.loads(current["skills"] or "[]")} == \
                {"username": username, **detail}:
            outcome.unchanged += 1
            continue
        conn.execute("UPDATE users SET display_name = ?, role = ?, district = ?, skills = ?"
                     " WHERE username = ?", [account["display_name"], account["role"],
                                             account["district"],
                                             json.dumps(account["skills"], ensure_ascii=False),
                                             username])
        audit.security_event(conn, by_user, "user_changed", username, detail)
        outcome.updated += 1
    return outcome

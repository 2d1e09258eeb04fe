"""用户与设备 (admin only): create accounts, give roles, districts and skills, disable an
account, reset a password, and revoke a lost tablet; every account's devices with when
they were last seen."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from fieldapp.domain.kinds import KIND_ZH, SKILLS
from fieldapp.domain.roles import ACCOUNT_ROLES, ADMINS, ROLE_ZH, TECHNICIAN
from sync_server.deps import server_of
from sync_server.office.auth import check_csrf
from sync_server.office.web import (
    Office,
    districts_for,
    pages_router,
    render_page,
    require,
)
from sync_server.services import audit, auth
from sync_server.services.phones import masked_phone, phone_digits

router = pages_router()
USERNAME, MIN_PASSWORD = auth.USERNAME, auth.MIN_PASSWORD
# Why a login ended early, on the device's row (an admin sees a replayed token at once).
ENDED_ZH = {
    auth.TOKEN_REUSED: "旧令牌被再次使用（疑似被复制盗用），该设备的登录已全部失效，需重新登录",
    auth.PASSWORD_RESET: "密码已重设，登录已失效",
    auth.ACCOUNT_DISABLED: "账号停用，登录已失效",
    auth.RELEASED: "已解除绑定，下一个登录的账号将使用这台平板"}


def _admin(who: auth.Principal) -> None:
    require(who, ADMINS, "只有管理员可以管理用户和设备")


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, who: Office, error: str | None = None,
               done: str | None = None) -> HTMLResponse:
    _admin(who)
    with server_of(request).db.read() as conn:
        users = [dict(r) for r in conn.execute(
            "SELECT username, display_name, role, district, skills, active, phone FROM users"
            " ORDER BY role, username")]
        devices = [dict(r) for r in conn.execute(
            "SELECT device_id, username, name, kind, created_at, expires_at, revoked_at,"
            " wiped_at, last_seen_at, ended_at, ended_reason FROM devices"
            " ORDER BY username, last_seen_at DESC")]
        districts = districts_for(conn, who)
    for u in users:
        u["skills"] = json.loads(u["skills"] or "[]")
        u["devices"] = [d for d in devices if d["username"] == u["username"]]
    return render_page(request, who, "users.html", {
        "users": users, "districts": districts, "roles": ACCOUNT_ROLES, "skills": SKILLS,
        "role_names": ROLE_ZH, "skill_names": KIND_ZH, "ended_names": ENDED_ZH,
        "error": error, "done": done})


def _back(error: str | None = None, done: str | None = None) -> RedirectResponse:
    query = f"?error={quote(error)}" if error else (f"?done={quote(done)}" if done else "")
    return RedirectResponse("/office/users" + query, status_code=303)


@router.post("/users")
async def create_user(request: Request, who: Office,
                      username: Annotated[str, Form(max_length=32)] = "",
                      display_name: Annotated[str, Form(max_length=40)] = "",
                      role: Annotated[str, Form(max_length=20)] = "",
                      district: Annotated[str, Form(max_length=40)] = "",
                      password: Annotated[str, Form(max_length=256)] = "",
                      csrf: Annotated[str, Form(max_length=128)] = "") -> RedirectResponse:
    check_csrf(request, csrf)
    _admin(who)
    skills = [s for s in (await request.form()).getlist("skills") if s in SKILLS]
    problems = []
    if not USERNAME.fullmatch(username):
        problems.append("用户名应为 3–32 位小写字母、数字或下划线，以字母开头")
    if not display_name.strip():
        problems.append("请填写姓名")
    if role not in ACCOUNT_ROLES:
        problems.append("请选择角色")
    if len(password) < MIN_PASSWORD:
        problems.append(f"初始密码至少 {MIN_PASSWORD} 位")
    if role == TECHNICIAN and not skills:
        problems.append("安检员至少要有一项技能")
    with server_of(request).db.write() as conn:
        if conn.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
            problems.append(f"用户名 {username} 已存在")
        if problems:
            return _back(error="；".join(problems))
        auth.add_user(conn, username, display_name.strip(), role, password,
                      district.strip() or None, skills)
        audit.security_event(conn, who, "user_created", username, {
            "display_name": display_name.strip(), "role": role,
            "district": district.strip() or None, "skills": skills})
    return _back(done=f"已创建用户 {username}")


@router.post("/users/{username}/active")
def set_active(request: Request, who: Office, username: str,
               active: Annotated[str, Form(max_length=1)] = "",
               csrf: Annotated[str, Form(max_length=128)] = "") -> RedirectResponse:
    """Disable or enable an account. Disabling ends every device token and office session
    of the account at once, so enabling it again does not bring them back."""
    check_csrf(request, csrf)
    _admin(who)
    if username == who.username:
        return _back(error="不能停用自己的账号")
    with server_of(request).db.write() as conn:
        found = conn.execute("UPDATE users SET active = ? WHERE username = ? RETURNING username",
                             [1 if active == "1" else 0, username]).fetchone()
        ended = auth.end_logins(conn, username, auth.ACCOUNT_DISABLED) \
            if found and active != "1" else 0
        if found:
            audit.security_event(conn, who, "user_enabled" if active == "1" else "user_disabled",
                                 username)
    if not found:
        return _back(error=f"没有用户 {username}")
    if active == "1":
        return _back(done=f"用户 {username} 已启用，需重新登录")
    return _back(done=f"用户 {username} 已停用，{ended} 个登录已失效（平板数据不会被清除）")


MOBILE = re.compile(r"1[3-9]\d{9}")  # a mainland mobile number: what an SMS reaches


@router.post("/users/{username}/phone")
def set_phone(request: Request, who: Office, username: str,
              phone: Annotated[str, Form(max_length=40)] = "",
              csrf: Annotated[str, Form(max_length=128)] = "") -> RedirectResponse:
    """The mobile an overdue alert texts when it escalates to the account's role (blank:
    the account is told by the office's alert list only)."""
    check_csrf(request, csrf)
    _admin(who)
    digits = phone_digits(phone)
    if phone.strip() and not MOBILE.fullmatch(digits):
        return _back(error=f"手机号应为 11 位大陆手机号码，不是“{phone.strip()[:20]}”")
    with server_of(request).db.write() as conn:
        found = conn.execute("UPDATE users SET phone = ? WHERE username = ? RETURNING username",
                             [digits or None, username]).fetchone()
        if found:
            audit.security_event(conn, who, "user_phone_set", username,
                                 {"phone": masked_phone(digits) if digits else None})
    if not found:
        return _back(error=f"没有用户 {username}")
    return _back(done=f"已保存 {username} 的手机号" if digits else f"已清除 {username} 的手机号")


@router.post("/users/{username}/password")
def reset_password(request: Request, who: Office, username: str,
                   password: Annotated[str, Form(max_length=256)] = "",
                   csrf: Annotated[str, Form(max_length=128)] = "") -> RedirectResponse:
    check_csrf(request, csrf)
    _admin(who)
    if len(password) < MIN_PASSWORD:
        return _back(error=f"新密码至少 {MIN_PASSWORD} 位")
    hashed = auth.hash_password(password)  # argon2 before the write lock, not inside it
    with server_of(request).db.write() as conn:
        found = conn.execute("UPDATE users SET password_hash = ? WHERE username = ?"
                             " RETURNING username", [hashed, username]).fetchone()
        # Whoever knew the old password may hold a token: every login of the account ends.
        ended = auth.end_logins(conn, username, auth.PASSWORD_RESET) if found else 0
        if found:
            audit.security_event(conn, who, "password_reset", username)
    if not found:
        return _back(error=f"没有用户 {username}")
    return _back(done=f"已重设 {username} 的密码，{ended} 个登录已失效，需用新密码重新登录")


@router.post("/devices/{device_id}/revoke")
def revoke_device(request: Request, who: Office, device_id: str,
                  csrf: Annotated[str, Form(max_length=128)] = "") -> RedirectResponse:
    """A lost or stolen tablet: at its next connection it hands in the work it holds, is
    refused everything else, erases its data and confirms (remote wipe)."""
    check_csrf(request, csrf)
    _admin(who)
    if device_id == who.device_id:
        return _back(error="不能停用当前正在使用的会话，请用“退出”")
    with server_of(request).db.write() as conn:
        found = conn.execute("UPDATE devices SET revoked_at = ? WHERE device_id = ?"
                             " AND revoked_at IS NULL RETURNING device_id",
                             [datetime.now(UTC).isoformat(timespec="seconds"),
                              device_id]).fetchone()
        if found:
            audit.security_event(conn, who, "device_revoked", device_id, {"via": "office"})
    if not found:
        return _back(error=f"设备 {device_id} 不存在或已停用")
    return _back(done=f"设备 {device_id} 已停用：下次联网时先上传未上传的工作，然后清除本机数据")


@router.post("/devices/{device_id}/release")
def release_device(request: Request, who: Office, device_id: str,
                   csrf: Annotated[str, Form(max_length=128)] = "") -> RedirectResponse:
    """Hand a tablet on to another technician: a device id otherwise belongs to the account
    that registered it. The current login on it ends; its data is not wiped, and the
    tablet itself refuses a new user while the last one's work is unsent."""
    check_csrf(request, csrf)
    _admin(who)
    with server_of(request).db.write() as conn:
        found = conn.execute("UPDATE devices SET ended_at = ?, ended_reason = ?,"
                             " previous_token_hash = NULL WHERE device_id = ? AND kind = ?"
                             " AND revoked_at IS NULL RETURNING device_id",
                             [datetime.now(UTC).isoformat(timespec="seconds"), auth.RELEASED,
                              device_id, auth.DEVICE]).fetchone()
        if found:
            audit.security_event(conn, who, "device_released", device_id)
    if not found:
        return _back(error=f"平板 {device_id} 不存在或已停用")
    return _back(done=f"平板 {device_id} 已解除绑定：下一个登录的账号将使用它")

"""The office's sign-in and sign-out pages (the session itself: office/auth.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sync_server.deps import server_of
from sync_server.errors import ApiError
from sync_server.office.auth import (
    COOKIE,
    SESSION_TTL,
    check_csrf,
    keep_login_csrf,
    login_csrf,
    login_csrf_ok,
    sign_in,
    sign_in_failed,
    sign_out,
)
from sync_server.office.web import Office, local_url, pages_router, templates
from sync_server.services import auth

router = pages_router()


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/office/") -> HTMLResponse:
    return _login_form(request, {"next": local_url(next)})


def _login_form(request: Request, context: dict[str, Any], status_code: int = 200
                ) -> HTMLResponse:
    """The sign-in page with its pre-session CSRF token, in the form and in a cookie."""
    token = login_csrf(request)
    page = templates.TemplateResponse(request, "login.html", {**context, "csrf": token},
                                      status_code=status_code)
    keep_login_csrf(page, request, token)
    return page


@router.post("/login", response_model=None)
def login(request: Request, username: Annotated[str, Form(max_length=64)] = "",
          password: Annotated[str, Form(max_length=256)] = "",
          next: Annotated[str, Form(max_length=500)] = "/office/",
          csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
    if not login_csrf_ok(request, csrf):  # checked before the password: nothing is counted
        return _login_form(request, {
            "next": local_url(next), "username": username,
            "error": "登录页面已过期或来自其他网站，请重新输入用户名和密码"}, status_code=403)
    client = auth.client_address(request)
    try:
        token = sign_in(server_of(request).db, username.strip(), password, client,
                        request.headers.get("user-agent", ""))
    except ApiError as exc:
        with server_of(request).db.write() as conn:  # the attempt's own write was undone
            sign_in_failed(conn, username.strip(), client, exc.code)
        message = {"bad_credentials": "用户名或密码错误",
                   "not_office": "安检员请使用平板应用，后台仅供调度、主管和管理员使用",
                   "device_revoked": "该会话已被管理员停用",
                   "too_many_attempts": "密码错误次数过多，请 15 分钟后再试"}.get(
                       exc.code, exc.message)
        return _login_form(request, {"next": local_url(next), "error": message,
                                     "username": username},
                           status_code=exc.status if exc.status == 429 else 401)
    response = RedirectResponse(local_url(next), status_code=303)
    response.set_cookie(COOKIE, token, max_age=int(SESSION_TTL.total_seconds()),
                        httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")
    return response


@router.post("/logout")
def logout(request: Request, who: Office,
           csrf: Annotated[str, Form(max_length=128)] = "") -> RedirectResponse:
    check_csrf(request, csrf)
    with server_of(request).db.write() as conn:
        sign_out(conn, request.cookies[COOKIE], who)
    response = RedirectResponse("/office/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response

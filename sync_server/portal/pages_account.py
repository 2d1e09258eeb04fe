"""Portal pages about the account: signing in with a code, home, gas use, bills, paying."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from sync_server.deps import server_of
from sync_server.portal import account, payments
from sync_server.portal.access import (
    CODE_TTL,
    SESSION_TTL,
    PortalError,
    check_code,
    close_session,
    open_session,
    start_login,
    withdraw,
)
from sync_server.portal.chart import usage_svg
from sync_server.portal.service_requests import listing
from sync_server.portal.web import (
    COOKIE,
    PENDING,
    Customer,
    check_csrf,
    now,
    pages_router,
    render,
    today,
)
from sync_server.services import auth, notify, opt_outs
from sync_server.services.keys import mac, secret
from sync_server.services.records import utility_name

log = logging.getLogger("fieldapp.portal")
router = pages_router()
# The payment provider's server-to-server notices: answered in JSON, never as a page.
callbacks = APIRouter(prefix="/portal", include_in_schema=False)
SIMULATED = payments.SimulatedProvider()
MAX_CALLBACK = 16 * 1024


def _cookie(response: Response, request: Request, name: str, value: str, seconds: int) -> None:
    response.set_cookie(name, value, max_age=seconds, httponly=True, samesite="strict",
                        path="/portal", secure=request.url.scheme == "https")


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html", {})


@router.post("/login")
def login(request: Request, account_no: Annotated[str, Form(max_length=40)] = "",
          phone: Annotated[str, Form(max_length=40)] = "") -> Response:
    server = server_of(request)
    client = auth.client_address(request)
    form = {"account_no": account_no, "phone": phone}
    try:
        with server.db.write() as conn:
            found = start_login(conn, account_no, phone, client, now())
            sign = utility_name(conn)
            key = secret(conn, "portal")
    except PortalError as exc:
        return render(request, "login.html", {"error": exc.message, **form},
                      status_code=exc.status)
    if isinstance(found, PortalError):
        return render(request, "login.html", {"error": found.message, **form},
                      status_code=found.status)
    minutes = int(CODE_TTL.total_seconds() // 60)
    text = (f"【{sign}】您的网上营业厅登录验证码为 {found.code}，{minutes} 分钟内有效。"
            "如非本人操作，请忽略本短信。")
    try:
        provider_id = server.notifier.send("sms", found.phone, text, secret=found.code)
    except Exception as exc:  # the gateway's failure is the customer's to retry, later
        log.warning("login code for %s not sent: %s", found.customer_id, exc)
        with server.db.write() as conn:
            withdraw(conn, found.code_id)
        return render(request, "login.html", {"error": "短信发送失败，请稍后再试", **form},
                      status_code=503)
    with server.db.write() as conn:  # the message is kept, its code never
        conn.execute("INSERT INTO notifications(channel, recipient, text, customer_id,"
                     " created_at, status, attempts, sent_at, provider_id)"
                     " VALUES ('sms', ?, ?, ?, ?, 'sent', 1, ?, ?)",
                     [found.phone, notify.masked(text, found.code), found.customer_id,
                      now().isoformat(timespec="seconds"), now().isoformat(timespec="seconds"),
                      f"{server.notifier.name}:{provider_id}"])
    response = RedirectResponse("/portal/verify", status_code=303)
    pending = f"{found.code_id}.{mac(key, 'pending', str(found.code_id).encode())}"
    _cookie(response, request, PENDING, pending, int(CODE_TTL.total_seconds()))
    return response


def _pending(request: Request) -> int | None:
    value = request.cookies.get(PENDING, "")
    code_id, _, tag = value.partition(".")
    if not code_id.isdigit() or len(code_id) > 15:
        return None
    with server_of(request).db.read() as conn:
        key = secret(conn, "portal")
    return int(code_id) if tag and tag == mac(key, "pending", code_id.encode()) else None


@router.get("/verify", response_class=HTMLResponse)
def verify_page(request: Request) -> Response:
    if _pending(request) is None:
        return RedirectResponse("/portal/login", status_code=303)
    return render(request, "verify.html", {})


@router.post("/verify")
def verify(request: Request, code: Annotated[str, Form(max_length=20)] = "") -> Response:
    code_id = _pending(request)
    if code_id is None:
        return render(request, "login.html", {"error": "请先获取验证码"}, status_code=400)
    server = server_of(request)
    try:
        with server.db.write() as conn:
            found = check_code(conn, code_id, code, now())
            token = open_session(conn, found, now()) if isinstance(found, str) else None
    except PortalError as exc:  # expired, used up: a new code is needed
        return render(request, "login.html", {"error": exc.message}, status_code=exc.status)
    if token is None:
        assert isinstance(found, PortalError)
        return render(request, "verify.html", {"error": found.message},
                      status_code=found.status)
    response = RedirectResponse("/portal/", status_code=303)
    _cookie(response, request, COOKIE, token, int(SESSION_TTL.total_seconds()))
    response.delete_cookie(PENDING, path="/portal")
    return response


@router.post("/logout")
def logout(request: Request, me: Customer,
           csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
    check_csrf(request, csrf)
    with server_of(request).db.write() as conn:
        close_session(conn, request.cookies[COOKIE])
    response = RedirectResponse("/portal/login", status_code=303)
    response.delete_cookie(COOKIE, path="/portal")
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, me: Customer) -> HTMLResponse:
    with server_of(request).db.read() as conn:
        owed = account.arrears_cents(conn, me["id"])
        position = account.tier_position(conn, me, today())
        recent = listing(conn, me["id"], limit=3)
        inspection = conn.execute(
            "SELECT due_at FROM jobs WHERE customer_id = ? AND kind = 'inspection'"
            " AND status IN ('pending', 'dispatched', 'accepted', 'en_route')"
            " ORDER BY due_at LIMIT 1", [me["id"]]).fetchone()
        opted_out = opt_outs.opted_out(conn, me["id"]) is not None
    return render(request, "home.html", {
        "owed": owed, "position": position, "recent": recent, "opted_out": opted_out,
        "inspection": inspection["due_at"] if inspection else None}, me)


@router.post("/notices")
def notices(request: Request, me: Customer, out: Annotated[str, Form(max_length=1)] = "",
            csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
    """The customer opts out of the utility's campaign notices (or back in); audited as
    the customer. Messages about their own jobs, visits and bills still come."""
    check_csrf(request, csrf)
    if out not in ("0", "1"):
        raise PortalError("请选择退订或恢复接收", 400)
    with server_of(request).db.write() as conn:
        opt_outs.set_opt_out(conn, f"portal:{me['account_no']}", me["id"], out == "1",
                             "portal")
    return RedirectResponse("/portal/", status_code=303)


@router.get("/usage", response_class=HTMLResponse)
def usage_page(request: Request, me: Customer) -> HTMLResponse:
    day = today()
    with server_of(request).db.read() as conn:
        months = account.usage(conn, me["id"], day)
        position = account.tier_position(conn, me, day)
    known = [v for _, v in months if v is not None]
    return render(request, "usage.html", {
        "months": months, "chart": usage_svg(months, day.year), "position": position,
        "total": sum(known), "average": sum(known) / len(known) if known else None}, me)


def _provider(request: Request) -> payments.SimulatedProvider | None:
    """The payment provider customers are offered: the simulated one only when the server
    runs with ``--demo`` or ``--simulated-payments``; else none (no real one is built in)."""
    return SIMULATED if server_of(request).settings.simulated_payments else None


def _simulated(request: Request) -> payments.SimulatedProvider:
    """The simulated provider, or "not found" for its every page when it is not offered."""
    provider = _provider(request)
    if provider is None:
        raise PortalError(NOT_OFFERED, 404, "payments_not_configured")
    return provider


NOT_OFFERED = "网上缴费暂未开通，请到营业厅或通过银行代扣缴纳燃气费"


@router.get("/bills", response_class=HTMLResponse)
def bills_page(request: Request, me: Customer, paid: str = "") -> HTMLResponse:
    with server_of(request).db.read() as conn:
        bills = account.bills(conn, me["id"])
        paid_list = account.payments(conn, me["id"])
        owed = account.arrears_cents(conn, me["id"])
    provider = _provider(request)
    return render(request, "bills.html", {
        "bills": bills, "payments": paid_list, "owed": owed,
        "provider": provider.label if provider else None, "not_offered": NOT_OFFERED}, me)


@router.post("/bills/{bill_id}/pay")
def pay(request: Request, me: Customer, bill_id: str,
        csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
    check_csrf(request, csrf)
    provider = _simulated(request)
    with server_of(request).db.write() as conn:
        order = payments.open_order(conn, me["id"], bill_id[:64], provider, now())
    return RedirectResponse(provider.checkout_url(order["id"]), status_code=303)


# -- the simulated provider's own pages: what a real provider would show on its site --------


@router.get("/pay/sim/{order_id}", response_class=HTMLResponse)
def simulated_checkout(request: Request, me: Customer, order_id: str) -> HTMLResponse:
    _simulated(request)
    with server_of(request).db.read() as conn:
        order = payments.order_of(conn, order_id[:64], me["id"])
    return render(request, "pay_sim.html", {"order": order, "provider": SIMULATED.label}, me)


@router.post("/pay/sim/{order_id}")
def simulated_pay(request: Request, me: Customer, order_id: str,
                  outcome: Annotated[str, Form(max_length=10)] = "paid",
                  csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
    """The customer confirmed (or cancelled) on the provider's page: the provider calls
    back, signed, through the same door a real provider's server would use."""
    check_csrf(request, csrf)
    _simulated(request)
    server = server_of(request)
    with server.db.write() as conn:
        order = payments.order_of(conn, order_id[:64], me["id"])
        body = SIMULATED.callback_body(order, "paid" if outcome == "paid" else "failed")
        payments.receive(conn, SIMULATED, server.clock, body, SIMULATED.sign(conn, body), now())
    return RedirectResponse(f"/portal/pay/result/{order['id']}", status_code=303)


@router.get("/pay/result/{order_id}", response_class=HTMLResponse)
def pay_result(request: Request, me: Customer, order_id: str) -> HTMLResponse:
    with server_of(request).db.read() as conn:
        order = payments.order_of(conn, order_id[:64], me["id"])
    return render(request, "pay_result.html", {"order": order}, me)


@callbacks.post("/pay/callback/{provider}")
async def callback(request: Request, provider: str,
                   x_signature: Annotated[str, Header(max_length=200)] = "") -> JSONResponse:
    """A payment provider's server-to-server notice; answered in JSON for the provider."""
    if provider != SIMULATED.name or _provider(request) is None:
        return JSONResponse({"error": "unknown_provider"}, status_code=404)
    body = await request.body()
    if len(body) > MAX_CALLBACK:
        return JSONResponse({"error": "body_too_large"}, status_code=413)
    server = server_of(request)
    with server.db.write() as conn:
        status, outcome = payments.receive(conn, SIMULATED, server.clock, body, x_signature,
                                           now())
    return JSONResponse({"outcome": outcome}, status_code=status)

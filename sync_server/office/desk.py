"""客服中心: when a customer calls, find them as they describe themselves (name, phone,
account number, address words, meter code) and see everything about them on one page:
meters and readings, contract, bills with arrears, every job with its status history,
inspections with their photos, hazards and rectification, notes and calls, portal requests
and ratings, tags. The call is logged on the customer's record (tablets see it with the
customer), and a repair job opens from it already filled in: priority 1 when the caller
smells gas. An account limited to a district sees only that district's customers."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from fieldapp.billing.tariff import yuan
from fieldapp.domain import customer_tags
from fieldapp.domain.customer_tags import STANDARD_TAGS
from fieldapp.domain.kinds import EMERGENCY, KIND_ZH, PRIORITY_ZH
from fieldapp.domain.roles import OFFICE_ROLES
from fieldapp.domain.status import STATUS_ZH
from fieldapp.ids import new_id
from fieldapp.local_time import now_iso
from sync_server.deps import server_of
from sync_server.errors import ApiError
from sync_server.office.auth import check_csrf
from sync_server.office.web import (
    Office,
    check_district,
    pages_router,
    render_page,
    require,
)
from sync_server.services import customer_desk, dispatch, opt_outs
from sync_server.services.districts import district_of

router = pages_router()
BILL_ZH = {"unpaid": "未缴", "overdue": "逾期", "paid": "已缴", "void": "作废"}
CONTRACT_ZH = {"active": "有效", "ended": "已终止", "suspended": "暂停"}
MESSAGE_ZH = {"pending": "待发", "sent": "已发", "failed": "失败"}
HAZARD_ZH = {"open": "待整改", "rectified": "已整改", "unrectified": "复查未整改"}


@router.get("/desk", response_class=HTMLResponse)
def desk_page(request: Request, who: Office,
              q: Annotated[str, Query(max_length=100)] = "") -> HTMLResponse:
    with server_of(request).db.read() as conn:
        found = customer_desk.search(conn, q, district_of(who))
    return render_page(request, who, "desk.html", {
        "q": q, "found": found, "searched": len(q.strip()) >= customer_desk.MIN_QUERY,
        "tags": _tags})


# What a caller says when there may be a leak: the job they need is an emergency.
GAS_SMELL = ("燃气味", "煤气味", "漏气", "天然气味", "气味很大", "闻到气")


@router.get("/desk/{customer_id}", response_class=HTMLResponse)
def customer_page(request: Request, who: Office, customer_id: str,
                  call: Annotated[str, Query(max_length=500)] = "",
                  error: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
    with server_of(request).db.read() as conn:
        seen = customer_desk.view(conn, customer_id)
    if seen is None:
        raise ApiError(404, "unknown_customer", "没有这个客户")
    check_district(who, seen["customer"]["district"])
    repair = urlencode({"kind": "repair", "customer": seen["customer"]["account_no"],
                        "priority": EMERGENCY if _smells_gas(call) else 3, "summary": call})
    return render_page(request, who, "customer.html", {
        "call": call, "error": error, "repair_url": f"/office/jobs/new?{repair}",
        **seen, "tags": _tags, "standard_tags": STANDARD_TAGS, "yuan": yuan,
        "status_zh": STATUS_ZH, "kind_zh": KIND_ZH,
        "priority_zh": PRIORITY_ZH, "bill_zh": BILL_ZH, "hazard_zh": HAZARD_ZH,
        "contract_zh": CONTRACT_ZH, "source_text": _source, "source_zh": opt_outs.SOURCE_ZH,
        "message_zh": MESSAGE_ZH})


def _source(value: str | None) -> str:
    """Where a reading came from: the billing system, or a technician's form (tablet:…)."""
    if not value or value == "billing":
        return "营收系统"
    return "现场抄表" if value.startswith("tablet") else value


@router.post("/desk/{customer_id}/calls")
def log_call(request: Request, who: Office, customer_id: str,
             text: Annotated[str, Form(max_length=500)] = "",
             csrf: Annotated[str, Form(max_length=128)] = "") -> RedirectResponse:
    """Log the call being taken on the customer's record; the page then offers the repair
    job the call may need, filled in from it."""
    check_csrf(request, csrf)
    require(who, OFFICE_ROLES, "来电记录由调度员、主管或管理员填写")
    said = " ".join(text.split())
    if not said:
        return RedirectResponse(
            f"/office/desk/{customer_id}?{urlencode({'error': '请写下来电内容'})}",
            status_code=303)
    server = server_of(request)
    with server.db.write() as conn:
        customer = conn.execute("SELECT district FROM customers WHERE id = ?",
                                [customer_id]).fetchone()
        if customer is None:
            raise ApiError(404, "unknown_customer", "没有这个客户")
        check_district(who, customer["district"])
        dispatch.write(conn, who, server.clock, "interactions", new_id(), "insert", {
            "job_id": None, "customer_id": customer_id, "kind": "call", "text": said,
            "at": now_iso(), "by_user": who.username, "device_id": who.device_id})
    return RedirectResponse(f"/office/desk/{customer_id}?{urlencode({'call': said})}",
                            status_code=303)


@router.post("/desk/{customer_id}/details")
def save_details(request: Request, who: Office, customer_id: str,
                 phone: Annotated[str, Form(max_length=40)] = "",
                 address: Annotated[str, Form(max_length=200)] = "",
                 tags: Annotated[str, Form(max_length=200)] = "",
                 household_size: Annotated[str, Form(max_length=3)] = "",
                 chips: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI's way)
                 csrf: Annotated[str, Form(max_length=128)] = "") -> RedirectResponse:
    """Correct the caller's contact details and tags; each change is in the change log with
    who made it, and reaches the tablets."""
    check_csrf(request, csrf)
    require(who, OFFICE_ROLES, "客户资料由调度员、主管或管理员修改")
    fields, problems = customer_desk.details(phone, address, tags, household_size,
                                             chips[:len(STANDARD_TAGS)])
    back = f"/office/desk/{customer_id}"
    if problems:
        return RedirectResponse(f"{back}?{urlencode({'error': '；'.join(problems)})}",
                                status_code=303)
    server = server_of(request)
    with server.db.write() as conn:
        row = conn.execute("SELECT * FROM customers WHERE id = ?", [customer_id]).fetchone()
        if row is None:
            raise ApiError(404, "unknown_customer", "没有这个客户")
        check_district(who, row["district"])
        changed = {k: v for k, v in fields.items() if row[k] != v}
        if changed:
            dispatch.write(conn, who, server.clock, "customers", customer_id, "update",
                           changed, old={k: row[k] for k in changed},
                           base_version=row["version"])
    return RedirectResponse(back, status_code=303)


@router.post("/desk/{customer_id}/opt-out")
def save_opt_out(request: Request, who: Office, customer_id: str,
                 out: Annotated[str, Form(max_length=1)] = "",
                 csrf: Annotated[str, Form(max_length=128)] = "") -> RedirectResponse:
    """The customer asked for no campaign notices (退订), or to have them again; audited.
    Service messages (job done, appointments, bills) go either way."""
    check_csrf(request, csrf)
    require(who, OFFICE_ROLES, "退订由调度员、主管或管理员登记")
    if out not in ("0", "1"):
        raise ApiError(400, "bad_opt_out", "退订只能是“退订”或“恢复接收”")
    with server_of(request).db.write() as conn:
        customer = conn.execute("SELECT district FROM customers WHERE id = ?",
                                [customer_id]).fetchone()
        if customer is None:
            raise ApiError(404, "unknown_customer", "没有这个客户")
        check_district(who, customer["district"])
        opt_outs.set_opt_out(conn, who, customer_id, out == "1", "office")
    return RedirectResponse(f"/office/desk/{customer_id}", status_code=303)


def _smells_gas(text: str) -> bool:
    return any(words in text for words in GAS_SMELL)


_tags = customer_tags.read  # the page shows a stored list as its words

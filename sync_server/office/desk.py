"""客服中心: when a customer calls, find them as they describe themselves (name, phone,
account number, address words, meter code) and see everything about them on one page:
meters and readings, contract, bills with arrears, every job with its status history,
inspections with their photos, hazards and rectification, notes and calls, portal requests
and ratings, tags. An account limited to a district sees only that district's customers."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import HTMLResponse

from fieldapp.billing.tariff import yuan
from fieldapp.domain.kinds import KIND_ZH
from fieldapp.domain.status import STATUS_ZH
from sync_server.deps import server_of
from sync_server.errors import ApiError
from sync_server.office.dispatch import PRIORITY_ZH
from sync_server.office.web import Office, check_district, pages_router, render_page
from sync_server.services import customer_desk
from sync_server.services.districts import district_of

router = pages_router()
BILL_ZH = {"unpaid": "未缴", "overdue": "逾期", "paid": "已缴", "void": "作废"}
CONTRACT_ZH = {"active": "有效", "ended": "已终止", "suspended": "暂停"}
HAZARD_ZH = {"open": "待整改", "rectified": "已整改", "unrectified": "复查未整改"}


@router.get("/desk", response_class=HTMLResponse)
def desk_page(request: Request, who: Office,
              q: Annotated[str, Query(max_length=100)] = "") -> HTMLResponse:
    with server_of(request).db.read() as conn:
        found = customer_desk.search(conn, q, district_of(who))
    return render_page(request, who, "desk.html", {
        "q": q, "found": found, "searched": len(q.strip()) >= customer_desk.MIN_QUERY,
        "tags": _tags})


@router.get("/desk/{customer_id}", response_class=HTMLResponse)
def customer_page(request: Request, who: Office, customer_id: str) -> HTMLResponse:
    with server_of(request).db.read() as conn:
        seen = customer_desk.view(conn, customer_id)
    if seen is None:
        raise ApiError(404, "unknown_customer", "没有这个客户")
    check_district(who, seen["customer"]["district"])
    return render_page(request, who, "customer.html", {
        **seen, "tags": _tags, "yuan": yuan, "status_zh": STATUS_ZH, "kind_zh": KIND_ZH,
        "priority_zh": PRIORITY_ZH, "bill_zh": BILL_ZH, "hazard_zh": HAZARD_ZH,
        "contract_zh": CONTRACT_ZH, "source_text": _source})


def _source(value: str | None) -> str:
    """Where a reading came from: the billing system, or a technician's form (tablet:…)."""
    if not value or value == "billing":
        return "营收系统"
    return "现场抄表" if value.startswith("tablet") else value


def _tags(value: str | None) -> list[str]:
    try:
        tags = json.loads(value or "[]")
    except ValueError:
        return []
    return [str(t) for t in tags] if isinstance(tags, list) else []

"""账务: bills made from the readings, their per-tier lines, payments at the counter, and
what is overdue (the timer reminds and raises 催缴 jobs, billing.py)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from fieldapp.billing.tariff import yuan
from fieldapp.domain.roles import OFFICE_ROLES
from fieldapp.local_time import LOCAL_ZONE
from sync_server.deps import server_of
from sync_server.errors import ApiError
from sync_server.office.auth import check_csrf
from sync_server.office.web import (
    NotYours,
    Office,
    check_district,
    pages_router,
    render_page,
    require,
)
from sync_server.services import billing
from sync_server.services.districts import district_of

router = pages_router()
CASHIERS = OFFICE_ROLES
STATUS_ZH = {"unpaid": "待缴", "overdue": "已逾期", "paid": "已缴清"}
SHOWN = 200


@router.get("/billing", response_class=HTMLResponse)
def billing_page(request: Request, who: Office,
                 status: Annotated[str, Query(pattern="^(|unpaid|overdue|paid)$")] = "",
                 customer: Annotated[str, Query(max_length=64)] = "",
                 done: str | None = None, error: str | None = None) -> HTMLResponse:
    where, params = [], []
    if status:
        where.append("b.status = ?")
        params.append(status)
    if customer.strip():
        where.append("(c.account_no = ? OR c.name = ?)")
        params += [customer.strip(), customer.strip()]
    district = district_of(who)
    if district:
        where.append("c.district = ?")
        params.append(district)
    sql = ("SELECT b.*, c.name, c.account_no, c.district FROM bills b JOIN customers c"
           " ON c.id = b.customer_id" + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY b.period_end DESC, b.id LIMIT ?")
    with server_of(request).db.read() as conn:
        bills = conn.execute(sql, [*params, SHOWN]).fetchall()
        scope = (" WHERE c.district = ?", [district_of(who)]) if district_of(who) else ("", [])
        totals = {r["status"]: (r["n"], r["cents"]) for r in conn.execute(
            "SELECT b.status, count(*) AS n, sum(b.amount_cents) AS cents FROM bills b"
            " JOIN customers c ON c.id = b.customer_id" + scope[0] + " GROUP BY b.status",
            scope[1])}
        tiers = billing.schedules(conn)
        start = billing.billing_from(conn)
    return render_page(request, who, "billing.html", {
        "bills": bills, "totals": totals, "status": status, "customer": customer,
        "done": done, "error": error, "status_zh": STATUS_ZH, "yuan": yuan,
        "schedules": tiers, "billing_from": start, "can_bill": who.role in CASHIERS})


@router.post("/billing/run")
def run_billing(request: Request, who: Office,
                csrf: Annotated[str, Form(max_length=128)] = "") -> RedirectResponse:
    check_csrf(request, csrf)
    require(who, CASHIERS, "出账由调度员、主管或管理员进行")
    server = server_of(request)
    with server.db.write() as conn:
        result = billing.run(conn, who, server.clock, datetime.now(LOCAL_ZONE).date(),
                             district=district_of(who))
    note = f"出账完成：新账单 {result.billed} 张" + (
        f"；{len(result.skipped)} 个读数未出账：" + "；".join(result.skipped[:5])
        if result.skipped else "")
    return RedirectResponse(f"/office/billing?done={quote(note)}", status_code=303)


@router.get("/bills/{bill_id}", response_class=HTMLResponse)
def bill_page(request: Request, who: Office, bill_id: str,
              error: str | None = None) -> HTMLResponse:
    with server_of(request).db.read() as conn:
        bill = conn.execute("SELECT b.*, c.name, c.account_no, c.address, c.household_size,"
                            " c.district"
                            " FROM bills b JOIN customers c ON c.id = b.customer_id"
                            " WHERE b.id = ?", [bill_id]).fetchone()
        if bill is None:
            raise ApiError(404, "unknown_bill", f"没有账单 {bill_id}")
        check_district(who, bill["district"])
        notices = conn.execute("SELECT * FROM bill_notices WHERE bill_id = ? ORDER BY id",
                               [bill_id]).fetchall()
    return render_page(request, who, "bill.html", {
        "bill": bill, "lines": json.loads(bill["lines"] or "[]"), "notices": notices,
        "error": error, "status_zh": STATUS_ZH, "yuan": yuan, "methods": billing.METHOD_ZH,
        "can_bill": who.role in CASHIERS})


@router.post("/bills/{bill_id}/pay")
def pay_bill(request: Request, who: Office, bill_id: str,
             method: Annotated[str, Form(max_length=20)] = "",
             amount: Annotated[str, Form(max_length=20)] = "",
             csrf: Annotated[str, Form(max_length=128)] = "") -> RedirectResponse:
    check_csrf(request, csrf)
    require(who, CASHIERS, "缴费由调度员、主管或管理员登记")
    server = server_of(request)
    try:
        with server.db.write() as conn:
            row = conn.execute("SELECT c.district FROM bills b JOIN customers c"
                               " ON c.id = b.customer_id WHERE b.id = ?", [bill_id]).fetchone()
            check_district(who, row[0] if row else None)
            billing.pay(conn, who, server.clock, bill_id, method, amount,
                        datetime.now(LOCAL_ZONE).date())
    except NotYours:
        raise  # another district's bill: a 403 page, not a note on a page it may not open
    except ApiError as exc:
        return RedirectResponse(f"/office/bills/{bill_id}?error={quote(exc.message)}",
                                status_code=303)
    return RedirectResponse(f"/office/bills/{bill_id}", status_code=303)

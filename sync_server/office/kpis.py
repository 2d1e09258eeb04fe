"""经营指标: the KPI dashboard for a period and a district, as figures, bar charts drawn on
the server (SVG: nothing fetched by the browser) and a CSV export with the same filters."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response

from fieldapp.domain.kinds import KIND_ZH
from fieldapp.domain.status import STATUS_ZH
from fieldapp.local_time import LOCAL_ZONE
from sync_server.deps import server_of
from sync_server.office.csv_export import SafeWriter
from sync_server.office.web import (
    Office,
    districts_for,
    pages_router,
    render_page,
)
from sync_server.services import kpis
from sync_server.services.districts import district_of

router = pages_router()
DEFAULT_DAYS = 30


def _period(since: str, until: str, district: str) -> tuple[kpis.Period, str | None]:
    """The period asked for, or the last 30 days; a wrong date is said, not guessed."""
    today = datetime.now(LOCAL_ZONE).date()
    try:
        last = date.fromisoformat(until) if until else today
        first = date.fromisoformat(since) if since else last - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        return kpis.Period(today - timedelta(days=DEFAULT_DAYS - 1), today, district), \
            "日期格式应为 2026-11-01；已显示最近 30 天"
    if first > last:
        return kpis.Period(last, first, district), "开始日期晚于结束日期，已对调"
    return kpis.Period(first, last, district), None


def _figures(request: Request, period: kpis.Period) -> kpis.Figures:
    with server_of(request).db.read() as conn:
        return kpis.figures(conn, period, datetime.now(UTC))


@router.get("/kpis", response_class=HTMLResponse)
def kpis_page(request: Request, who: Office,
              since: Annotated[str, Query(max_length=10)] = "",
              until: Annotated[str, Query(max_length=10)] = "",
              district: Annotated[str, Query(max_length=40)] = "") -> HTMLResponse:
    period, note = _period(since, until, district_of(who) or district.strip())
    f = _figures(request, period)
    with server_of(request).db.read() as conn:
        districts = districts_for(conn, who)
    return render_page(request, who, "kpis.html", {
        "f": f, "note": note, "districts": districts, "status_zh": STATUS_ZH,
        "kind_zh": KIND_ZH,
        "query": f"since={period.since}&until={period.until}&district={period.district}"})


@router.get("/kpis.csv")
def kpis_csv(request: Request, who: Office,
             since: Annotated[str, Query(max_length=10)] = "",
             until: Annotated[str, Query(max_length=10)] = "",
             district: Annotated[str, Query(max_length=40)] = "") -> Response:
    period, _ = _period(since, until, district_of(who) or district.strip())
    out = io.StringIO()
    out.write("\ufeff")
    SafeWriter(out).writerows(kpis.csv_rows(_figures(request, period)))
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="kpis-{period.since}-{period.until}.csv"'})

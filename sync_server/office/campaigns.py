"""群发: safety notices (before a holiday, a cold wave) to customers by tag and district.

A supervisor or an administrator writes the text, chooses tags and districts and previews:
how many will receive it, a sample of them (phones masked) and how many are left out and
why. The preview names the campaign (its id travels in the send form), so sending it twice
messages nobody twice. An account limited to a district sends only to its own district and
sees only its own district's campaigns; everyone in the office reads the list. The office
runs no scripts: the chips are checkboxes, the preview a GET of the same form."""

from __future__ import annotations

import json
import re
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from fieldapp.domain.customer_tags import MAX_TAG, MAX_TAGS, STANDARD_TAGS
from fieldapp.domain.roles import SUPERVISORS
from fieldapp.ids import new_id
from sync_server.deps import server_of
from sync_server.errors import ApiError
from sync_server.office.auth import check_csrf
from sync_server.office.web import (
    NotYours,
    Office,
    districts_for,
    pages_router,
    render_page,
    require,
)
from sync_server.services import campaigns, customer_fields
from sync_server.services.auth import Principal
from sync_server.services.campaigns import EXCLUDED_ZH, MATCHES, PLACEHOLDERS, Draft
from sync_server.services.districts import district_of

router = pages_router()
SENDERS = SUPERVISORS
SENDER_ONLY = "群发安全提示由主管或管理员发送"
EXAMPLE = ("【{utility}】{customer_name}您好：寒潮将至，请保持厨房通风，使用燃气时人不离灶，"
           "如闻到燃气味请立即关阀开窗，勿开关电器，并拨打抢修电话。")
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TextField = Annotated[str, Form(max_length=2000)]
Texts = Annotated[list[str], Form()]


def _draft(request: Request, who: Principal, text: str, tags: list[str], more_tags: str,
           match: str, districts: list[str], campaign_id: str = "") -> tuple[Draft, list[str]]:
    """The form as a draft, and what is wrong with its tags and districts in words. A
    district the account may not send to is refused outright (403), not listed."""
    problems = []
    chosen = list(dict.fromkeys([*tags, *customer_fields.words(more_tags)]))
    if len(chosen) > MAX_TAGS or any(len(t) > MAX_TAG for t in chosen):
        problems.append(f"标签最多 {MAX_TAGS} 个，每个不超过 {MAX_TAG} 字")
    with server_of(request).db.read() as conn:
        allowed = districts_for(conn, who)
    wanted = list(dict.fromkeys(d[:40] for d in districts if d))  # no district is longer
    outside = [d for d in wanted if d not in allowed]
    if outside and district_of(who):
        raise NotYours(403, "out_of_district", f"只能向您负责的区域（{district_of(who)}）"
                       "群发，不能发往" + "、".join(outside))
    if outside:
        problems.append("没有这个区域：" + "、".join(outside[:5]))
    return Draft(text.strip(), tuple(chosen[:MAX_TAGS]), match, tuple(wanted[:50]),
                 campaign_id), problems


def _page(request: Request, who: Principal, draft: Draft | None,
          found: campaigns.Check | None, status_code: int = 200) -> HTMLResponse:
    server = server_of(request)
    with server.db.read() as conn:
        listed = campaigns.campaigns(conn, district_of(who))
        allowed = districts_for(conn, who)
    return render_page(request, who, "campaigns.html", {
        "draft": draft or Draft(EXAMPLE, (), "any", tuple(allowed[:1])), "found": found,
        "campaigns": listed, "allowed": allowed, "standard_tags": STANDARD_TAGS,
        "matches": MATCHES, "placeholders": PLACEHOLDERS, "excluded_zh": EXCLUDED_ZH,
        "limits": campaigns.Limits(), "max_text": campaigns.MAX_TEXT,
        "may_send": who.role in SENDERS}, status_code=status_code)


@router.get("/campaigns", response_class=HTMLResponse)
def campaigns_page(request: Request, who: Office,
                   text: Annotated[str, Query(max_length=2000)] = "",
                   tags: Annotated[list[str], Query()] = [],  # noqa: B006 (FastAPI's way)
                   more_tags: Annotated[str, Query(max_length=400)] = "",
                   match: Annotated[str, Query(max_length=10)] = "any",
                   districts: Annotated[list[str], Query()] = [],  # noqa: B006
                   preview: Annotated[str, Query(max_length=1)] = "") -> HTMLResponse:
    """The campaigns sent so far and the composer; with ``preview`` the composed campaign's
    recipients and problems, and (when it has none) the button that sends it."""
    if not preview:
        return _page(request, who, None, None)
    require(who, SENDERS, SENDER_ONLY)
    draft, problems = _draft(request, who, text, tags[:100], more_tags, match, districts[:100],
                             new_id())
    with server_of(request).db.read() as conn:
        found = campaigns.check(conn, draft, campaigns.Limits())
    found.problems = problems + found.problems
    return _page(request, who, draft, found, 200 if not found.problems else 400)


@router.post("/campaigns/send", response_model=None)
def send_campaign(request: Request, who: Office, csrf: Annotated[str, Form(max_length=128)] = "",
                  campaign_id: Annotated[str, Form(max_length=64)] = "",
                  text: TextField = "", tags: Texts = [],  # noqa: B006
                  more_tags: Annotated[str, Form(max_length=400)] = "",
                  match: Annotated[str, Form(max_length=10)] = "any",
                  districts: Texts = []) -> HTMLResponse | RedirectResponse:  # noqa: B006
    """Send the previewed campaign: refused in words with nothing written, or written in
    batches and shown on its own page."""
    check_csrf(request, csrf)
    require(who, SENDERS, SENDER_ONLY)
    if not _ID.fullmatch(campaign_id):
        raise ApiError(400, "bad_campaign", "群发编号无效：请从预览页发送")
    draft, problems = _draft(request, who, text, tags[:100], more_tags, match, districts[:100],
                             campaign_id)
    server = server_of(request)
    with server.db.read() as conn:
        earlier = conn.execute("SELECT districts, created_by FROM campaigns WHERE id = ?",
                               [campaign_id]).fetchone()
    if earlier is not None and earlier["created_by"] != who.username:
        raise NotYours(403, "not_yours", "这个群发编号属于另一位同事的群发")
    if problems:
        return _page(request, who, draft, campaigns.Check(problems=problems), 400)
    try:
        campaigns.send(server.db, who, draft, campaigns.Limits())
    except campaigns.Refused as refused:
        return _page(request, who, draft, campaigns.Check(problems=refused.problems), 400)
    return RedirectResponse(f"/office/campaigns/{campaign_id}?{urlencode({'sent': 1})}",
                            status_code=303)


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_page(request: Request, who: Office, campaign_id: str,
                  sent: Annotated[str, Query(max_length=1)] = "") -> HTMLResponse:
    """One campaign: its text, filter and counts, and its first messages (phones masked)."""
    with server_of(request).db.read() as conn:
        row = conn.execute("SELECT * FROM campaigns WHERE id = ?",
                           [campaign_id[:64]]).fetchone()
        if row is None:
            raise ApiError(404, "unknown_campaign", "没有这个群发")
        draft = campaigns.stored_draft(row)
        if not campaigns.readable(draft.districts, district_of(who)):
            raise NotYours(403, "out_of_district", f"不在您负责的区域（{district_of(who)}）")
        messages = list(conn.execute(
            "SELECT n.*, c.name, c.account_no FROM notifications n LEFT JOIN customers c"
            " ON c.id = n.customer_id WHERE n.campaign_id = ? ORDER BY n.id LIMIT 50",
            [campaign_id]))
        counts = campaigns.counts(conn, campaign_id)
    return render_page(request, who, "campaign.html", {
        "campaign": dict(row), "draft": draft, "counts": counts, "messages": messages,
        "sent": bool(sent), "excluded": json.loads(row["excluded"]),
        "excluded_zh": EXCLUDED_ZH, "matches": MATCHES})

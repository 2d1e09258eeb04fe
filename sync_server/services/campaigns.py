"""Safety-notice campaigns (安全提示群发): one text to the customers of chosen districts with
chosen tags (before a holiday, a cold wave), each message an ordinary ``notifications`` row
the notifier sends, named by its campaign.

    check(conn, who, draft, limits)   # the recipients, who is left out and why, problems
    send(db, who, draft, limits)      # write the messages in batches; idempotent

Nothing is written unless the whole campaign is acceptable: text (at most 300 characters,
signed 【…】, only known placeholders), at least one recipient, no more than
``Limits.max_recipients`` and no more than is left of the day's allowance. Left out, and
counted for the sender: customers who opted out, customers without a phone, and customers
a campaign already messaged ``Limits.per_customer_day`` times today (the utility's day).

Every batch is its own write transaction and counts again, inside it, what today already
holds: writes are serialised (SQLite's writer, PostgreSQL's advisory lock), so two sends
racing can never together pass a customer's or the server's daily limit; what a limit held
back is counted on the campaign. The campaign's id comes from the preview page: sent twice
(a double submit, a retry after a lost answer) it writes only the messages still missing,
and the unique (campaign_id, customer_id) index makes a second copy impossible.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fieldapp.local_time import local_day, now_iso
from sync_server.services import audit
from sync_server.services.auth import Principal
from sync_server.services.phones import masked_phone
from sync_server.services.records import utility_name
from sync_server.storage.db import Connection, Storage, utc_now

PLACEHOLDERS = {"customer_name": "客户姓名", "utility": "本公司名称"}
MAX_TEXT = 300
MATCHES = {"any": "含任一标签", "all": "含全部标签"}
BATCH = 500
SAMPLE = 10
MAX_ENV = "FIELDAPP_CAMPAIGN_MAX"
PER_CUSTOMER_ENV = "FIELDAPP_CAMPAIGN_PER_CUSTOMER_DAY"
DAILY_ENV = "FIELDAPP_CAMPAIGN_DAILY_TOTAL"
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
EXCLUDED_ZH = {"opted_out": "已退订", "no_phone": "无电话",
               "messaged_today": "今天已收到群发"}


def _env_int(name: str, default: int) -> int:
    try:
        return max(0, int(os.environ.get(name, default)))
    except ValueError:
        return default


@dataclass(frozen=True)
class Limits:
    """How much campaigns may send: per campaign, per customer per day, per server per
    day. From the environment, so every worker process holds the same."""
    max_recipients: int = field(default_factory=lambda: _env_int(MAX_ENV, 50_000))
    per_customer_day: int = field(default_factory=lambda: _env_int(PER_CUSTOMER_ENV, 1))
    daily_total: int = field(default_factory=lambda: _env_int(DAILY_ENV, 200_000))


@dataclass(frozen=True)
class Draft:
    """A campaign as the sender composed it."""
    text: str
    tags: tuple[str, ...]
    match: str  # "any" or "all" of the tags; no tags: every customer of the districts
    districts: tuple[str, ...]
    campaign_id: str = ""


@dataclass
class Check:
    """What a send would do: counts, a sample of recipients, and why it may not."""
    matched: int = 0
    recipients: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    sample: list[dict[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    left_today: int = 0


class Refused(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("；".join(problems))
        self.problems = problems


def today() -> str:
    """The utility's calendar day, as the per-day limits count it."""
    return local_day(now_iso()).isoformat()


def text_problems(text: str) -> list[str]:
    """What is wrong with a notice's text, in words."""
    problems = []
    if not text.strip():
        return ["请填写短信内容"]
    if len(text) > MAX_TEXT:
        problems.append(f"短信内容 {len(text)} 字，超过 {MAX_TEXT} 字的上限")
    if not re.match(r"【[^【】]{1,20}】", text.strip()):
        problems.append("短信开头须是签名，如【{utility}】（短信平台只发带签名的短信）")
    unknown = [p for p in _PLACEHOLDER.findall(text) if p not in PLACEHOLDERS]
    if unknown:
        known = "、".join("{" + p + "}" for p in PLACEHOLDERS)
        problems.append("未知的占位符 " + "、".join("{" + u + "}" for u in unknown)
                        + f"，可用的只有 {known}")
    if text.count("{") != text.count("}"):
        problems.append("花括号不成对：占位符写作 {customer_name}")
    return problems


def filled(text: str, customer_name: str, utility: str) -> str:
    values = {"customer_name": customer_name, "utility": utility}
    return _PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), text)


def _like(value: str) -> str:
    return "%" + value.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"


def _filter(draft: Draft) -> tuple[str, list[Any]]:
    """The customers a draft names, as SQL on ``customers c``. A tag is found in the stored
    JSON list as written with Chinese kept or escaped (older imports escape it)."""
    where = ["c.district IN (" + ", ".join("?" * len(draft.districts)) + ")"]
    params: list[Any] = list(draft.districts)
    tag_terms = []
    for tag in draft.tags:
        tag_terms.append("(c.tags LIKE ? ESCAPE '!' OR c.tags LIKE ? ESCAPE '!')")
        params += [_like(json.dumps(tag, ensure_ascii=False)), _like(json.dumps(tag))]
    if tag_terms:
        where.append("(" + (" AND " if draft.match == "all" else " OR ").join(tag_terms) + ")")
    return " AND ".join(where), params


_TODAY = ("LEFT JOIN (SELECT n.customer_id, count(*) AS n FROM notifications n"
          " JOIN campaigns k ON k.id = n.campaign_id WHERE k.day = ?"
          " GROUP BY n.customer_id) t ON t.customer_id = c.id"
          " LEFT JOIN campaign_opt_outs o ON o.customer_id = c.id")
_HAS_PHONE = "coalesce(c.phone, '') <> ''"


def _sent_today(conn: Connection, day: str) -> int:
    return int(conn.execute("SELECT count(*) FROM notifications n JOIN campaigns k"
                            " ON k.id = n.campaign_id WHERE k.day = ?", [day]).fetchone()[0])


def check(conn: Connection, draft: Draft, limits: Limits, day: str | None = None) -> Check:
    """The recipients of ``draft`` today and the problems that keep it from being sent."""
    day = day or today()
    result = Check(problems=text_problems(draft.text))
    if draft.match not in MATCHES:
        result.problems.append("标签条件只能是“含任一标签”或“含全部标签”")
    if not draft.districts:
        result.problems.append("请至少选择一个区域")
        return result
    where, params = _filter(draft)
    row = conn.execute(
        "SELECT count(*) AS matched,"
        " coalesce(sum(CASE WHEN o.customer_id IS NOT NULL THEN 1 ELSE 0 END), 0) AS opted,"
        f" coalesce(sum(CASE WHEN o.customer_id IS NULL AND NOT {_HAS_PHONE}"
        " THEN 1 ELSE 0 END), 0) AS no_phone,"
        f" coalesce(sum(CASE WHEN o.customer_id IS NULL AND {_HAS_PHONE}"
        " AND coalesce(t.n, 0) >= ? THEN 1 ELSE 0 END), 0) AS today"
        f" FROM customers c {_TODAY} WHERE {where}",
        [limits.per_customer_day, day, *params]).fetchone()
    result.matched = int(row["matched"])
    result.excluded = {"opted_out": int(row["opted"]), "no_phone": int(row["no_phone"]),
                       "messaged_today": int(row["today"])}
    result.recipients = result.matched - sum(result.excluded.values())
    result.left_today = max(0, limits.daily_total - _sent_today(conn, day))
    utility = utility_name(conn)
    result.sample = [
        {"name": r["name"], "account_no": r["account_no"], "district": r["district"] or "",
         "phone": masked_phone(r["phone"]), "text": filled(draft.text, r["name"], utility)}
        for r in _candidates(conn, draft, limits, day, SAMPLE)]
    if result.recipients <= 0:
        result.problems.append(f"符合条件的客户中没有可发送的对象（共找到 {result.matched} 户，"
                               "均被排除或没有客户）")
    elif result.recipients > limits.max_recipients:
        result.problems.append(f"本次将发给 {result.recipients:,} 户，超过每次群发上限"
                               f" {limits.max_recipients:,} 户：请缩小区域或标签")
    elif result.recipients > result.left_today:
        result.problems.append(f"今天全服务器群发还可发送 {result.left_today:,} 条，本次需要"
                               f" {result.recipients:,} 条：请明天再发或缩小范围")
    return result


def _candidates(conn: Connection, draft: Draft, limits: Limits, day: str,
                limit: int) -> list[Any]:
    """Customers still to message: in the filter, not opted out, with a phone, under their
    daily limit, and not yet messaged by this campaign."""
    where, params = _filter(draft)
    return list(conn.execute(
        f"SELECT c.id, c.name, c.phone, c.account_no, c.district FROM customers c {_TODAY}"
        f" WHERE {where} AND o.customer_id IS NULL AND {_HAS_PHONE}"
        " AND coalesce(t.n, 0) < ? AND NOT EXISTS (SELECT 1 FROM notifications x"
        " WHERE x.campaign_id = ? AND x.customer_id = c.id)"
        " ORDER BY c.account_no LIMIT ?",
        [day, *params, limits.per_customer_day, draft.campaign_id, limit]))


def _detail(draft: Draft, found: Check) -> dict[str, Any]:
    return {"tags": list(draft.tags), "match": draft.match, "districts": list(draft.districts),
            "recipients": found.recipients, "excluded": found.excluded,
            "text": draft.text}


def send(db: Storage, who: Principal, draft: Draft, limits: Limits) -> str:
    """Write the campaign's messages; returns its id. Refused (nothing written) when the
    draft has problems; a campaign already written is only completed, never repeated."""
    day = today()
    with db.write() as conn:
        existing = conn.execute("SELECT * FROM campaigns WHERE id = ?",
                                [draft.campaign_id]).fetchone()
        if existing is None:
            found = check(conn, draft, limits, day)
            if found.problems:
                raise Refused(found.problems)
            conn.execute(
                "INSERT INTO campaigns(id, text, tags, match, districts, day, created_by,"
                " created_at, planned, excluded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [draft.campaign_id, draft.text, json.dumps(list(draft.tags), ensure_ascii=False),
                 draft.match, json.dumps(list(draft.districts), ensure_ascii=False), day,
                 who.username, utc_now(), found.recipients,
                 json.dumps(found.excluded)])
            audit.security_event(conn, who, "campaign_created", draft.campaign_id,
                                 _detail(draft, found))
        elif existing["finished_at"]:
            return draft.campaign_id
        else:  # a retry completes the campaign as it was first written
            draft = stored_draft(existing)
            day = existing["day"]
    while _write_batch(db, draft, limits, day):
        pass
    with db.write() as conn:
        row = conn.execute("SELECT planned, finished_at FROM campaigns WHERE id = ?",
                           [draft.campaign_id]).fetchone()
        if row["finished_at"]:
            return draft.campaign_id
        written = int(conn.execute("SELECT count(*) FROM notifications WHERE campaign_id = ?",
                                   [draft.campaign_id]).fetchone()[0])
        held_back = max(0, int(row["planned"]) - written)
        conn.execute("UPDATE campaigns SET written = ?, held_back = ?, finished_at = ?"
                     " WHERE id = ?", [written, held_back, utc_now(), draft.campaign_id])
        audit.security_event(conn, who, "campaign_sent", draft.campaign_id,
                             {"written": written, "held_back": held_back})
    return draft.campaign_id


def _write_batch(db: Storage, draft: Draft, limits: Limits, day: str) -> bool:
    """One batch of messages in one write; False when there is nothing (more) to write."""
    with db.write() as conn:
        room = min(BATCH, limits.daily_total - _sent_today(conn, day))
        if room <= 0:
            return False
        batch = _candidates(conn, draft, limits, day, room)
        if not batch:
            return False
        utility, at = utility_name(conn), utc_now()
        conn.executemany(
            "INSERT INTO notifications(channel, recipient, text, customer_id, campaign_id,"
            " created_at) VALUES ('sms', ?, ?, ?, ?, ?)"
            " ON CONFLICT (campaign_id, customer_id) DO NOTHING",
            [[c["phone"], filled(draft.text, c["name"], utility), c["id"], draft.campaign_id,
              at] for c in batch])
        conn.execute("UPDATE campaigns SET written = written + ? WHERE id = ?",
                     [len(batch), draft.campaign_id])
        return len(batch) == room


def stored_draft(row: Any) -> Draft:
    return Draft(row["text"], tuple(json.loads(row["tags"])), row["match"],
                 tuple(json.loads(row["districts"])), row["id"])


def campaigns(conn: Connection, district: str | None, limit: int = 100) -> list[dict[str, Any]]:
    """Campaigns newest first with their messages' counts by status; a district's account
    sees only the campaigns of its own district alone."""
    # The districts are stored as send() wrote them, so one district's are found by text.
    where, params = ("WHERE districts = ?", [json.dumps([district], ensure_ascii=False)]) \
        if district else ("", [])
    rows = [dict(r) for r in conn.execute(
        f"SELECT * FROM campaigns {where} ORDER BY created_at DESC LIMIT ?", [*params, limit])]
    for r in rows:
        r.update(counts(conn, r["id"]))
        r["tag_list"], r["district_list"] = json.loads(r["tags"]), json.loads(r["districts"])
        r["excluded_map"] = json.loads(r["excluded"])
    return rows


def counts(conn: Connection, campaign_id: str) -> dict[str, int]:
    found = {s: 0 for s in ("pending", "sent", "failed")}
    for r in conn.execute("SELECT status, count(*) AS n FROM notifications"
                          " WHERE campaign_id = ? GROUP BY status", [campaign_id]):
        found[r["status"]] = int(r["n"])
    return found


def readable(districts: Sequence[str], district: str | None) -> bool:
    """Whether an account of ``district`` (None: every district) may see this campaign."""
    return district is None or list(districts) == [district]

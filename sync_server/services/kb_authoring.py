"""The knowledge base as the office writes it: drafts, published versions, withdrawal.

    article_id = save(conn, who, None, edit, opened_revision=0)      # a new draft
    save(conn, who, article_id, edit, opened_revision=draft.revision)  # Stale if changed since
    publish(conn, who, clock, article_id, draft.revision)           # tablets get it next sync
    withdraw(conn, who, clock, article_id, draft.revision)          # gone from tablets, portal

A draft lives in ``kb_drafts`` only (server-only, never pulled). Publishing writes the
article's synced ``kb_articles`` row through ``dispatch.write`` (the change log, the audit
chain, the write policy) and keeps the version in ``kb_versions``; withdrawing deletes the
row the same way, which pull sends to tablets as a tombstone. Each is also a security event
naming who did it. Articles that came from the demo seed or an import (a ``kb_articles``
row and no draft) are shown as published and adopted at their first save, their current
row kept as version 1.

Fault codes (E1, E03) are published as tags: the tablet's search already looks in tags
(FTS trigrams for three characters and more, a substring match for shorter words), so no
tablet schema change is needed. Figures are uploaded images in the attachment store,
named by their sha256; the published body places each on a line of its own as
``![caption](<sha256>.png)``, the figure syntax the tablet and the portal already read.
What an article may hold, and its body as published, are in ``kb_content.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from fieldapp.kb.article import FIGURE
from fieldapp.write_policy import Door, Scope, grant_for
from sync_server.clock import ServerClock
from sync_server.errors import ApiError
from sync_server.services import audit, dispatch
from sync_server.services.auth import Principal
from sync_server.services.districts import district_of
from sync_server.services.kb_content import (
    FIGURES_MAX,
    PUBLIC_TAG,
    Edit,
    Invalid,
    check,
    composed_body,
    words,
)
from sync_server.storage.db import Connection, utc_now

STATE_ZH = {"draft": "草稿（未发布）", "published": "已发布",
            "changed": "已发布，有未发布的修改", "withdrawn": "已撤回"}


class Stale(ApiError):
    """Someone saved (or published) the article after this page was opened."""

    def __init__(self, current: Draft) -> None:
        super().__init__(409, "kb_changed",
                         f"这篇文章在您打开后已被 {current.saved_by} 于 {current.saved_at[:19]}"
                         f" 修改（现为第 {current.revision} 稿）")
        self.current = current


@dataclass
class Draft:
    article_id: str
    title: str
    category: str
    tags: list[str]
    fault_codes: list[str]
    body: str
    figures: list[dict[str, Any]]
    revision: int  # 0: a seeded article not yet adopted
    published_revision: int | None
    published_version: int
    withdrawn_at: str | None = None
    withdrawn_by: str | None = None
    created_by: str = ""
    created_at: str = ""
    saved_by: str = ""
    saved_at: str = ""

    @property
    def state(self) -> str:
        if self.withdrawn_at:
            return "withdrawn"
        if self.published_revision is None:
            return "draft"
        return "published" if self.published_revision == self.revision else "changed"

    @property
    def state_zh(self) -> str:
        return STATE_ZH[self.state]

    @property
    def public(self) -> bool:
        return PUBLIC_TAG in self.tags

    def text(self) -> str:
        """Everything a search looks in, for the office's list."""
        return " ".join([self.title, self.category, self.body, *self.tags, *self.fault_codes])


def _draft(row: Any) -> Draft:
    d = dict(row)
    return Draft(article_id=d["article_id"], title=d["title"], category=d["category"],
                 tags=json.loads(d["tags"]), fault_codes=json.loads(d["fault_codes"]),
                 body=d["body"], figures=json.loads(d["figures"]), revision=d["revision"],
                 published_revision=d["published_revision"],
                 published_version=d["published_version"], withdrawn_at=d["withdrawn_at"],
                 withdrawn_by=d["withdrawn_by"], created_by=d["created_by"],
                 created_at=d["created_at"], saved_by=d["saved_by"], saved_at=d["saved_at"])


def _tags_of(text: str | None) -> list[str]:
    """A ``kb_articles.tags`` value: a JSON list, or (older imports) words."""
    try:
        value = json.loads(text or "[]")
    except json.JSONDecodeError:
        return words(text or "")
    return [str(v) for v in value] if isinstance(value, list) else words(str(value))


def _seeded(row: Any) -> Draft:
    """A published article with no draft (the demo seed, an import), as a draft at rev 0."""
    return Draft(article_id=row["id"], title=row["title"], category=row["category"] or "",
                 tags=_tags_of(row["tags"]), fault_codes=[], body=row["body"] or "",
                 figures=[], revision=0, published_revision=0, published_version=0,
                 saved_by="（导入）")


def load(conn: Connection, article_id: str) -> Draft | None:
    row = conn.execute("SELECT * FROM kb_drafts WHERE article_id = ?",
                       [article_id[:64]]).fetchone()
    if row is not None:
        return _draft(row)
    seeded = conn.execute("SELECT * FROM kb_articles WHERE id = ?", [article_id[:64]]).fetchone()
    return _seeded(seeded) if seeded is not None else None


def _everything(conn: Connection) -> list[Draft]:
    drafts = [_draft(r) for r in conn.execute("SELECT * FROM kb_drafts")]
    known = {d.article_id for d in drafts}
    seeded = [_seeded(r) for r in conn.execute("SELECT * FROM kb_articles")
              if r["id"] not in known]
    return drafts + seeded


def listing(conn: Connection, q: str = "", category: str = "",
            state: str = "") -> list[Draft]:
    """Articles with every word of ``q`` in their title, body, tags or fault codes (case
    does not matter for codes), of ``category`` and ``state``; titles first, then by title.
    A knowledge base is hundreds of articles, so this reads them all."""
    found = []
    terms = [w.lower() for w in q.split()][:8]
    for d in _everything(conn):
        if category and d.category != category or state and d.state != state:
            continue
        text = d.text().lower()
        if all(t in text for t in terms):
            found.append(d)
    found.sort(key=lambda d: (-sum(t in d.title.lower() for t in terms), d.title))
    return found


def categories(conn: Connection) -> list[str]:
    cats = {r[0] for r in conn.execute("SELECT DISTINCT category FROM kb_articles"
                                       " WHERE category IS NOT NULL")}
    cats |= {r[0] for r in conn.execute("SELECT DISTINCT category FROM kb_drafts")}
    return sorted(c for c in cats if c)


def record(d: Draft) -> dict[str, Any]:
    """The synced ``kb_articles`` fields of a draft: fault codes published as tags."""
    tags = list(d.tags) + [c for c in d.fault_codes if c not in d.tags]
    return {"title": d.title, "category": d.category,
            "body": composed_body(d.body, d.figures),
            "tags": json.dumps(tags, ensure_ascii=False)}


def may_write(who: Principal, op: str = "insert") -> bool:
    """The write policy decides who may write kb_articles through the office door; an
    account limited to a district writes nothing every district reads."""
    grant = grant_for(who.role, "kb_articles", op, set(), Door.OFFICE)
    return grant is not None and not (grant.scope is Scope.DISTRICT and district_of(who))


def check_writer(who: Principal, op: str = "insert") -> None:
    if not may_write(who, op):
        raise ApiError(403, "forbidden", "知识库文章由主管或管理员编写、发布和撤回"
                       "（知识库是全公司的，限定区域的账号不能修改）")


def _locked(conn: Connection, article_id: str, opened_revision: int) -> Draft:
    """The article as stored now, refused as Stale unless it is still the revision the
    editor opened; a seeded article is adopted (its row kept as version 1) first."""
    current = load(conn, article_id)
    if current is None:
        raise ApiError(404, "unknown_article", "没有这篇知识库文章")
    if current.revision != opened_revision:
        raise Stale(current)
    if current.revision == 0:
        current = _adopt(conn, current)
    return current


def _adopt(conn: Connection, seeded: Draft) -> Draft:
    now = utc_now()
    row = conn.execute("SELECT * FROM kb_articles WHERE id = ?", [seeded.article_id]).fetchone()
    adopted = replace(seeded, revision=1, published_revision=1, published_version=1,
                      created_by="system", created_at=now, saved_by="system", saved_at=now)
    _insert_version(conn, adopted, 1, "system", row["version"])
    conn.execute(
        "INSERT INTO kb_drafts(article_id, title, category, tags, fault_codes, body, figures,"
        " revision, published_revision, published_version, created_by, created_at, saved_by,"
        " saved_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, 1, 1, 'system', ?, 'system', ?)",
        [adopted.article_id, adopted.title, adopted.category, _json(adopted.tags), "[]",
         adopted.body, "[]", now, now])
    return adopted


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def save(conn: Connection, who: Principal, article_id: str | None, edit: Edit,
         opened_revision: int, new_id: str | None = None) -> str:
    """Keep the edit as the article's draft (tablets see nothing of it); returns its id.
    A new figure must already be in the attachment store (the page stores it first)."""
    check_writer(who, "insert")
    edit = check(edit)
    now = utc_now()
    if article_id is None:
        assert new_id
        figures = [edit.new_figure] if edit.new_figure else []
        conn.execute(
            "INSERT INTO kb_drafts(article_id, title, category, tags, fault_codes, body,"
            " figures, revision, created_by, created_at, saved_by, saved_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
            [new_id, edit.title, edit.category, _json(edit.tags), _json(edit.fault_codes),
             edit.body, _json(figures), who.username, now, who.username, now])
        return new_id
    current = _locked(conn, article_id, opened_revision)
    figures = [{**f, "caption": edit.captions.get(f["sha256"], f.get("caption", ""))}
               for f in current.figures if f["sha256"] not in edit.remove]
    if edit.new_figure and all(f["sha256"] != edit.new_figure["sha256"] for f in figures):
        figures.append(edit.new_figure)
    if len(figures) > FIGURES_MAX:
        raise Invalid([f"一篇文章最多 {FIGURES_MAX} 张插图"])
    conn.execute(
        "UPDATE kb_drafts SET title = ?, category = ?, tags = ?, fault_codes = ?, body = ?,"
        " figures = ?, revision = revision + 1, saved_by = ?, saved_at = ?"
        " WHERE article_id = ?",
        [edit.title, edit.category, _json(edit.tags), _json(edit.fault_codes), edit.body,
         _json(figures), who.username, now, article_id])
    return article_id


def _insert_version(conn: Connection, d: Draft, version: int, by: str,
                    change_seq: int | None) -> None:
    body = composed_body(d.body, d.figures)
    conn.execute(
        "INSERT INTO kb_versions(article_id, version, title, category, tags, fault_codes,"
        " body, figures, published_by, published_at, change_seq)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [d.article_id, version, d.title, d.category, _json(d.tags), _json(d.fault_codes),
         body, _json(d.figures), by, utc_now(), change_seq])


def publish(conn: Connection, who: Principal, clock: ServerClock, article_id: str,
            opened_revision: int) -> int:
    """Publish the draft as it was when the page was opened; returns the new version."""
    current = _locked(conn, article_id, opened_revision)
    if current.state == "published":
        raise ApiError(409, "nothing_to_publish", "草稿与已发布的版本相同，没有需要发布的修改")
    fields = record(current)
    row = conn.execute("SELECT * FROM kb_articles WHERE id = ?", [article_id]).fetchone()
    if row is None:
        check_writer(who, "insert")
        # A withdrawn article comes back as a new insert: its old tombstone is settled
        # here, so merge does not treat the publish as an edit racing a device's delete.
        conn.execute("UPDATE tombstones SET restored_at = ? WHERE tbl = 'kb_articles'"
                     " AND record_id = ? AND restored_at IS NULL", [utc_now(), article_id])
        dispatch.write(conn, who, clock, "kb_articles", article_id, "insert", fields)
    else:
        check_writer(who, "update")
        old = {k: row[k] for k in fields}
        changed = {k: v for k, v in fields.items() if old[k] != v}
        if changed:
            dispatch.write(conn, who, clock, "kb_articles", article_id, "update", changed,
                           old={k: old[k] for k in changed}, base_version=row["version"])
    seq = conn.execute("SELECT version FROM kb_articles WHERE id = ?", [article_id]).fetchone()[0]
    version = current.published_version + 1
    _insert_version(conn, current, version, who.username, seq)
    conn.execute("UPDATE kb_drafts SET published_revision = revision, published_version = ?,"
                 " withdrawn_at = NULL, withdrawn_by = NULL WHERE article_id = ?",
                 [version, article_id])
    audit.security_event(conn, who, "kb_published", article_id,
                         {"title": current.title, "version": version})
    return version


def withdraw(conn: Connection, who: Principal, clock: ServerClock, article_id: str,
             opened_revision: int) -> None:
    """Take the article off every tablet and the portal; its draft and versions stay."""
    check_writer(who, "delete")
    current = _locked(conn, article_id, opened_revision)
    if current.state in ("withdrawn", "draft"):
        raise ApiError(409, "not_published", "这篇文章没有发布，无需撤回")
    row = conn.execute("SELECT version FROM kb_articles WHERE id = ?", [article_id]).fetchone()
    if row is not None:
        dispatch.write(conn, who, clock, "kb_articles", article_id, "delete", {},
                       base_version=row["version"])
    conn.execute("UPDATE kb_drafts SET withdrawn_at = ?, withdrawn_by = ?,"
                 " revision = revision + 1, saved_by = ?, saved_at = ? WHERE article_id = ?",
                 [utc_now(), who.username, who.username, utc_now(), article_id])
    audit.security_event(conn, who, "kb_withdrawn", article_id,
                         {"title": current.title, "version": current.published_version})


def versions(conn: Connection, article_id: str) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(
        "SELECT v.article_id, v.version, v.title, v.published_by, v.published_at,"
        " v.change_seq, coalesce(u.display_name, v.published_by) AS publisher"
        " FROM kb_versions v LEFT JOIN users u ON u.username = v.published_by"
        " WHERE v.article_id = ? ORDER BY v.version DESC", [article_id[:64]])]


def version(conn: Connection, article_id: str, number: int) -> dict[str, Any] | None:
    row = conn.execute("SELECT * FROM kb_versions WHERE article_id = ? AND version = ?",
                       [article_id[:64], number]).fetchone()
    if row is None:
        return None
    out = dict(row)
    out["tags"], out["fault_codes"] = json.loads(out["tags"]), json.loads(out["fault_codes"])
    return out


def figure_known(conn: Connection, name: str) -> bool:
    """Whether a figure file is one some article (a draft or any version) uses: the
    office serves no other file of the attachment store through the knowledge base."""
    if not FIGURE.match(f"![]({name})"):
        return False
    sha = name.split(".")[0]
    pattern = f"%{sha}%"
    return conn.execute(
        "SELECT EXISTS (SELECT 1 FROM kb_drafts WHERE figures LIKE ? OR body LIKE ?)"
        " OR EXISTS (SELECT 1 FROM kb_versions WHERE body LIKE ?)"
        " OR EXISTS (SELECT 1 FROM kb_articles WHERE body LIKE ?)",
        [pattern, pattern, f"%]({name})%", f"%]({name})%"]).fetchone()[0] in (1, True)


def published_figure(conn: Connection, name: str) -> bool:
    """Whether a figure is in a published article: what the tablets fetch after a sync."""
    if not FIGURE.match(f"![]({name})"):
        return False
    return conn.execute("SELECT EXISTS (SELECT 1 FROM kb_articles WHERE body LIKE ?)",
                        [f"%]({name})%"]).fetchone()[0] in (1, True)


def public_figure(conn: Connection, name: str) -> bool:
    """Whether a figure is in an article the portal shows (published and tagged 公开)."""
    if not FIGURE.match(f"![]({name})"):
        return False
    return conn.execute(
        "SELECT EXISTS (SELECT 1 FROM kb_articles WHERE tags LIKE ? AND body LIKE ?)",
        [f'%"{PUBLIC_TAG}"%', f"%]({name})%"]).fetchone()[0] in (1, True)

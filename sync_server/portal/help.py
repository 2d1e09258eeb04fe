"""The public part of the knowledge base: articles tagged 公开 (written for customers, such
as 如何自查漏气), searched by every word in the title, tags or text; titles first. An
article's figures (``![caption](file.png)`` lines, as the office publishes them) are shown
as images; a withdrawn article is no longer in ``kb_articles`` and so not found."""

from __future__ import annotations

import re
from html import escape
from typing import Any

from markupsafe import Markup

from fieldapp.kb.article import blocks
from fieldapp.records import escape_like
from sync_server.storage.db import Connection

PUBLIC_TAG = "公开"
_PUBLIC = f'%"{PUBLIC_TAG}"%'
CONTEXT = 30  # characters either side of a match in a snippet


def search(conn: Connection, text: str, limit: int = 20) -> list[dict[str, Any]]:
    """Public articles containing every word of ``text``; all of them for an empty query."""
    words = [w for w in re.split(r"\s+", text.strip()) if w][:8]
    where, params = ["tags LIKE ?"], [_PUBLIC]
    for w in words:
        where.append("(title LIKE ? ESCAPE '\\' OR body LIKE ? ESCAPE '\\'"
                     " OR tags LIKE ? ESCAPE '\\')")
        params += [f"%{escape_like(w)}%"] * 3
    rows = [dict(r) for r in conn.execute(
        "SELECT id, title, category, body FROM kb_articles WHERE " + " AND ".join(where)
        + " ORDER BY title", params)]
    rows.sort(key=lambda r: -sum(w in r["title"] for w in words))
    for r in rows:
        r["snippet"] = snippet(r["body"] or "", words)
    return rows[:limit]


def snippet(body: str, words: list[str]) -> Markup:
    """Text around the first match, the words marked; the article's opening without one."""
    flat = re.sub(r"\s+", " ", _without_figures(body))
    found = [(flat.find(w), w) for w in words if w in flat]
    if not found:
        return Markup(escape(flat[:2 * CONTEXT]) + ("…" if len(flat) > 2 * CONTEXT else ""))
    at = min(found)[0]
    start, end = max(0, at - CONTEXT), at + CONTEXT * 2
    piece = escape(flat[start:end])
    for w in words:
        piece = piece.replace(escape(w), f"<mark>{escape(w)}</mark>")
    return Markup(("…" if start else "") + piece + ("…" if end < len(flat) else ""))


def article(conn: Connection, article_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT id, title, category, body FROM kb_articles"
                       " WHERE id = ? AND tags LIKE ?", [article_id, _PUBLIC]).fetchone()
    if row is None:
        return None
    out = dict(row)
    out["paragraphs"] = [p.strip() for p in (out["body"] or "").split("\n\n") if p.strip()]
    out["blocks"] = blocks(out["body"] or "")  # ("p", text, "") or ("figure", caption, name)
    return out


def _without_figures(body: str) -> str:
    """A figure in a snippet shows only its caption."""
    return re.sub(r"!\[([^\]]*)\]\([\w.-]+\)", r"\1", body)

"""Knowledge-base search, offline and in Chinese: SQLite FTS5 with the trigram tokenizer.

    hits = replica.kb.search("熄火保护")      # best first, with a marked snippet
    marked_html(hits[0]["snippet"])            # the matched text in <b>, the rest escaped

Trigrams need three characters, and much Chinese searching is two ("漏气", "阀门"): a query
word shorter than three characters is matched as a substring instead (every word must
match either way), and its snippet is cut around the first occurrence in Python.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from fieldapp.records import escape_like

if TYPE_CHECKING:
    from fieldapp.replica import Replica

MARK, END = "\x02", "\x03"  # around matched text in a snippet; see marked_html
SNIPPET_CHARS = 24  # of context on either side of a short-word match


class KnowledgeBase:
    def __init__(self, replica: Replica) -> None:
        self.r = replica

    def search(self, text: str, limit: int = 50,
               category: str | None = None) -> list[dict[str, Any]]:
        """Articles matching every word of ``text`` (best first: title, then tags, then
        body), each with ``snippet``: body text around the match, the match marked."""
        words = [w for w in re.split(r"\s+", text.strip()) if w]
        if not words:
            return []
        short = [w for w in words if len(w) < 3]
        where, params = [], []
        if category:
            where.append("a.category = ?")
            params.append(category)
        for w in short:
            where.append("(a.title LIKE ? ESCAPE '\\' OR a.body LIKE ? ESCAPE '\\'"
                         " OR a.tags LIKE ? ESCAPE '\\')")
            params += [f"%{escape_like(w)}%"] * 3
        long = [w for w in words if len(w) >= 3]
        if long:
            match = " AND ".join('"' + w.replace('"', '""') + '"' for w in long)
            sql = (f"SELECT a.id, a.title, a.category, snippet(kb_fts, 1, '{MARK}', '{END}',"
                   f" '…', 16) AS snippet FROM kb_fts JOIN kb_articles a"
                   f" ON a.rowid = kb_fts.rowid WHERE kb_fts MATCH ?"
                   f"{''.join(' AND ' + w for w in where)}"
                   f" ORDER BY bm25(kb_fts, 10.0, 1.0, 5.0) LIMIT ?")
            rows = list(self.r.db.query(sql, [match, *params, limit]))
        else:
            sql = (f"SELECT a.id, a.title, a.category, a.body FROM kb_articles a"
                   f" WHERE {' AND '.join(where)}"
                   f" ORDER BY (a.title LIKE ? ESCAPE '\\') DESC, a.title LIMIT ?")
            rows = [{"id": r["id"], "title": r["title"], "category": r["category"],
                     "snippet": _cut(r["body"] or "", short[0])}
                    for r in self.r.db.query(sql, [*params, f"%{escape_like(short[0])}%",
                                                   limit])]
        for row in rows:
            row["snippet"] = _without_figures(row["snippet"])
            for w in short:  # FTS marks the long words; mark the short ones too
                row["snippet"] = _mark(row["snippet"], w)
        return rows

    def in_category(self, category: str, limit: int = 200) -> list[dict[str, Any]]:
        """Every article of a category, by title: browsing without a search."""
        return [{"id": r["id"], "title": r["title"], "category": r["category"],
                 "snippet": _without_figures(_cut(r["body"] or "", ""))}
                for r in self.r.db.query(
            "SELECT id, title, category, body FROM kb_articles WHERE category = ?"
            " ORDER BY title LIMIT ?", [category, limit])]

    def categories(self) -> list[str]:
        return [r["category"] for r in self.r.db.query(
            "SELECT DISTINCT category FROM kb_articles WHERE category IS NOT NULL"
            " ORDER BY category")]

    def article(self, article_id: str) -> dict[str, Any]:
        return self.r.get("kb_articles", article_id)


def _without_figures(snippet: str) -> str:
    """A figure's markup (``![caption](file.png)``, perhaps cut by the snippet) shows only
    its caption in a result."""
    return re.sub(r"\]\([\w.\-]*\)?", "", snippet.replace("![", ""))


def marked_html(snippet: str) -> str:
    """A snippet as HTML: escaped, the matched text in bold."""
    return html.escape(snippet).replace(MARK, "<b>").replace(END, "</b>")


def _cut(body: str, word: str) -> str:
    at = body.find(word)
    if at < 0:
        return body[: 2 * SNIPPET_CHARS] + ("…" if len(body) > 2 * SNIPPET_CHARS else "")
    start, end = max(0, at - SNIPPET_CHARS), at + len(word) + SNIPPET_CHARS
    return ("…" if start else "") + body[start:end] + ("…" if end < len(body) else "")


def _mark(snippet: str, word: str) -> str:
    """Mark ``word`` where it stands outside the marks FTS already set."""
    parts = re.split(f"({MARK}.*?{END})", snippet)
    return "".join(p if p.startswith(MARK) else p.replace(word, f"{MARK}{word}{END}")
                   for p in parts)

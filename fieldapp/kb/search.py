"""Knowledge-base lookup. A substring match for now; FTS5 with the trigram tokenizer comes later."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fieldapp.replica import Replica


class KnowledgeBase:
    def __init__(self, replica: Replica) -> None:
        self.r = replica

    def search(self, text: str, limit: int = 50) -> list[dict[str, Any]]:
        like = f"%{text.strip()}%"
        return list(self.r.db.query(
            "SELECT id, title, category FROM kb_articles WHERE title LIKE ? OR body LIKE ?"
            " OR tags LIKE ? ORDER BY (title LIKE ?) DESC, title LIMIT ?",
            [like, like, like, like, limit]))

    def article(self, article_id: str) -> dict[str, Any]:
        return self.r.get("kb_articles", article_id)

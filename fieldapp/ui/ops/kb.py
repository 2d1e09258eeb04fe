"""The knowledge base: search, categories, one article."""

from __future__ import annotations

from typing import Any

from fieldapp.replica import Replica


def kb_search(replica: Replica, *, text: str, category: str | None = None
              ) -> list[dict[str, Any]]:
    return replica.kb.search(text, category=category)


def kb_in_category(replica: Replica, *, category: str) -> list[dict[str, Any]]:
    return replica.kb.in_category(category)


def kb_categories(replica: Replica) -> list[str]:
    return replica.kb.categories()


def kb_article(replica: Replica, *, article_id: str) -> dict[str, Any]:
    return replica.kb.article(article_id)

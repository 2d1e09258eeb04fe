"""A customer's contact fields as people type them, read the same way wherever they come in
(an import from the billing system, a correction at 客服中心)."""

from __future__ import annotations

import json
import re

_PHONE_NOISE = re.compile(r"[\s\-()（）]")
_PHONE = re.compile(r"\+?[0-9]{5,20}")
_TAG_SPLIT = re.compile(r"[，,;；、|\s]+")
MAX_HOUSEHOLD = 50


def phone(text: str) -> str | None:
    """The number with dashes, spaces and brackets dropped; None for no number; ValueError
    when it is not a phone number."""
    digits = _PHONE_NOISE.sub("", text)
    if not digits:
        return None
    if not _PHONE.fullmatch(digits):
        raise ValueError(text)
    return digits


def household_size(text: str) -> int | None:
    """People in the household, 1 to 50; None when not given; ValueError otherwise."""
    if not text.strip():
        return None
    size = int(text)
    if not 1 <= size <= MAX_HOUSEHOLD:
        raise ValueError(text)
    return size


def words(text: str) -> list[str]:
    """A list typed in one cell: separated by commas, 、, semicolons, | or spaces."""
    return [t for t in _TAG_SPLIT.split(text) if t]


def tags(text: str) -> str:
    """Tags as ``words`` reads them, stored as a JSON list."""
    return json.dumps(words(text), ensure_ascii=False)

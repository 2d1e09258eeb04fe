"""Every user-visible string of the tablet UI, in Chinese (default) and English.

    tr("today.summary", date="11月24日", n=8)

The language comes from ``--lang``, else ``FIELDAPP_LANG``, else the stored setting, else
Chinese. Keeping both languages side by side in one table makes a missing translation
visible in review and lets a test check that no key lacks one.
"""

from __future__ import annotations

import os
from typing import Any

from fieldapp.ui.i18n.catalogue_map import MAP
from fieldapp.ui.i18n.catalogue_messages import MESSAGES
from fieldapp.ui.i18n.catalogue_screens import SCREENS

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

# key: (zh, en), kept in modules by what they are for
CATALOGUE: dict[str, tuple[str, str]] = {**SCREENS, **MESSAGES, **MAP}
assert len(CATALOGUE) == len(SCREENS) + len(MESSAGES) + len(MAP), "a key in two catalogues"

_language = DEFAULT_LANGUAGE


def resolve_language(cli: str | None = None, stored: str | None = None) -> str:
    """The language to start in: command line, then environment, then stored, then Chinese."""
    for choice in (cli, os.environ.get("FIELDAPP_LANG"), stored):
        if choice and choice.lower()[:2] in LANGUAGES:
            return choice.lower()[:2]
    return DEFAULT_LANGUAGE


def set_language(lang: str) -> None:
    global _language
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}")
    _language = lang


def language() -> str:
    return _language


def tr(key: str, **params: Any) -> str:
    """The text for ``key`` in the current language; a missing key shows itself, never crashes."""
    entry = CATALOGUE.get(key)
    if entry is None:
        return key
    text = entry[LANGUAGES.index(_language)]
    try:
        return text.format(**params) if params else text
    except (KeyError, IndexError, ValueError):
        return text


def pick(texts: dict[str, str] | str | None) -> str:
    """One language out of a data value like a form label ``{"zh": …, "en": …}``."""
    if texts is None:
        return ""
    if isinstance(texts, str):
        return texts
    return texts.get(_language) or texts.get(DEFAULT_LANGUAGE) or next(iter(texts.values()), "")

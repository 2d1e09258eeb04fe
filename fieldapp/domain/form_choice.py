"""Which form a job is done on. Each kind of job that has a form has FieldApp's standard one
(``FORM_FOR_KIND``); the utility may choose another per kind, and per kind of customer (a
restaurant's inspection on the commercial-kitchen form), from the office. The choice is one
of the utility's shared settings, so every tablet has it offline.

It decides only the form of a submission not yet started: a started one keeps the form and
the version it began on, whatever is chosen later.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from fieldapp.domain.kinds import FORM_FOR_KIND

SETTING = "forms.by_kind"  # the org_settings record: {"inspection.commercial": "code", …}
CUSTOMER_KINDS = ("residential", "commercial", "industrial")
CUSTOMER_KIND_ZH = {"residential": "居民", "commercial": "商业", "industrial": "工业"}


def key(kind: str, customer_kind: str | None = None) -> str:
    """The setting's key: a job kind, or a job kind for one kind of customer."""
    return f"{kind}.{customer_kind}" if customer_kind else kind


def chosen(value: str | None) -> dict[str, str]:
    """The published choice, read leniently: anything unreadable counts as no choice, so a
    tablet always has a form to work on."""
    try:
        data = json.loads(value) if value else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)
            and k.split(".")[0] in FORM_FOR_KIND}


def form_for(kind: str, customer_kind: str | None,
             choice: Mapping[str, str] | None = None) -> str | None:
    """The form code a new submission of this job uses; None for a kind without a form."""
    if kind not in FORM_FOR_KIND:
        return None
    choice = choice or {}
    return choice.get(key(kind, customer_kind)) or choice.get(kind) or FORM_FOR_KIND[kind]

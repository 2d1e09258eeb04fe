"""领料: parts a technician asks the stores for on a job, from the catalogue the repair
report's parts list holds, so what is requested and what is recorded as used share codes.
One catalogue for the tablet (replica/parts.py) and the office (office/parts.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CATALOGUE_FORM, CATALOGUE_LIST = "repair_report", "parts"
MAX_QUANTITY = 99
STATES = ("requested", "issued", "refused")


def catalogue(definition: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(code, Chinese name) of every part the repair report's definition lists, but the
    free-text 其他 (a request names a part the stores can issue)."""
    choices = definition.get("choice_lists", {}).get(CATALOGUE_LIST, [])
    return [(c["value"], (c.get("label") or {}).get("zh") or c["value"])
            for c in choices if c["value"] != "other"]

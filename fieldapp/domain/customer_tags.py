"""Customer tags as product content: the standard tags offered as chips in the office and
on the tablet, toggling one, and merging two sides' edits of a tag list.

Tags drive proactive care (safety notices before holidays and cold waves, inspection
planning), so the same few words should be used everywhere: a campaign to 独居老人 finds
only customers tagged exactly so. Free tags stay possible; the chips only make the usual
ones one tap away. Shared by the tablet and the server; no Qt, no SQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

# The words the billing systems' exports and the demo data already use where they exist
# (高风险, 老旧小区, 餐饮), so imported tags light up the same chips.
STANDARD_TAGS: tuple[str, ...] = (
    "有老人小孩的家庭", "独居老人", "新开通用户", "商户", "租户", "重点关注",
    "行动不便", "高风险", "老旧小区", "空置房", "餐饮", "低保户",
)
MAX_TAG = 20  # characters of one tag
MAX_TAGS = 20  # tags on one customer


def read(value: str | None) -> list[str]:
    """A stored tag list (JSON text) as a list; anything else as no tags."""
    try:
        tags = json.loads(value or "[]")
    except ValueError:
        return []
    return [str(t) for t in tags] if isinstance(tags, list) else []


def stored(tags: Iterable[str]) -> str:
    """Tags as the customers table holds them: a JSON list, Chinese kept as is (so a
    campaign's filter finds them), each tag once, in the order given."""
    return json.dumps(list(dict.fromkeys(t for t in tags if t)), ensure_ascii=False)


def toggled(tags: list[str], tag: str) -> list[str]:
    """``tags`` with ``tag`` added at the end, or removed when it was there."""
    return [t for t in tags if t != tag] if tag in tags else [*tags, tag]


def merged(base: list[str], ours: list[str], theirs: list[str]) -> list[str]:
    """Both sides' edits of one tag list kept: a tag either side added is in, a tag either
    side removed is out (a three-way merge of sets), in the order the tags first appear."""
    removed = (set(base) - set(ours)) | (set(base) - set(theirs))
    return [t for t in dict.fromkeys([*theirs, *ours]) if t not in removed]

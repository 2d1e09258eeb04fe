"""What a core operation changed, so screens redraw only what they show."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Changes:
    tables: frozenset[str] = field(default_factory=frozenset)
    record_ids: frozenset[str] = field(default_factory=frozenset)

    def touches(self, *tables: str) -> bool:
        return bool(self.tables.intersection(tables))

    def __or__(self, other: Changes) -> Changes:
        return Changes(self.tables | other.tables, self.record_ids | other.record_ids)

    def __bool__(self) -> bool:
        return bool(self.tables)

    @classmethod
    def of(cls, *tables: str, ids: tuple[str, ...] = ()) -> Changes:
        return cls(frozenset(tables), frozenset(ids))

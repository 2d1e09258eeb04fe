"""What every import shares: a file's rows read field by field, the problems named by row and
column, and the tally of what was checked."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sync_server.services.imports import progress
from sync_server.services.imports.mapping import Field
from sync_server.services.imports.table_file import Table

REPORT_EVERY = 500  # rows between two progress reports


@dataclass(frozen=True)
class Problem:
    row: int
    column: str  # the file's header, or the field's Chinese name when it has no column
    message: str

    def __str__(self) -> str:
        return f"第 {self.row} 行「{self.column}」：{self.message}"


class Row:
    """One row of the file, read by field name; its problems gathered as they are found."""

    def __init__(self, number: int, cells: list[str], column: dict[str, int],
                 mapping: dict[str, str], fields: dict[str, Field]) -> None:
        self.number = number
        self._cells, self._column, self._mapping, self._fields = cells, column, mapping, fields
        self.problems: list[Problem] = []

    def value(self, name: str) -> str:
        """The field's text, stripped; empty when the file has no column for it."""
        return self._cells[self._column[name]].strip() if name in self._column else ""

    def field_zh(self, name: str) -> str:
        return self._fields[name].zh

    def bad(self, name: str, message: str) -> None:
        column = self._mapping.get(name, self._fields[name].zh)
        self.problems.append(Problem(self.number, column, message))


def rows(table: Table, mapping: dict[str, str], fields: dict[str, Field]) -> Iterator[Row]:
    column = {name: table.headers.index(header) for name, header in mapping.items()}
    total = len(table.rows)
    for done, (number, cells) in enumerate(table.rows):
        if done % REPORT_EVERY == 0:
            progress.report("检查", done, total)
        yield Row(number, cells, column, mapping, fields)
    progress.report("检查", total, total)


@dataclass
class Checked:
    """The tally of a checked file: how many rows, which were bad and why."""

    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)

    def summary(self) -> str:
        """What the good rows hold, in words (each kind's plan says it its way)."""
        return f"{self.rows - len(self.bad_rows)} 行"

    def passed(self, row: Row) -> bool:
        """Count ``row``: False (and its problems kept) when anything was wrong with it."""
        if row.problems:
            self.problems += row.problems
            self.bad_rows.add(row.number)
            return False
        return True

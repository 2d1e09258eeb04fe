"""Accounting for a real XLSForm: every question pyxform reads from it is either kept by
FieldApp's importer or named in one of its problems, never lost without a word.

    account(path)   # Account: pyxform's questions, which FieldApp kept, which it named

pyxform's XLSForm → JSON step is the reference for what a form holds (ODK's tools see the
same questions); FieldApp's definition and problems are compared with it by question name.
Used by tests/forms/test_xlsform_corpus.py over the forms in tests/forms/corpus/ (pyxform's
own example forms, BSD licence in LICENSE.pyxform) and by bench/xlsform_corpus_report.py over
any folder of forms.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fieldapp.forms.xlsform import import_xlsform
from fieldapp.forms.xlsform_sheets import XLSFormError, cell_text, read_sheets

CORPUS = Path(__file__).parent / "corpus"
SUFFIXES = (".xlsx", ".xls")


@dataclass
class Account:
    form: str
    refused: str | None = None  # pyxform's (or FieldApp's) reason for refusing it whole
    questions: list[str] = field(default_factory=list)  # as pyxform reads them
    kept: list[str] = field(default_factory=list)
    remarks: dict[str, list[str]] = field(default_factory=dict)  # kept, with a word
    named: dict[str, list[str]] = field(default_factory=dict)  # left out, and why
    unnamed: list[str] = field(default_factory=list)  # left out without a word: a bug

    @property
    def lost(self) -> int:
        return len(self.named) + len(self.unnamed)


def pyxform_questions(path: Path) -> list[str]:
    """The names of every group, repeat and question pyxform reads, in form order (not the
    ``meta`` group it adds itself)."""
    from pyxform.xls2json import workbook_to_json  # type: ignore[import-untyped]
    from pyxform.xls2json_backends import get_xlsform  # type: ignore[import-untyped]

    tree = workbook_to_json(get_xlsform(path), form_name="data", default_language="default",
                            warnings=[])
    return list(_names(tree.get("children", [])))


def _names(children: list[dict[str, Any]]) -> Iterator[str]:
    for child in children:
        if child.get("control", {}).get("bodyless"):
            continue  # pyxform's own meta/instanceID
        yield child["name"]
        yield from _names(child.get("children", []))


def _keys(items: list[dict[str, Any]]) -> Iterator[str]:
    for item in items:
        yield item["key"]
        yield from _keys(item.get("items", []))


def account(path: Path) -> Account:
    result = Account(path.name)
    try:
        imported = import_xlsform(path)
    except XLSFormError as exc:
        result.refused = str(exc)
        return result
    rows: dict[str, list[int]] = {}
    for number, record in read_sheets(path)["survey"].records():
        # pyxform names a note without a name after its row, and so does FieldApp.
        name = cell_text(record.get("name")) or f"generated_note_name_{number}"
        rows.setdefault(name, []).append(number)
    # What pyxform adds of its own (a table-list's header notes, a repeat_count's
    # calculate, an or_other's text) is on no row: not the form's questions.
    result.questions = [n for n in pyxform_questions(path) if n in rows]
    said: dict[int, list[str]] = {}
    for problem in imported.problems:
        if problem.sheet == "survey":
            said.setdefault(problem.row, []).append(problem.message)
    kept = set(_keys(imported.definition["items"]))
    for name in result.questions:
        words = [m for row in rows.get(name, []) for m in said.get(row, [])]
        if name in kept:
            result.kept.append(name)
            if words:
                result.remarks[name] = words
        elif words:
            result.named[name] = words
        else:
            result.unnamed.append(name)
    return result


def corpus(folder: Path = CORPUS) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES)

"""Real XLSForms (pyxform's own example forms, in tests/forms/corpus/): every question pyxform
reads is kept or named with its row, and a form pyxform refuses is refused with its reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyxform.errors import PyXFormError  # type: ignore[import-untyped]

from tests.forms.xlsform_corpus import account, corpus, pyxform_questions

FORMS = corpus()


def test_the_corpus_is_there() -> None:
    assert len(FORMS) >= 30
    assert {p.suffix for p in FORMS} == {".xls", ".xlsx"}  # Excel 97-2003 as well


@pytest.mark.parametrize("path", FORMS, ids=[p.name for p in FORMS])
def test_every_question_is_kept_or_named(path: Path) -> None:
    found = account(path)
    if found.refused is not None:
        assert found.refused.startswith("pyxform refuses this XLSForm: ")
        with pytest.raises(PyXFormError):
            pyxform_questions(path)
        return
    assert found.questions, "pyxform reads questions from every form it accepts"
    assert found.unnamed == []
    assert len(found.kept) + len(found.named) == len(found.questions)


def test_most_of_the_corpus_is_kept() -> None:
    """What is left out is what FieldApp records itself (start, end, deviceid…), a CSV not
    attached here, and ODK's loops and OSM questions; a drop below this share is a
    regression."""
    accounts = [account(p) for p in FORMS]
    questions = sum(len(a.questions) for a in accounts)
    kept = sum(len(a.kept) for a in accounts)
    assert questions >= 300
    assert kept / questions >= 0.9
    assert sum(1 for a in accounts if a.refused) == 2  # a duplicated header, a nameless row


def test_what_real_forms_write_is_read_as_odk_reads_it() -> None:
    """ODK's math in a slope correction, a note with no name, 'or specify other', the
    acknowledge and dateTime types, a typed phone number."""
    biomass = account(Path(FORMS[0].parent / "UCL_Biomass_Plot_Form.xlsx"))
    assert "slope_radius" in biomass.kept  # round(15 div (sqrt(cos(atan(…)))))
    dated = account(FORMS[0].parent / "repeat_date_test.xls")
    assert "generated_note_name_2" in dated.kept
    widgets = account(FORMS[0].parent / "widgets.xls")
    assert widgets.named == {} and len(widgets.kept) == len(widgets.questions)

"""Loading definitions: good ones compile, bad ones fail naming the question and the problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fieldapp.errors import InvalidInput
from fieldapp.forms.form_files import FORMS_DIR, bundled, load_file
from fieldapp.forms.loader import FormDefinitionError, as_definition, load_definition
from tests.forms.formkit import form, q

BUNDLED = sorted(FORMS_DIR.glob("*.json"))


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_every_bundled_form_loads_with_both_languages(path: Path) -> None:
    definition = load_file(path)
    assert path.name == f"{definition.name}.json"
    assert definition.title["zh"] and definition.title["en"]
    for question in definition.by_key.values():
        if question.type not in ("calculate", "hidden"):
            assert question.label.get("zh") and question.label.get("en"), question.key
        if question.constraint is not None:
            message = question.raw.get("constraint_message") or {}
            assert message.get("zh") and message.get("en"), question.key
        for choice in question.choices:
            assert choice.label.get("zh") and choice.label.get("en"), (question.key, choice)


def test_bundled_v1_checklist_keeps_its_shape() -> None:
    v1 = bundled()[("household_inspection", 1)]
    assert len(v1.questions) == 26
    assert {x.type for x in v1.questions} == {"pass_fail_na"}
    assert v1.hazard_levels["critical"].deadline_days == 1


def test_structure_is_compiled() -> None:
    d = load_definition(form(
        q("visited", "yes_no", required=True),
        {"key": "inside", "type": "group", "label": {"zh": "户内", "en": "Inside"},
         "relevant": "${visited} = 'yes'", "items": [
             q("appliance_count", "integer", constraint=". >= 0",
               constraint_message={"zh": "不能为负", "en": "Cannot be negative"}),
             {"key": "appliances", "type": "repeat", "label": {"zh": "燃具", "en": "Appliances"},
              "max_repeat": 5, "items": [q("kind", "select_one"), q("age", "integer")]},
         ]},
        q("total_age", "calculate", calculation="sum(${age})"),
    ))
    assert list(d.by_key) == ["visited", "inside", "appliance_count", "appliances", "kind",
                              "age", "total_age"]
    assert d.by_key["age"].repeats == ("appliances",)
    assert d.by_key["age"].parent == "appliances"
    assert d.by_key["appliances"].repeats == () and d.by_key["appliances"].max_repeat == 5
    assert d.by_key["inside"].relevant.refs == {"visited"}
    assert d.by_key["kind"].choice_values == ("a", "b", "c")


def test_choice_lists_are_shared_by_name() -> None:
    lists = {"levels": [{"value": "low", "label": {"zh": "低", "en": "Low"}},
                        {"value": "high", "label": {"zh": "高", "en": "High"}}]}
    d = load_definition(form(q("a", "select_one", choices="levels"),
                             q("b", "select_multiple", choices="levels"), choice_lists=lists))
    assert d.by_key["a"].choice_values == d.by_key["b"].choice_values == ("low", "high")


def test_a_stored_dict_is_loaded_once_per_content() -> None:
    raw = form(q("a", "integer"))
    assert as_definition(raw) is as_definition(json.loads(json.dumps(raw)))


CHOICES = [{"value": "x", "label": {"zh": "x", "en": "x"}}]
BAD: list[tuple[str, dict[str, Any], str | None, str]] = [
    ("unknown type", form(q("a", "slider")), "a", "unknown type 'slider'"),
    ("duplicate key", form(q("a"), q("a", "integer")), "a", "duplicate key"),
    ("duplicate key in a repeat",
     form(q("a"), {"key": "r", "type": "repeat", "label": {"zh": "r", "en": "r"},
                   "items": [q("a")]}), "a", "duplicate key"),
    ("bad key", form(q("2a")), None, "bad question key '2a'"),
    ("typo in a property", form(q("a", requried=True)), "a", "unknown properties"),
    ("property of another type", form(q("a", "text", min_count=1)), "a",
     "unknown properties for a text: ['min_count']"),
    ("bad expression", form(q("a"), q("b", relevant="${a} = = 'x'")), "b",
     "relevant: expected a value but found '=' at position 7 in ${a} = = 'x'"),
    ("expression not text", form(q("a", relevant=["${b}"])), "a",
     "relevant must be an expression written as text"),
    ("unknown function", form(q("a", constraint="lenght(.) > 2")), "a",
     "constraint: unknown function lenght() at position 0"),
    ("unknown reference", form(q("a", relevant="${nope} = 1")), "a",
     "relevant refers to unknown question ${nope} in ${nope} = 1"),
    ("reference to a group",
     form({"key": "g", "type": "group", "label": {"zh": "g", "en": "g"}, "items": [q("a")]},
          q("b", relevant="${g} = 1")), "b", "refers to the group ${g}"),
    ("dot outside a constraint", form(q("a", "integer", relevant=". > 1")), "a",
     "'.' (this answer) is only meaningful in a constraint"),
    ("choices missing", form(q("a", "select_one", choices=[])), "a", "choices missing"),
    ("choices absent", form({"key": "a", "type": "select_multiple",
                             "label": {"zh": "a", "en": "a"}}), "a", "choices missing"),
    ("unknown choice list", form(q("a", "select_one", choices="nope")), "a",
     "unknown choice list 'nope'"),
    ("duplicate choice", form(q("a", "select_one", choices=CHOICES + CHOICES)), "a",
     "duplicate choice value 'x'"),
    ("choice without label", form(q("a", "select_one", choices=[{"value": "x"}])), "a",
     "label of choice 'x'"),
    ("space in a multiple choice",
     form(q("a", "select_multiple", choices=[{"value": "a b", "label": {"zh": "ab"}}])), "a",
     "cannot contain spaces"),
    ("unknown hazard level", form(q("a", "pass_fail_na", hazard_level_on_fail="deadly")), "a",
     "hazard_level_on_fail 'deadly' is not one of"),
    ("hazard level not text", form(q("a", "pass_fail_na", hazard_level_on_fail=["x"])), "a",
     "hazard_level_on_fail ['x'] is not one of"),
    ("hazard level on a text", form(q("a", "text", hazard_level_on_fail="general")), "a",
     "unknown properties"),
    ("flag not a boolean", form(q("a", "pass_fail_na", photo_required_on_fail="yes")), "a",
     "photo_required_on_fail must be true or false"),
    ("missing label", form({"key": "a", "type": "text"}), "a", "label must be"),
    ("label keyed by no language code", form(q("a", label={"French": "a"})), "a",
     "label must be"),
    ("label with no text", form(q("a", label={"fr": " "})), "a", "label must be"),
    ("bad constraint message", form(q("a", constraint=". > 1", constraint_message="too small")),
     "a", "constraint_message must be"),
    ("required not boolean", form(q("a", required="yes please")), "a",
     "required: unexpected name 'yes'"),
    ("default of the wrong type", form(q("a", "integer", default="3")), "a",
     "default '3' does not fit a integer (expected_integer)"),
    ("default not a choice", form(q("a", "select_one", default="z")), "a",
     "default 'z' does not fit a select_one (invalid_choice)"),
    ("dynamic default and default", form(q("a", dynamic_default="today()", default="x")), "a",
     "a dynamic default is evaluated once, when the form starts"),
    ("dynamic default in a repeat",
     form({"key": "r", "type": "repeat", "label": {"zh": "r"},
           "items": [q("a", dynamic_default="today()")]}), "a", "not inside a repeat"),
    ("dynamic default reads nothing known", form(q("a", dynamic_default="${nope}")), "a",
     "dynamic_default refers to unknown question ${nope}"),
    ("dynamic default on a photo", form(q("a", "photo", dynamic_default="1")), "a",
     "unknown properties"),
    ("photo counts", form(q("a", "photo", min_count=3, max_count=2)), "a",
     "max_count (2) must be ≥ 1 and ≥ min_count (3)"),
    ("negative count", form(q("a", "photo", min_count=-1)), "a", "min_count must be"),
    ("empty group", form({"key": "g", "type": "group", "label": {"zh": "g"}, "items": []}),
     "g", "a group needs a non-empty items list"),
    ("calculate without calculation", form(q("a", "calculate")), "a", "needs a calculation"),
    ("relevance cycle", form(q("a", relevant="${b} = 1"), q("b", relevant="${a} = 1")), "a",
     "depends on itself: a → b → a"),
    ("calculation on itself", form(q("a", "calculate", calculation="${a} + 1")), "a",
     "depends on itself: a → a"),
    ("unknown choice attribute",
     form(q("a", "select_one", choices=[{"value": "x", "label": {"zh": "x"}, "area": "n"}],
            choice_filter="region = 'n'")), "a", "choice_filter uses ['region']"),
    ("no items", form(), None, "items must be a non-empty list"),
    ("bad code", {**form(q("a")), "code": "Bad Code"}, None, "code must be lower_snake_case"),
    ("bad version", {**form(q("a")), "version": "2"}, None, "version must be a whole number"),
    ("unknown top level", {**form(q("a")), "itmes": []}, None, "unknown top-level"),
    ("hazard level without days",
     {**form(q("a")), "hazard_levels": {"general": {"zh": "一般"}}}, None,
     "hazard level 'general' needs deadline_days"),
]


@pytest.mark.parametrize(("case", "data", "question", "problem"), BAD, ids=[b[0] for b in BAD])
def test_malformed_definitions_name_question_and_problem(case: str, data: dict[str, Any],
                                                         question: str | None,
                                                         problem: str) -> None:
    with pytest.raises(FormDefinitionError) as caught:
        load_definition(data)
    error = caught.value
    assert isinstance(error, InvalidInput) and error.code == "bad_form_definition"
    assert error.question == question
    assert problem in error.problem, error.problem
    assert error.params["form"] == f"{data['code']}.v{data['version']}"


def test_file_name_must_match_code_and_version(tmp_path: Path) -> None:
    path = tmp_path / "test_form.v2.json"
    path.write_text(json.dumps(form(q("a"))), encoding="utf-8")
    with pytest.raises(FormDefinitionError, match="file name should be test_form.v1.json"):
        load_file(path)
    broken = tmp_path / "broken.v1.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(FormDefinitionError, match="not valid JSON"):
        load_file(broken)

"""The engine: types, required, relevance, constraints, calculations, repeats, photos."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from fieldapp.forms import checklist, engine
from fieldapp.forms.form_files import bundled
from fieldapp.forms.loader import load_definition
from fieldapp.forms.paths import flatten, nest
from tests.forms.formkit import form, q

TODAY = date(2025, 3, 1)


def codes(found: list[engine.Problem]) -> list[tuple[str, str]]:
    return [(p.question_path, p.code) for p in found]


# -- every type: a good value, and wrong ones with their precise code ---------------------------

TYPES: list[tuple[str, dict[str, Any], Any, list[tuple[Any, str]]]] = [
    ("text", {}, "漏气", [(3, "expected_text"), (["a"], "expected_text")]),
    ("integer", {}, 3, [("3", "expected_integer"), (3.5, "expected_integer"),
                        (True, "expected_integer")]),
    ("decimal", {"unit": "m³"}, 2.5, [("2.5", "expected_number"), (False, "expected_number"),
                                      (float("inf"), "expected_number")]),
    ("select_one", {}, "b", [("z", "invalid_choice"), (["a"], "invalid_choice")]),
    ("select_multiple", {}, ["a", "c"], [("a", "expected_list"), (["a", "z"], "invalid_choice"),
                                         (["a", "a"], "duplicate_choice"),
                                         ([1], "expected_list")]),
    ("yes_no", {}, "no", [("maybe", "invalid_choice"), (True, "invalid_choice")]),
    ("pass_fail_na", {}, "na", [("ok", "invalid_choice")]),
    ("date", {}, "2025-02-28", [("2025-02-30", "expected_date"), ("28/02/2025", "expected_date"),
                                (20250228, "expected_date")]),
    ("time", {}, "14:30", [("25:00", "expected_time"), ("2pm", "expected_time")]),
    ("datetime", {}, "2025-02-28 14:30", [("2025-02-30 14:30", "expected_datetime"),
                                          ("2025-02-28", "expected_datetime"),
                                          ("28/02/2025 14:30", "expected_datetime"),
                                          ("2025-02-28 14:30 next", "expected_datetime")]),
    ("datetime", {}, "2025-02-28T14:30:05.250+08:00", [(1740724200, "expected_datetime")]),
    ("photo", {}, ["att-1"], [("att-1", "expected_attachments"), ([""], "expected_attachments")]),
    ("signature", {}, "sig-1", [("", "expected_signature"), (["sig"], "expected_signature")]),
    ("barcode", {}, "6901234567892", [(6901234567892, "expected_text")]),
    ("gps", {}, {"lat": 32.05, "lon": 118.78, "accuracy": 6.5},
     [([32.05, 118.78], "expected_gps"), ({"lat": 32.05}, "expected_gps"),
      ({"lat": 95, "lon": 118.78}, "gps_out_of_range"),
      ({"lat": 32.0, "lon": 118.0, "speed": 3}, "expected_gps")]),
    ("geotrace", {}, [{"lat": 32.05, "lon": 118.78}, {"lat": 32.06, "lon": 118.78, "accuracy": 4}],
     [({"lat": 32.05, "lon": 118.78}, "expected_points"), ("32.05 118.78", "expected_points"),
      ([{"lat": 32.05, "lon": 118.78}], "too_few_points"),
      ([{"lat": 32.05, "lon": 118.78}] * 3, "too_few_points"),  # one place, three times
      ([{"lat": 32.05, "lon": 118.78}, {"lat": 95, "lon": 1}], "gps_out_of_range"),
      ([{"lat": 32.05, "lon": 118.78}, [32.06, 118.78]], "expected_gps"),
      ([{"lat": 32 + i / 1e4, "lon": 118.78} for i in range(5001)], "too_many_points")]),
    ("geoshape", {}, [{"lat": 32.05, "lon": 118.78}, {"lat": 32.06, "lon": 118.78},
                      {"lat": 32.06, "lon": 118.79}],
     [([{"lat": 32.05, "lon": 118.78}, {"lat": 32.06, "lon": 118.78}], "too_few_points")]),
    ("meter_reading", {"unit": "m³"}, 1234.5, [("1234", "expected_number"),
                                              (-1, "negative_reading")]),
    ("hidden", {}, 1200.0, [({"a": 1}, "expected_scalar")]),
]


@pytest.mark.parametrize(("qtype", "props", "good", "bad"), TYPES, ids=[t[0] for t in TYPES])
def test_types(qtype: str, props: dict[str, Any], good: Any,
               bad: list[tuple[Any, str]]) -> None:
    d = load_definition(form(q("x", qtype, **props)))
    assert engine.check_answer(d, "x", good) is None
    assert engine.problems(d, {"x": good}) == []
    assert engine.check_answer(d, "x", None) is None  # clearing is fine while filling
    for value, code in bad:
        assert engine.check_answer(d, "x", value).code == code, value
        assert codes(engine.problems(d, {"x": value})) == [("x", code)], value


@pytest.mark.parametrize(("qtype", "props"), [
    ("note", {}), ("calculate", {"calculation": "1 + 1"}),
])
def test_read_only_questions_take_no_answer(qtype: str, props: dict[str, Any]) -> None:
    d = load_definition(form(q("x", qtype, **props)))
    assert engine.check_answer(d, "x", "typed").code == "read_only"
    assert codes(engine.problems(d, {"x": 2})) == [("x", "read_only")]
    assert engine.problems(d, {}) == []


def test_groups_take_no_answer() -> None:
    d = load_definition(form({"key": "g", "type": "group", "label": {"zh": "组"},
                              "items": [q("a")]}))
    assert engine.check_answer(d, "g", "x").code == "not_answerable"


# -- required, relevance, defaults ----------------------------------------------------------------

INSPECTION = form(
    q("outcome", "select_one", required=True, choices=[
        {"value": "inspected", "label": {"zh": "已入户", "en": "Inspected"}},
        {"value": "nobody_home", "label": {"zh": "到访不遇", "en": "Nobody home"}}]),
    q("door_photo", "photo", min_count=1, max_count=2, relevant="${outcome} = 'nobody_home'"),
    {"key": "inside", "type": "group", "label": {"zh": "户内"},
     "relevant": "${outcome} = 'inspected'", "items": [
         q("leak", "pass_fail_na", required=True, hazard_level_on_fail="critical",
           photo_required_on_fail=True, note_required_on_fail=True),
         q("alarm", "yes_no", required=True, default="yes"),
         q("alarm_brand", "text", required="${alarm} = 'yes'"),
     ]},
    q("signature", "signature", required="${outcome} = 'inspected'"),
)


@pytest.mark.parametrize(("answers", "attachments", "expected"), [
    ({}, {}, [("outcome", "required")]),
    ({"outcome": "nobody_home"}, {}, [("door_photo", "required")]),
    ({"outcome": "nobody_home"}, {"door_photo": ["p1"]}, []),
    ({"outcome": "nobody_home", "door_photo": ["p1", "p2"]}, {"door_photo": ["p3"]},
     [("door_photo", "too_many_photos")]),
    # inside answers are irrelevant for nobody home: not required, and their values ignored
    ({"outcome": "nobody_home", "leak": "bogus"}, {"door_photo": ["p1"]}, []),
    ({"outcome": "inspected"}, {},
     [("leak", "required"), ("alarm_brand", "required"), ("signature", "required")]),
    ({"outcome": "inspected", "leak": "pass", "alarm": "no"}, {"signature": ["s1"]}, []),
    ({"outcome": "inspected", "leak": "pass", "alarm": None, "signature": "s1"}, {},
     [("alarm", "required")]),  # an explicit None clears the default
    ({"outcome": "inspected", "leak": "fail", "alarm": "no", "signature": "s1"}, {},
     [("leak", "note_required"), ("leak", "photo_required")]),
    ({"outcome": "inspected", "leak": "fail", "alarm": "no", "signature": "s1"},
     {"leak": ["p9"]}, [("leak", "note_required")]),
])
def test_required_relevance_and_defaults(answers: dict[str, Any],
                                         attachments: dict[str, list[str]],
                                         expected: list[tuple[str, str]]) -> None:
    assert codes(engine.problems(INSPECTION, answers, attachments)) == expected


def test_notes_satisfy_note_required() -> None:
    answers = {"outcome": "inspected", "leak": "fail", "alarm": "no", "signature": "s1"}
    found = engine.problems(INSPECTION, answers, {"leak": ["p1"]}, notes={"leak": "接口漏气"})
    assert found == []
    blank = engine.problems(INSPECTION, answers, {"leak": ["p1"]}, notes={"leak": "  "})
    assert codes(blank) == [("leak", "note_required")]


def test_relevance_map_and_defaults_for_the_view() -> None:
    shown = engine.relevance(INSPECTION, {"outcome": "nobody_home"})
    assert shown["door_photo"] and not shown["inside"] and not shown["leak"]
    assert engine.with_defaults(INSPECTION, {"outcome": "inspected"}) == {
        "outcome": "inspected", "alarm": "yes"}
    assert engine.with_defaults(INSPECTION, {"alarm": None}) == {"alarm": None}


def test_problem_carries_a_message_key_and_params() -> None:
    found = engine.problems(INSPECTION, {"outcome": "nobody_home", "door_photo": ["a", "b", "c"]})
    assert found == [engine.Problem("door_photo", "too_many_photos",
                                    "form.problem.too_many_photos", {"max": 2, "count": 3})]


# -- constraints and calculations -----------------------------------------------------------------

METER = form(
    q("previous_reading", "hidden"),
    q("reading", "meter_reading", required=True, previous="${previous_reading}",
      constraint=". >= coalesce(${previous_reading}, 0)",
      constraint_message={"zh": "读数不能小于上次读数", "en": "Below the previous reading"}),
    q("used", "calculate", calculation="${reading} - ${previous_reading}"),
    q("dial_photo", "photo", required=True, relevant="${used} > 100"),
)


@pytest.mark.parametrize(("answers", "attachments", "expected"), [
    ({"previous_reading": 1200, "reading": 1250}, {}, []),
    ({"previous_reading": 1200, "reading": 1199}, {}, [("reading", "constraint")]),
    ({"previous_reading": 1200, "reading": 1400}, {}, [("dial_photo", "required")]),
    ({"previous_reading": 1200, "reading": 1400}, {"dial_photo": ["p"]}, []),
    ({"reading": 5}, {}, []),  # a new meter has no previous reading
    ({"previous_reading": 1200, "reading": 1250, "used": 50}, {}, [("used", "read_only")]),
])
def test_constraints_and_calculations(answers: dict[str, Any], attachments: dict[str, Any],
                                      expected: list[tuple[str, str]]) -> None:
    assert codes(engine.problems(METER, answers, attachments)) == expected


def test_constraint_problem_carries_its_message() -> None:
    [problem] = engine.problems(METER, {"previous_reading": 1200, "reading": 1000})
    assert problem.params["message"]["zh"] == "读数不能小于上次读数"
    assert problem.params["expression"] == ". >= coalesce(${previous_reading}, 0)"


def test_calculations_and_previous_value_for_the_view() -> None:
    answers = {"previous_reading": 1200, "reading": 1250.5}
    assert engine.calculations(METER, answers) == {"used": 50.5}
    assert engine.previous_value(METER, "reading", answers) == 1200
    assert engine.previous_value(METER, "reading", {}) is None


def test_check_answer_reads_the_other_answers_only_when_given() -> None:
    # Without the rest of the submission a cross-question constraint cannot be judged.
    assert engine.check_answer(METER, "reading", 1000) is None
    problem = engine.check_answer(METER, "reading", 1000, {"previous_reading": 1200})
    assert problem.code == "constraint"
    assert engine.check_answer(METER, "reading", 1300, {"previous_reading": 1200}) is None
    own = load_definition(form(q("n", "integer", constraint=". <= 5")))
    assert engine.check_answer(own, "n", 6).code == "constraint"  # self-contained: always


def test_today_in_constraints() -> None:
    message = {"zh": "不能晚于今天", "en": "Not in the future"}
    d = load_definition(form(q("visit", "date", constraint=". <= today()",
                               constraint_message=message)))
    assert engine.check_answer(d, "visit", "2025-03-01", today=TODAY) is None
    assert engine.check_answer(d, "visit", "2025-03-02", today=TODAY).code == "constraint"


def test_today_is_the_utilitys_day_not_the_machines(monkeypatch: pytest.MonkeyPatch) -> None:
    """At 01:30 in the utility's zone a server or runner on UTC is still on the day before;
    a reading taken that night must not be "later than today"."""
    from datetime import UTC, datetime

    from fieldapp.forms import state

    class Clock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Clock:  # type: ignore[override]
            moment = datetime(2026, 12, 3, 17, 30, tzinfo=UTC)  # 01:30 on the 4th in Shanghai
            return moment.astimezone(tz) if tz else moment.replace(tzinfo=None)  # type: ignore[return-value]

    monkeypatch.setattr(state, "datetime", Clock)
    d = load_definition(form(q("visit", "date", constraint=". <= today()")))
    assert engine.FormState(d, {}).today == "2026-12-04"
    assert engine.check_answer(d, "visit", "2026-12-04") is None
    assert engine.check_answer(d, "visit", "2026-12-05").code == "constraint"


def test_choice_filter() -> None:
    d = load_definition(form(
        q("district", "select_one", choices=[{"value": "gulou", "label": {"zh": "鼓楼"}},
                                             {"value": "jianye", "label": {"zh": "建邺"}}]),
        q("station", "select_one", choice_filter="district = ${district}", choices=[
            {"value": "s1", "label": {"zh": "站1"}, "district": "gulou"},
            {"value": "s2", "label": {"zh": "站2"}, "district": "jianye"}]),
    ))
    assert engine.problems(d, {"district": "gulou", "station": "s1"}) == []
    assert codes(engine.problems(d, {"district": "gulou", "station": "s2"})) == [
        ("station", "choice_not_offered")]
    state = engine.FormState(d, {"district": "jianye"})
    assert [c.value for c in state.choices(d.by_key["station"], ())] == ["s2"]


# -- repeats --------------------------------------------------------------------------------------

REPAIR = form(
    {"key": "parts", "type": "repeat", "label": {"zh": "用料"}, "min_repeat": 1, "max_repeat": 3,
     "items": [
         q("part", "select_one", required=True),
         q("quantity", "integer", required=True, constraint=". >= 1 and . <= 20",
           constraint_message={"zh": "数量 1–20", "en": "Quantity 1–20"}),
         q("reason", "text", required=True, relevant="${quantity} > 5"),
         {"key": "serials", "type": "repeat", "label": {"zh": "序列号"},
          "relevant": "${part} = 'a'", "items": [q("serial", "barcode", required=True)]},
     ]},
    q("total", "calculate", calculation="sum(${quantity})"),
    q("parts_count", "calculate", calculation="count(${parts})"),
    q("serial_count", "calculate", calculation="count(${serial})"),
    q("big_order_ok", "yes_no", required=True, relevant="${total} > 10"),
)


@pytest.mark.parametrize(("answers", "expected"), [
    ({"parts": [{"part": "b", "quantity": 2}]}, []),
    ({}, [("parts", "required")]),
    ({"parts": []}, [("parts", "required")]),
    ({"parts": [{"part": "b", "quantity": 1}] * 4}, [("parts", "too_many_repeats")]),
    ({"parts": [{"part": "b", "quantity": 0}, {"quantity": 2}]},
     [("parts[0].quantity", "constraint"), ("parts[1].part", "required")]),
    ({"parts": [{"part": "b", "quantity": 6}]}, [("parts[0].reason", "required")]),
    ({"parts": [{"part": "b", "quantity": 6, "reason": "多处"},
                {"part": "c", "quantity": 5}]}, [("big_order_ok", "required")]),
    ({"parts": [{"part": "a", "quantity": 1, "serials": [{"serial": "SN1"}, {}]}]},
     [("parts[0].serials[1].serial", "required")]),
    ({"parts": [{"part": "b", "quantity": 1, "serials": [{"serial": 5}]}]}, []),  # irrelevant
    ({"parts": [{"part": "b", "quantity": 1, "colour": "red"}], "extra": 1},
     [("parts[0].colour", "unknown_question"), ("extra", "unknown_question")]),
    ({"parts": [{"part": "b", "quantity": 1}], "quantity": 3},
     [("quantity", "unknown_question")]),  # a repeat's question outside its repeat
    ({"parts": {"part": "b"}}, [("parts", "expected_repeat")]),
])
def test_repeats(answers: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert codes(engine.problems(REPAIR, answers)) == expected


def test_references_across_and_within_repeat_instances() -> None:
    answers = {"parts": [{"part": "a", "quantity": 2, "serials": [{"serial": "S1"},
                                                                  {"serial": "S2"}]},
                         {"part": "b", "quantity": 7, "reason": "整栋"}]}
    assert engine.calculations(REPAIR, answers) == {
        "total": 9, "parts_count": 2, "serial_count": 2}
    shown = engine.relevance(REPAIR, answers)
    assert shown["parts[1].reason"] and not shown["parts[0].reason"]
    assert shown["parts[0].serials"] and not shown["parts[1].serials"]


@pytest.mark.parametrize(("path", "value", "code"), [
    ("parts[0].quantity", 3, None),
    ("parts[0].quantity", 30, "constraint"),
    ("parts[0].quantity", "3", "expected_integer"),
    ("parts[2].serials[0].serial", "SN", None),
    ("quantity", 3, "unknown_question"),
    ("parts.quantity", 3, "unknown_question"),
    ("parts[0].serial", "SN", "unknown_question"),
    ("serials[0].serial", "SN", "unknown_question"),
])
def test_check_answer_by_path(path: str, value: Any, code: str | None) -> None:
    problem = engine.check_answer(REPAIR, path, value)
    assert (problem.code if problem else None) == code


def test_paths_flatten_and_nest() -> None:
    nested = {"a": 1, "parts": [{"part": "a", "serials": [{"serial": "S"}]}, {"part": "b"}]}
    flat = flatten(nested)
    assert flat == {"a": 1, "parts[0].part": "a", "parts[0].serials[0].serial": "S",
                    "parts[1].part": "b"}
    assert nest(flat) == nested
    assert nest({"parts[1].part": "b"}) == {"parts": [{}, {"part": "b"}]}


# -- the checklist API over the engine ---------------------------------------------------------


def test_checklist_api_keeps_its_codes_for_v1() -> None:
    v1 = bundled()[("household_inspection", 1)].raw
    keys = list(checklist.items(v1))
    assert checklist.check_answer(v1, keys[0], "fail") is None
    assert checklist.check_answer(v1, keys[0], "broken") == "invalid_choice"
    assert checklist.check_answer(v1, "no_such_item", "pass") == "unknown_question"
    answers = {k: "pass" for k in keys[1:]} | {keys[1]: "fail", "ghost": "pass"}
    found = {(p.question_path, p.code) for p in checklist.problems(v1, answers)}
    assert found == {("ghost", "unknown_question"), (keys[0], "required"),
                     (keys[1], "note_required")}
    assert checklist.problems(v1, answers | {keys[0]: "na"}, {keys[1]: "表具破损"}) == [
        engine.Problem("ghost", "unknown_question")]
    assert checklist.hazards(v1, {keys[1]: "fail"}) == [{"question": keys[1], "level": "serious"}]
    assert checklist.is_flat_checklist(v1)
    assert not checklist.is_flat_checklist(bundled()[("household_inspection", 2)].raw)

"""Hazard rules: failed items with a level → hazards → notice deadlines and check jobs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from fieldapp.forms.form_files import bundled
from fieldapp.forms.hazards import Hazard, hazards_for, rectification_plan
from fieldapp.forms.loader import load_definition
from tests.forms.formkit import HAZARD_LEVELS, form, q

CST = timezone(timedelta(hours=8))
INSPECTED_AT = datetime(2025, 3, 1, 10, 30, tzinfo=CST)
V1 = bundled()[("household_inspection", 1)]
V2 = bundled()[("household_inspection", 2)]


def levels(hazards: list[Hazard]) -> list[tuple[str, str, int]]:
    return [(h.question_path, h.level, h.deadline_days) for h in hazards]


@pytest.mark.parametrize(("answers", "expected"), [
    ({}, []),
    ({"leak_test_joints": "pass", "meter_seal": "na"}, []),
    ({"leak_test_joints": "fail"}, [("leak_test_joints", "critical", 1)]),
    ({"meter_seal": "fail", "hose_age": "fail", "bedroom_use": "fail", "ventilation": "pass"},
     [("meter_seal", "general", 30), ("hose_age", "serious", 7), ("bedroom_use", "critical", 1)]),
])
def test_failed_items_with_a_level_are_hazards(answers: dict[str, str],
                                               expected: list[tuple[str, str, int]]) -> None:
    assert levels(hazards_for(V1, answers)) == expected


def test_hazard_carries_labels_and_the_note() -> None:
    [hazard] = hazards_for(V1.raw, {"hose_age": "fail"}, {"hose_age": " 橡胶管已用3年 "})
    assert hazard.label["zh"].startswith("软管未超期使用")
    assert hazard.level_label == {"zh": "较大隐患", "en": "Serious"}
    assert hazard.note == "橡胶管已用3年"


def test_irrelevant_failures_are_not_hazards() -> None:
    base = {"visit_outcome": "inspected", "appliances": [{"appliance_kind": "stove"}],
            "stove_flameout": "fail", "water_heater_flue": "fail"}
    assert levels(hazards_for(V2, base)) == [("stove_flameout", "serious", 7)]
    nobody = {**base, "visit_outcome": "nobody_home"}
    assert hazards_for(V2, nobody) == []


def test_failures_inside_repeats_keep_their_path_and_carried_level() -> None:
    check = bundled()[("rectification_check", 1)]
    answers = {"visit_outcome": "checked", "hazards": [
        {"hazard_level": "serious", "rectified": "pass"},
        {"hazard_level": "critical", "rectified": "fail"},
        {"hazard_level": "general", "rectified": "fail"},
        {"hazard_level": "no-such-level", "rectified": "fail"},  # never dropped: most severe
    ]}
    assert levels(hazards_for(check, answers)) == [
        ("hazards[1].rectified", "critical", 1), ("hazards[2].rectified", "general", 30),
        ("hazards[3].rectified", "critical", 1)]


def test_deadlines_come_from_the_definition() -> None:
    strict = {**HAZARD_LEVELS, "general": {**HAZARD_LEVELS["general"], "deadline_days": 15}}
    d = load_definition(form(q("a", "pass_fail_na", hazard_level_on_fail="general"),
                             hazard_levels=strict))
    assert levels(hazards_for(d, {"a": "fail"})) == [("a", "general", 15)]


def test_rectification_plan() -> None:
    found = hazards_for(V1, {"meter_seal": "fail", "hose_age": "fail", "hose_clamps": "fail",
                             "bedroom_use": "fail"})
    plan = rectification_plan(found, INSPECTED_AT)
    assert plan.needed
    assert plan.deadline == datetime(2025, 3, 2, 10, 30, tzinfo=CST)
    assert [(i.hazard.question_path, i.due_at.date().isoformat()) for i in plan.items] == [
        ("bedroom_use", "2025-03-02"), ("hose_age", "2025-03-08"), ("hose_clamps", "2025-03-08"),
        ("meter_seal", "2025-03-31")]
    checks: list[tuple[str, str, list[str]]] = [
        (c.due_at.date().isoformat(), c.level, [h.question_path for h in c.hazards])
        for c in plan.checks]
    assert checks == [("2025-03-02", "critical", ["bedroom_use"]),
                      ("2025-03-08", "serious", ["hose_age", "hose_clamps"]),
                      ("2025-03-31", "general", ["meter_seal"])]


@pytest.mark.parametrize("inspected_at", [INSPECTED_AT, "2025-03-01T10:30:00+08:00"])
def test_plan_accepts_a_time_with_its_zone(inspected_at: Any) -> None:
    plan = rectification_plan(hazards_for(V1, {"hose_age": "fail"}), inspected_at)
    assert plan.deadline == INSPECTED_AT + timedelta(days=7)


def test_no_hazard_no_notice_and_naive_times_are_refused() -> None:
    plan = rectification_plan([], INSPECTED_AT)
    assert not plan.needed and plan.deadline is None and plan.checks == ()
    with pytest.raises(ValueError, match="time zone"):
        rectification_plan([], datetime(2025, 3, 1, 10, 30))

"""The standard forms, filled in as a technician would: valid, and typically wrong."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from fieldapp.forms import engine
from fieldapp.forms.definition import FormDefinition
from fieldapp.forms.form_files import bundled

TODAY = date(2025, 3, 1)


def form(code: str, version: int = 1) -> FormDefinition:
    return bundled()[(code, version)]


def check(definition: FormDefinition, answers: dict[str, Any],
          attachments: dict[str, list[str]], notes: dict[str, str] | None = None
          ) -> list[tuple[str, str]]:
    found = engine.problems(definition, answers, attachments, notes=notes, today=TODAY)
    return [(p.question_path, p.code) for p in found]


def changed(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """``base`` with ``changes``; a value of ``...`` removes the key."""
    result = {**base, **changes}
    return {k: v for k, v in result.items() if v is not ...}


# -- household inspection v2 ------------------------------------------------------------------

HOUSEHOLD = form("household_inspection", 2)
CHECKS = [q.key for q in HOUSEHOLD.by_key.values() if q.type == "pass_fail_na"]
INSPECTED = {
    "visit_outcome": "inspected", "visit_time": "09:40",
    "location": {"lat": 32.0415, "lon": 118.7842, "accuracy": 6.0},
    "meter_barcode": "6901234567892", "previous_reading": 1180.0, "meter_reading": 1235.5,
    "appliances": [{"appliance_kind": "stove", "appliance_brand": "方太", "appliance_year": 2018},
                   {"appliance_kind": "water_heater", "appliance_year": 2016}],
    **dict.fromkeys(CHECKS, "pass"),
    "customer_briefed": "yes", "signer_name": "王建国",
}
INSPECTED_FILES = {"meter_photo": ["att-meter"], "customer_signature": ["att-sig"]}
NO_HEATER = {**INSPECTED, "appliances": [{"appliance_kind": "stove"}]}
for key in ("water_heater_type", "water_heater_flue", "water_heater_location"):
    NO_HEATER.pop(key)


def test_household_v2_has_the_checklist_of_the_domain() -> None:
    assert 26 <= len(CHECKS) <= 30
    for key in CHECKS:
        q = HOUSEHOLD.by_key[key]
        assert q.hazard_level_on_fail in HOUSEHOLD.hazard_levels, key
        assert q.flag("photo_required_on_fail") and q.flag("note_required_on_fail"), key


@pytest.mark.parametrize(("case", "answers", "files", "expected"), [
    ("valid inspection", INSPECTED, INSPECTED_FILES, []),
    ("no water heater: its items are not asked", NO_HEATER, INSPECTED_FILES, []),
    ("nobody home with door photo and notice",
     {"visit_outcome": "nobody_home", "visit_time": "10:02", "notice_left": "yes"},
     {"door_photo": ["att-door"]}, []),
    ("nobody home without the door photo",
     {"visit_outcome": "nobody_home", "visit_time": "10:02"}, {},
     [("door_photo", "required"), ("notice_left", "required")]),
    ("refused without a reason", {"visit_outcome": "refused", "visit_time": "10:02"}, {},
     [("refusal_reason", "required")]),
    ("reading below the previous one", changed(INSPECTED, meter_reading=1100), INSPECTED_FILES,
     [("meter_reading", "constraint")]),
    ("reading as text", changed(INSPECTED, meter_reading="1235"), INSPECTED_FILES,
     [("meter_reading", "expected_number")]),
    ("failed item without photo or note", changed(INSPECTED, hose_age="fail"), INSPECTED_FILES,
     [("hose_age", "note_required"), ("hose_age", "photo_required")]),
    ("alarm missing: whether it works is not asked",
     changed(INSPECTED, alarm_present="fail", alarm_working=...),
     {**INSPECTED_FILES, "alarm_present": ["att-alarm"]}, [("alarm_present", "note_required")]),
    ("an appliance from the future",
     changed(INSPECTED, appliances=[{"appliance_kind": "stove", "appliance_year": 2030}]),
     INSPECTED_FILES, [("appliances[0].appliance_year", "constraint")]),
    ("no appliance listed", changed(INSPECTED, appliances=[]), INSPECTED_FILES,
     [("appliances", "required")]),
    ("unanswered item and no signature", changed(INSPECTED, leak_test_joints=...),
     {"meter_photo": ["att-meter"]},
     [("leak_test_joints", "required"), ("customer_signature", "required")]),
    ("no meter photo", INSPECTED, {"customer_signature": ["att-sig"]},
     [("meter_photo", "required")]),
])
def test_household_inspection_v2(case: str, answers: dict[str, Any],
                                 files: dict[str, list[str]],
                                 expected: list[tuple[str, str]]) -> None:
    assert check(HOUSEHOLD, answers, files) == expected


def test_household_v2_failed_item_with_evidence_is_complete() -> None:
    answers = changed(INSPECTED, hose_age="fail")
    files = {**INSPECTED_FILES, "hose_age": ["att-hose"]}
    assert check(HOUSEHOLD, answers, files, {"hose_age": "橡胶管已使用3年"}) == []
    assert engine.calculations(HOUSEHOLD, INSPECTED, today=TODAY)["gas_used"] == 55.5
    assert engine.previous_value(HOUSEHOLD, "meter_reading", INSPECTED) == 1180.0


# -- repair report ----------------------------------------------------------------------------

REPAIR = form("repair_report")
REPAIRED = {
    "arrived_at": "10:05", "fault_category": "leak",
    "fault_description": "厨房有燃气味，灶前软管接口漏气",
    "gas_concentration": 12.5, "cause": "hose_aged", "actions": ["replace_hose", "tighten"],
    "parts_used": "yes", "parts": [{"part": "P-HOSE-15", "quantity": 1},
                                   {"part": "P-CLAMP", "quantity": 2}],
    "leak_retest": "pass", "fixed": "yes", "finished_at": "11:20", "satisfaction": 5,
    "signer_name": "李秀英",
}
REPAIR_FILES = {"before_photos": ["att-b1"], "after_photos": ["att-a1", "att-a2"],
                "customer_signature": ["att-sig"]}


@pytest.mark.parametrize(("case", "answers", "files", "expected"), [
    ("valid repair", REPAIRED, REPAIR_FILES, []),
    ("no parts used", changed(REPAIRED, parts_used="no", parts=...), REPAIR_FILES, []),
    ("satisfaction out of range", changed(REPAIRED, satisfaction=6), REPAIR_FILES,
     [("satisfaction", "constraint")]),
    ("unhappy customer without a reason", changed(REPAIRED, satisfaction=2), REPAIR_FILES,
     [("satisfaction_comment", "required")]),
    ("finished before arriving", changed(REPAIRED, finished_at="09:00"), REPAIR_FILES,
     [("finished_at", "constraint")]),
    ("parts used but none listed", changed(REPAIRED, parts=[]), REPAIR_FILES,
     [("parts", "required")]),
    ("other part unnamed, zero quantity",
     changed(REPAIRED, parts=[{"part": "other", "quantity": 0}]), REPAIR_FILES,
     [("parts[0].part_other", "required"), ("parts[0].quantity", "constraint")]),
    ("unknown part", changed(REPAIRED, parts=[{"part": "P-NOPE", "quantity": 1}]), REPAIR_FILES,
     [("parts[0].part", "invalid_choice")]),
    ("meter replaced without the new meter",
     changed(REPAIRED, actions=["replace_meter"], fault_category="meter_fault",
             gas_concentration=..., leak_retest=...), REPAIR_FILES,
     [("new_meter_barcode", "required"), ("old_meter_final", "required")]),
    ("only referred but marked fixed", changed(REPAIRED, actions=["referred"]), REPAIR_FILES,
     [("actions", "constraint")]),
    ("not fixed without a plan", changed(REPAIRED, fixed="no"), REPAIR_FILES,
     [("follow_up", "required")]),
    ("leak still there", changed(REPAIRED, leak_retest="fail"), REPAIR_FILES,
     [("leak_retest", "note_required"), ("leak_retest", "photo_required")]),
    ("no photo before, too many after", REPAIRED,
     {**REPAIR_FILES, "before_photos": [], "after_photos": [f"a{i}" for i in range(6)]},
     [("before_photos", "required"), ("after_photos", "too_many_photos")]),
    ("other cause undescribed", changed(REPAIRED, cause="other"), REPAIR_FILES,
     [("cause_detail", "required")]),
    ("concentration above 100%", changed(REPAIRED, gas_concentration=140.0), REPAIR_FILES,
     [("gas_concentration", "constraint")]),
])
def test_repair_report(case: str, answers: dict[str, Any], files: dict[str, list[str]],
                       expected: list[tuple[str, str]]) -> None:
    assert check(REPAIR, answers, files) == expected


def test_repair_report_counts_parts_and_defaults_quantities() -> None:
    assert engine.calculations(REPAIR, REPAIRED)["parts_total"] == 3
    filled = engine.with_defaults(REPAIR, {"parts": [{"part": "P-SEAL"}]})
    assert filled["parts"] == [{"part": "P-SEAL", "quantity": 1}]


# -- meter reading ----------------------------------------------------------------------------

METER = form("meter_reading")
READ = {"previous_reading": 1200.0, "previous_read_on": "2025-01-30T09:12:00+08:00",
        "usual_daily_use": 1.5, "meter_barcode": "6901234567892", "read_on": "2025-03-01",
        "meter_accessible": "yes", "reading": 1245.0}


@pytest.mark.parametrize(("case", "answers", "files", "expected"), [
    ("valid reading", READ, {}, []),
    ("below the previous reading", changed(READ, reading=1100.0), {},
     [("reading", "constraint")]),
    ("below, but the meter was replaced", changed(READ, reading=30.0, meter_replaced="yes"), {},
     []),
    ("far above usual use: dial photo needed", changed(READ, reading=1700.0), {},
     [("dial_photo", "required")]),
    ("far above usual use, with the dial photo", changed(READ, reading=1700.0),
     {"dial_photo": ["att-dial"]}, []),
    ("zero use for a month is fine", changed(READ, reading=1200.0), {}, []),
    ("zero use for three months needs a reason",
     changed(READ, reading=1200.0, previous_read_on="2024-12-01"), {},
     [("zero_use_reason", "required")]),
    ("negative reading", changed(READ, reading=-5.0), {}, [("reading", "negative_reading")]),
    ("reading as text", changed(READ, reading="1245"), {}, [("reading", "expected_number")]),
    ("read in the future", changed(READ, read_on="2025-03-02"), {}, [("read_on", "constraint")]),
    # The interval is then one day at most, so 45 m³ also looks far above usual use.
    ("read before the last reading", changed(READ, read_on="2025-01-29"), {},
     [("read_on", "constraint"), ("dial_photo", "required")]),
    ("nobody home without the door photo",
     changed(READ, meter_accessible="no", reading=..., not_read_reason="nobody_home"), {},
     [("door_photo", "required")]),
    ("first reading of a new meter", changed(READ, previous_reading=..., previous_read_on=...,
                                             usual_daily_use=..., reading=3.0), {}, []),
    ("no barcode scanned", changed(READ, meter_barcode=...), {}, [("meter_barcode", "required")]),
])
def test_meter_reading(case: str, answers: dict[str, Any], files: dict[str, list[str]],
                       expected: list[tuple[str, str]]) -> None:
    assert check(METER, answers, files) == expected


def test_meter_reading_computes_use_and_interval() -> None:
    values = engine.calculations(METER, READ, today=TODAY)
    assert (values["used"], values["days"], values["expected_max"]) == (45.0, 30, 135.0)
    assert values["high_use"] is False


# -- rectification check ------------------------------------------------------------------------

RECTIFY = form("rectification_check")
CHECKED = {"notice_number": "ZG-2025-000123", "visit_outcome": "checked",
           "hazards": [{"hazard_item": "hose_age", "hazard_label": "软管超期使用",
                        "hazard_level": "serious", "rectified": "pass"},
                       {"hazard_item": "water_heater_flue", "hazard_label": "热水器烟道脱节",
                        "hazard_level": "critical", "rectified": "pass"}],
           "signer_name": "王建国"}
CHECK_FILES = {"hazards[0].rectified_photo": ["att-1"], "hazards[1].rectified_photo": ["att-2"],
               "customer_signature": ["att-sig"]}
STILL_CRITICAL = {**CHECKED, "hazards": [CHECKED["hazards"][0],
                                         {**CHECKED["hazards"][1], "rectified": "fail"}]}
FAIL_FILES = {**CHECK_FILES, "hazards[1].rectified": ["att-flue"]}
FAIL_NOTES = {"hazards[1].rectified": "烟道仍未接好"}


@pytest.mark.parametrize(("case", "answers", "files", "expected"), [
    ("all rectified", CHECKED, CHECK_FILES, []),
    ("nobody home without a door photo", {"notice_number": "ZG-1", "visit_outcome": "nobody_home"},
     {}, [("door_photo", "required")]),
    ("checked, no hazards listed", changed(CHECKED, hazards=[]), CHECK_FILES,
     [("hazards", "required")]),
    ("rectified without a photo", CHECKED, {"customer_signature": ["att-sig"]},
     [("hazards[0].rectified_photo", "required"), ("hazards[1].rectified_photo", "required")]),
    ("critical hazard open and no measure", STILL_CRITICAL, FAIL_FILES,
     [("measures", "required")]),
    ("critical hazard open, only a second notice",
     changed(STILL_CRITICAL, measures=["second_notice"]), FAIL_FILES,
     [("measures", "constraint")]),
    ("critical hazard open, gas shut off",
     changed(STILL_CRITICAL, measures=["second_notice", "gas_shut_off"]), FAIL_FILES, []),
    ("no notice number", changed(CHECKED, notice_number=...), CHECK_FILES,
     [("notice_number", "required")]),
])
def test_rectification_check(case: str, answers: dict[str, Any], files: dict[str, list[str]],
                             expected: list[tuple[str, str]]) -> None:
    assert check(RECTIFY, answers, files, FAIL_NOTES) == expected

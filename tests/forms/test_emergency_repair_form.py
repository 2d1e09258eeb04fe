"""The emergency repair record (repair_report v2): on a leak, the shut-off (which valve,
when, by whom, a photo), the measures taken and the restoration of supply with its
checklist; required on an emergency (priority 1), offered on any other leak."""

from __future__ import annotations

from typing import Any

import pytest

from fieldapp.forms import engine
from fieldapp.forms.hazards import hazards_for
from tests.forms.test_standard_forms import REPAIR_FILES, REPAIRED, changed, check, form

REPAIR2 = form("repair_report", 2)
EMERGENCY = {**REPAIRED, "job_priority": 1, "technician": "tech02"}
SHUT = {**EMERGENCY, "safety_measures": ["ventilate", "no_ignition", "evacuate"],
        "shut_off_done": "yes", "shut_off_valve": "meter_valve", "shut_off_at": "10:08",
        "shut_off_by": "王建国", "supply_restored": "yes", "tightness_test": "pass",
        "purge": "pass", "ignition_test": "pass", "customer_informed": "yes",
        "restored_at": "11:10"}
SHUT_FILES = {**REPAIR_FILES, "shut_off_photos": ["att-valve"]}


@pytest.mark.parametrize(("case", "answers", "files", "expected"), [
    ("an ordinary leak needs no shut-off record", {**REPAIRED, "job_priority": 3},
     REPAIR_FILES, []),
    ("an emergency leak without one", EMERGENCY, REPAIR_FILES,
     [("safety_measures", "required"), ("shut_off_done", "required")]),
    ("an emergency that is not a leak", changed(EMERGENCY, fault_category="no_gas",
                                                gas_concentration=..., leak_retest=...),
     REPAIR_FILES, []),
    ("shut off and restored, all recorded", SHUT, SHUT_FILES, []),
    ("shut off, nothing said of it",
     changed(SHUT, shut_off_valve=..., shut_off_at=..., shut_off_by=..., supply_restored=...,
             tightness_test=..., purge=..., ignition_test=..., customer_informed=...,
             restored_at=...), REPAIR_FILES,
     [("shut_off_valve", "required"), ("shut_off_at", "required"), ("shut_off_by", "required"),
      ("shut_off_photos", "required"), ("supply_restored", "required")]),
    ("another valve, not named", changed(SHUT, shut_off_valve="other"), SHUT_FILES,
     [("shut_off_valve_other", "required")]),
    ("shut off before arriving", changed(SHUT, shut_off_at="09:50"), SHUT_FILES,
     [("shut_off_at", "constraint")]),
    ("restored before it was shut off", changed(SHUT, restored_at="10:00"), SHUT_FILES,
     [("restored_at", "constraint")]),
    ("restored without telling the customer", changed(SHUT, customer_informed="no"),
     SHUT_FILES, [("customer_informed", "constraint")]),
    ("restored, the checklist not done",
     changed(SHUT, tightness_test=..., purge=..., ignition_test=...), SHUT_FILES,
     [("tightness_test", "required"), ("purge", "required"), ("ignition_test", "required")]),
    ("left shut off without a reason",
     changed(SHUT, supply_restored="no", tightness_test=..., purge=..., ignition_test=...,
             customer_informed=..., restored_at=...), SHUT_FILES,
     [("not_restored_reason", "required")]),
    ("the tightness test failed, no evidence", changed(SHUT, tightness_test="fail"),
     SHUT_FILES, [("tightness_test", "note_required"), ("tightness_test", "photo_required")]),
])
def test_the_emergency_record(case: str, answers: dict[str, Any],
                              files: dict[str, list[str]], expected: list[tuple[str, str]]
                              ) -> None:
    assert check(REPAIR2, answers, files) == expected


def test_a_failed_tightness_test_is_a_critical_hazard() -> None:
    answers = changed(SHUT, tightness_test="fail")
    assert [(h.question_path, h.level) for h in hazards_for(REPAIR2.raw, answers)] == [
        ("tightness_test", "critical")]
    assert hazards_for(REPAIR2.raw, SHUT) == []


def test_the_restoration_is_asked_only_after_a_shut_off() -> None:
    asked = engine.relevance(REPAIR2, changed(SHUT, shut_off_done="no"))
    assert not asked["shut_off_valve"] and not asked["supply_restored"]
    shown = engine.relevance(REPAIR2, SHUT)
    assert shown["shut_off_valve"] and shown["supply_restored"] and shown["restored_at"]

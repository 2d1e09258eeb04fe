"""Filling any form on the tablet: the job's form by kind, relevance as answers arrive,
repeat instances, prefilled hidden answers, and a submit that lists every problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldapp.errors import InvalidInput
from fieldapp.replica import Replica
from tests.replica.test_rectification import inspect
from tests.world import seed_replica


@pytest.fixture
def tech02(tmp_path: Path) -> Replica:
    replica = Replica.open(tmp_path / "tech02")
    seed_replica(replica, "tech02")
    return replica


def start_check(replica: Replica) -> tuple[str, str]:
    """An inspection with two hazards submitted, and its rectification check in service:
    (the check job, its submission)."""
    replica.submissions.submit(inspect(replica, {"hose_age": "橡胶软管已龟裂",
                                                 "hose_clamps": "缺卡箍"}))
    [check] = list(replica.db.query("SELECT id FROM jobs WHERE kind = 'rectification_check'"))
    replica.jobs.transition(check["id"], "accepted")
    replica.jobs.transition(check["id"], "in_service")
    return check["id"], replica.forms.start(check["id"])


def paths(replica: Replica, sub_id: str, **extra: int) -> list[str]:
    return [f.path for f in replica.forms.screen(sub_id, extra).fields]


def test_a_repair_report_follows_its_answers(tech02: Replica):
    with pytest.raises(InvalidInput) as early:
        tech02.forms.start("job-3")
    assert early.value.code == "job_not_in_service"
    tech02.jobs.transition("job-3", "accepted")
    tech02.jobs.transition("job-3", "in_service")
    sub_id = tech02.forms.start("job-3")
    assert tech02.forms.start("job-3") == sub_id  # one submission per job
    screen = tech02.forms.screen(sub_id)
    assert screen.title == "维修工单报告" and screen.state == "draft"
    assert "gas_concentration" not in paths(tech02, sub_id)

    tech02.forms.answer(sub_id, "fault_category", "leak")
    assert "gas_concentration" in paths(tech02, sub_id)  # relevant now
    concentration = next(f for f in tech02.forms.screen(sub_id).fields
                         if f.key == "gas_concentration")
    assert (concentration.unit, concentration.required) == ("%LEL", True)

    tech02.forms.answer(sub_id, "parts_used", "yes")
    [parts] = [f for f in tech02.forms.screen(sub_id).fields if f.key == "parts"]
    assert (parts.type, parts.count, parts.can_add) == ("repeat", 0, True)
    assert "parts[0].part" in paths(tech02, sub_id, parts=1)  # an empty instance to fill
    tech02.forms.answer(sub_id, "parts[0].part", "other")
    with pytest.raises(InvalidInput) as too_many:
        tech02.forms.answer(sub_id, "parts[0].quantity", 25)
    assert too_many.value.code == "constraint"  # checked as it is entered, not saved
    fields = {f.path: f for f in tech02.forms.screen(sub_id).fields}
    assert "parts[0].part_other" in fields
    assert fields["parts[0].quantity"].value is None
    assert fields["parts"].count == 1

    with pytest.raises(InvalidInput) as refused:
        tech02.forms.submit(sub_id)
    problems = dict(refused.value.params["problems"])
    assert problems["parts[0].part_other"] == "required"
    assert problems["arrived_at"] == "required"
    assert problems["customer_signature"] == "required"


def test_a_rectification_check_lists_the_hazards_it_was_scheduled_for(
        fresh_replica: Replica):
    check_sub = start_check(fresh_replica)[1]

    answers = {p: a["value"] for p, a in fresh_replica.submissions.answers(check_sub).items()}
    assert answers["notice_number"].startswith("TZ")
    assert [answers[f"hazards[{i}].hazard_item"] for i in (0, 1)] == ["hose_age",
                                                                      "hose_clamps"]
    assert answers["hazards[0].hazard_level"] == "serious"
    fresh_replica.forms.answer(check_sub, "visit_outcome", "checked")
    fields = {f.path: f for f in fresh_replica.forms.screen(check_sub).fields}
    assert fields["hazards"].count == 2
    assert "hazards[1].rectified" in fields


def test_a_submitted_check_closes_the_rectified_hazards(fresh_replica: Replica,
                                                        tmp_path: Path):
    from PIL import Image

    from tests.world import STROKES

    job, check_sub = start_check(fresh_replica)
    for path, value in [("visit_outcome", "checked"), ("hazards[0].rectified", "pass"),
                        ("signer_name", "陈桂芳"), ("measures", ["second_notice"])]:
        fresh_replica.forms.answer(check_sub, path, value)
    fresh_replica.forms.answer(check_sub, "hazards[1].rectified", "fail", "仍未加装卡箍")
    photo = tmp_path / "fixed.jpg"
    Image.new("RGB", (640, 480), (90, 120, 30)).save(photo)
    fresh_replica.evidence.add_photo(job, photo, "hazards[0].rectified_photo")
    fresh_replica.evidence.add_photo(job, photo, "hazards[1].rectified")
    fresh_replica.evidence.add_signature(job, STROKES, "陈桂芳")
    with pytest.raises(InvalidInput) as early:
        fresh_replica.jobs.transition(job, "completed")
    assert early.value.params["missing"] == ["form"]

    fresh_replica.forms.submit(check_sub)
    status = {h["question"]: h["status"] for h in fresh_replica.submissions.hazards("job-1")}
    assert status == {"hose_age": "rectified", "hose_clamps": "unrectified"}
    # what is still not rectified gets its own notice and check, as the form's rule says
    [again] = fresh_replica.submissions.hazards(job)
    assert (again["question"], again["label"], again["level"], again["note"]) == (
        "hazards[1].rectified", "软管两端卡箍紧固", "serious", "仍未加装卡箍")
    # and the check's documents name it so too, not by the check's own question
    from fieldapp.reports.report_data import from_replica

    report = from_replica(fresh_replica, check_sub)
    [line] = report.hazards
    assert (line.label, line.note) == ("软管两端卡箍紧固", "仍未加装卡箍")
    sections = {a.section for a in report.answers if a.path.startswith("hazards[1].")}
    assert sections == {"整改通知书所列隐患 第2项：软管两端卡箍紧固"}
    fresh_replica.jobs.transition(job, "completed")
    assert fresh_replica.get("jobs", job)["status"] == "completed"


def repair_with_parts(replica: Replica, parts: list[tuple[str, int]]) -> str:
    replica.jobs.transition("job-3", "accepted")
    replica.jobs.transition("job-3", "in_service")
    sub_id = replica.forms.start("job-3")
    replica.forms.answer(sub_id, "parts_used", "yes")
    for i, (part, quantity) in enumerate(parts):
        replica.forms.answer(sub_id, f"parts[{i}].part", part)
        replica.forms.answer(sub_id, f"parts[{i}].quantity", quantity)
    return sub_id


def saved(replica: Replica, sub_id: str) -> dict[str, object]:
    return {p: a["value"] for p, a in replica.submissions.answers(sub_id).items()
            if a["value"] is not None}


def test_a_repeat_instance_is_taken_out_and_the_later_ones_move_up(tech02: Replica):
    sub_id = repair_with_parts(tech02, [("P-HOSE-15", 1), ("P-CLAMP", 2), ("P-VALVE-15", 1)])
    heads = [f for f in tech02.forms.screen(sub_id).fields if f.type == "instance"]
    assert [(h.path, h.label, h.can_remove) for h in heads] == [
        ("parts[0]", "领用配件 1", True), ("parts[1]", "领用配件 2", True),
        ("parts[2]", "领用配件 3", True)]

    changes = tech02.forms.remove_instance(sub_id, "parts[1]")

    assert changes.touches("answers")
    answers = saved(tech02, sub_id)
    assert [answers[f"parts[{i}].part"] for i in (0, 1)] == ["P-HOSE-15", "P-VALVE-15"]
    assert answers["parts[1].quantity"] == 1
    assert "parts[2].part" not in answers  # emptied: the row stays, as evidence does
    assert tech02.submissions.answers(sub_id)["parts[2].part"]["value"] is None
    [parts] = [f for f in tech02.forms.screen(sub_id).fields if f.key == "parts"
               and f.type == "repeat"]
    assert parts.count == 2
    assert "parts[2].part" not in paths(tech02, sub_id)
    # an instance added on screen but never answered: nothing to change
    assert not tech02.forms.remove_instance(sub_id, "parts[2]")


def test_an_instance_with_photos_or_from_the_job_is_not_taken_out(tech02: Replica,
                                                                   tmp_path: Path):
    from PIL import Image

    sub_id = repair_with_parts(tech02, [("P-HOSE-15", 1), ("P-CLAMP", 2)])
    photo = tmp_path / "clamp.jpg"
    Image.new("RGB", (320, 240), (90, 90, 90)).save(photo)
    tech02.evidence.add_photo("job-3", photo, "parts[1].part")
    with pytest.raises(InvalidInput) as refused:
        tech02.forms.remove_instance(sub_id, "parts[0]")
    assert refused.value.code == "instance_has_photos"
    assert refused.value.params["questions"] == ["parts[1].part"]
    assert saved(tech02, sub_id)["parts[1].part"] == "P-CLAMP"  # nothing moved
    for bad in ("parts", "fault_category[0]", "parts[x]"):
        with pytest.raises(InvalidInput) as wrong:
            tech02.forms.remove_instance(sub_id, bad)
        assert wrong.value.code == "not_an_instance", bad


def test_the_hazards_a_check_was_scheduled_for_stay(fresh_replica: Replica):
    check_sub = start_check(fresh_replica)[1]
    fresh_replica.forms.answer(check_sub, "visit_outcome", "checked")
    heads = [f for f in fresh_replica.forms.screen(check_sub).fields if f.type == "instance"]
    assert len(heads) == 2 and not any(h.can_remove for h in heads)
    with pytest.raises(InvalidInput) as refused:
        fresh_replica.forms.remove_instance(check_sub, "hazards[0]")
    assert refused.value.code == "instance_fixed"


def test_a_meter_read_on_a_form_is_a_reading_and_the_next_visits_previous(
        fresh_replica: Replica, tmp_path: Path):
    from fieldapp.records import TABLES
    from fieldapp.sync.apply import apply_changes
    from fieldapp.wire import RecordChange
    from tests.world import inspect_household, rows

    before = fresh_replica.get("meters", "meter-1")["last_reading"]
    inspect_household(fresh_replica, "job-1", tmp_path)
    [reading] = list(fresh_replica.db.query(
        "SELECT * FROM readings WHERE source LIKE 'tablet:%'"))
    assert (reading["meter_id"], reading["customer_id"], reading["value"]) == (
        "meter-1", "cust-1", before + 21.5)
    assert reading["source"] == "tablet:household_inspection"

    job = {**next(j for j in rows()["jobs"] if j["id"] == "job-1"), "id": "job-mr",
           "number": "CB2026112400", "kind": "meter_reading", "status": "dispatched"}
    columns = TABLES["jobs"].columns
    apply_changes(fresh_replica, [RecordChange(table="jobs", record_id="job-mr", version=1,
                                               row={c: job.get(c) for c in columns})])
    fresh_replica.jobs.transition("job-mr", "accepted")
    fresh_replica.jobs.transition("job-mr", "in_service")
    sub_id = fresh_replica.forms.start("job-mr")
    previous = fresh_replica.submissions.answers(sub_id)["previous_reading"]["value"]
    assert previous == before + 21.5  # the tablet's own reading, newer than the billing one


def test_a_repeat_with_a_count_offers_entries_up_to_it() -> None:
    """ODK's repeat_count on the tablet: the repeat says how many it needs, and offers
    another entry only while it has fewer."""
    from fieldapp.forms.loader import load_definition
    from fieldapp.forms.state import FormState
    from fieldapp.replica.filling import _field

    d = load_definition({"code": "burners", "version": 1, "title": {"zh": "灶"}, "items": [
        {"key": "n", "type": "integer", "label": {"zh": "灶眼数量"}},
        {"key": "burner", "type": "repeat", "repeat_count": "${n}", "max_repeat": 9,
         "label": {"zh": "灶眼"}, "items": [{"key": "ok", "type": "yes_no",
                                             "label": {"zh": "正常"}}]}]})
    repeat = d.by_key["burner"]

    def shown(answers: dict) -> tuple[int, int | None, bool]:
        f = _field(FormState(d, answers), repeat, (), "burner", None, {}, {}, "zh")
        return f.count, f.wanted, f.can_add

    assert shown({}) == (0, None, True)  # no count yet: up to max_repeat
    assert shown({"n": 2, "burner": [{"ok": "yes"}]}) == (1, 2, True)
    assert shown({"n": 2, "burner": [{"ok": "yes"}] * 2}) == (2, 2, False)
    assert shown({"n": 1, "burner": [{"ok": "yes"}] * 2}) == (2, 1, False)


def test_an_xlsform_s_metadata_is_filled_when_the_form_starts(fresh_replica: Replica) -> None:
    """ODK's start, today, deviceid and username, as Collect fills them when a form opens;
    a phone number the tablet does not have stays unanswered."""
    from fieldapp.forms.xlsform import import_xlsform
    from fieldapp.local_time import now_iso
    from fieldapp.replica.form_start import prefill
    from tests.forms.test_xlsform_import import xlsx

    definition = import_xlsform(xlsx([
        ["type", "name", "label::Chinese (zh)"], ["start", "began", None],
        ["today", "day", None], ["deviceid", "device", None], ["username", "who", None],
        ["phonenumber", "phone", None], ["text", "remark", "备注"]])).definition
    job = next(iter(fresh_replica.db.query("SELECT * FROM jobs ORDER BY id LIMIT 1")))
    before = now_iso()
    filled = prefill(fresh_replica, job, definition)
    session = fresh_replica.session
    assert session is not None
    assert set(filled) == {"began", "day", "device", "who"}
    assert before <= filled["began"] <= now_iso() and filled["day"] == filled["began"][:10]
    assert filled["device"] == fresh_replica.device_id and filled["who"] == session.username


def test_dynamic_defaults_are_evaluated_once_when_the_form_starts(
        fresh_replica: Replica) -> None:
    """ODK's dynamic defaults: today(), the technician's name, one default read by the next;
    a result that does not fit its question is no answer. The technician may change them."""
    from fieldapp.forms.xlsform import import_xlsform
    from fieldapp.local_time import now_iso
    from fieldapp.replica.form_start import dynamic_defaults, prefill
    from tests.forms.test_xlsform_import import xlsx

    result = import_xlsform(xlsx([
        ["type", "name", "label::Chinese (zh)", "default"],
        ["username", "who", None, None],
        ["date", "visit_day", "检查日期", "today()"],
        ["text", "inspector", "检查人", "concat('检查员 ', ${who})"],
        ["integer", "floors", "楼层", "2 * 3"],
        ["integer", "rooms", "房间", "${floors} div 4"],  # 1.5: not a whole number
        ["time", "at", "时间", "now()"],  # a date and time: not a time
        ["text", "later", "上次", "${last-saved#inspector}"]]))
    assert [(p.row, p.column) for p in result.problems] == [(8, "default")]
    d = result.definition
    assert [i.get("dynamic_default") for i in d["items"]][1:4] == [
        "today()", "concat('检查员 ', ${who})", "2 * 3"]
    job = next(iter(fresh_replica.db.query("SELECT * FROM jobs ORDER BY id LIMIT 1")))
    filled = prefill(fresh_replica, job, d)
    session = fresh_replica.session
    assert session is not None
    assert dynamic_defaults(d, filled) == {"visit_day": now_iso()[:10],
                                            "inspector": f"检查员 {session.username}",
                                            "floors": 6}


def test_an_emergency_leak_asks_for_the_shut_off_record(tech02: Replica):
    tech02.db.execute("UPDATE jobs SET priority = 1 WHERE id = 'job-3'")
    tech02.jobs.transition("job-3", "accepted")
    tech02.jobs.transition("job-3", "in_service")
    sub_id = tech02.forms.start("job-3")
    answers = {p: a["value"] for p, a in tech02.submissions.answers(sub_id).items()}
    assert answers["job_priority"] == 1
    name = tech02.require_session().display_name
    assert answers["shut_off_by"] == name  # who shut it off: the technician, unless changed
    tech02.forms.answer(sub_id, "fault_category", "leak")
    fields = {f.path: f for f in tech02.forms.screen(sub_id).fields}
    assert fields["shut_off_done"].required and fields["safety_measures"].required
    assert "shut_off_valve" not in fields  # asked once the gas is shut off
    tech02.forms.answer(sub_id, "shut_off_done", "yes")
    fields = {f.path: f for f in tech02.forms.screen(sub_id).fields}
    assert {"shut_off_valve", "shut_off_at", "shut_off_photos", "supply_restored"} <= set(
        fields)
    with pytest.raises(InvalidInput) as refused:
        tech02.forms.submit(sub_id)
    problems = dict(refused.value.params["problems"])
    assert problems["shut_off_valve"] == problems["supply_restored"] == "required"

"""The tablet's checklist keeps starting on a version its view can show, synced or bundled."""

from __future__ import annotations

import json

import pytest

from fieldapp.errors import NotFound
from fieldapp.forms.checklist import bundled_definitions
from fieldapp.records import TABLES
from fieldapp.replica import Replica
from fieldapp.sync.apply import apply_changes
from fieldapp.wire import RecordChange


def pull_forms(replica: Replica, *versions: int) -> None:
    """Store household inspection definitions as a pull from the server would."""
    columns = TABLES["form_definitions"].columns
    changes = []
    for version in versions:
        definition = bundled_definitions()[("household_inspection", version)]
        row = {"code": "household_inspection", "form_version": version,
               "title": definition["title"]["zh"],
               "definition": json.dumps(definition, ensure_ascii=False)}
        changes.append(RecordChange(table="form_definitions", version=version,
                                    record_id=f"form-household_inspection-v{version}",
                                    row={c: row.get(c) for c in columns}))
    apply_changes(replica, changes)


@pytest.mark.parametrize("synced", [(), (1,), (1, 2)])
def test_new_checklists_start_on_the_newest_flat_version(fresh_replica: Replica,
                                                         synced: tuple[int, ...]) -> None:
    pull_forms(fresh_replica, *synced)
    assert fresh_replica.inspections.definition()["version"] == 1
    assert fresh_replica.inspections.definition(version=2)["version"] == 2


def test_an_unknown_version_is_refused(fresh_replica: Replica) -> None:
    with pytest.raises(NotFound) as caught:
        fresh_replica.inspections.definition(version=9)
    assert caught.value.code == "unknown_form"
    assert caught.value.params == {"form": "household_inspection", "version": 9}


def test_the_checklist_flow_still_validates_through_the_engine(fresh_replica: Replica) -> None:
    pull_forms(fresh_replica, 1, 2)
    fresh_replica.jobs.transition("job-1", "accepted")
    fresh_replica.jobs.transition("job-1", "in_service")
    sub_id = fresh_replica.inspections.start("job-1")
    assert fresh_replica.get("submissions", sub_id)["form_version"] == 1
    fresh_replica.inspections.answer(sub_id, "hose_age", "fail")
    codes = {(p.question_path, p.code) for p in fresh_replica.inspections.problems(sub_id)}
    assert ("hose_age", "note_required") in codes and ("leak_test_joints", "required") in codes

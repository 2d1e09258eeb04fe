"""Form versions on the tablet: a new draft starts on the newest version (synced, else
bundled), a draft keeps the version it started on, and the flat v1 checklist still validates."""

from __future__ import annotations

import json

import pytest

from fieldapp.errors import NotFound
from fieldapp.forms.checklist import bundled_definitions
from fieldapp.records import TABLES
from fieldapp.replica import Replica
from fieldapp.sync.apply import apply_changes
from fieldapp.wire import RecordChange
from tests.world import start_checklist


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


@pytest.mark.parametrize(("synced", "newest"), [((), 2), ((1,), 1), ((1, 2), 2)])
def test_the_newest_version_is_the_servers_else_the_bundled_one(
        fresh_replica: Replica, synced: tuple[int, ...], newest: int) -> None:
    pull_forms(fresh_replica, *synced)
    assert fresh_replica.submissions.definition()["version"] == newest
    assert fresh_replica.submissions.definition(version=2)["version"] == 2


def test_a_draft_keeps_its_version_when_a_newer_one_arrives(fresh_replica: Replica) -> None:
    pull_forms(fresh_replica, 1)
    for job_id in ("job-1", "job-2"):
        fresh_replica.jobs.transition(job_id, "accepted")
        fresh_replica.jobs.transition(job_id, "in_service")
    first = fresh_replica.forms.start("job-1")
    fresh_replica.forms.answer(first, "hose_age", "pass")
    pull_forms(fresh_replica, 1, 2)

    assert fresh_replica.forms.start("job-1") == first
    assert fresh_replica.get("submissions", first)["form_version"] == 1
    assert "hose_age" in {f.key for f in fresh_replica.forms.screen(first).fields}
    second = fresh_replica.forms.start("job-2")
    assert fresh_replica.get("submissions", second)["form_version"] == 2
    assert "visit_outcome" in {f.key for f in fresh_replica.forms.screen(second).fields}


def test_an_unknown_version_is_refused(fresh_replica: Replica) -> None:
    with pytest.raises(NotFound) as caught:
        fresh_replica.submissions.definition(version=9)
    assert caught.value.code == "unknown_form"
    assert caught.value.params == {"form": "household_inspection", "version": 9}


def test_the_checklist_flow_still_validates_through_the_engine(fresh_replica: Replica) -> None:
    pull_forms(fresh_replica, 1, 2)
    fresh_replica.jobs.transition("job-1", "accepted")
    fresh_replica.jobs.transition("job-1", "in_service")
    sub_id = start_checklist(fresh_replica, "job-1")
    assert fresh_replica.get("submissions", sub_id)["form_version"] == 1
    fresh_replica.submissions.answer(sub_id, "hose_age", "fail")
    codes = {(p.question_path, p.code) for p in fresh_replica.submissions.problems(sub_id)}
    assert ("hose_age", "note_required") in codes and ("leak_test_joints", "required") in codes

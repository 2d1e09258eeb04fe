"""The today list's filters: open or done, a kind, a priority; together they narrow."""

from __future__ import annotations

from fieldapp.replica.jobs import JobFilter

JOBS = [
    {"id": "a", "status": "dispatched", "kind": "repair", "priority": 1},
    {"id": "b", "status": "in_service", "kind": "inspection", "priority": 3},
    {"id": "c", "status": "completed", "kind": "inspection", "priority": 3},
    {"id": "d", "status": "cancelled", "kind": "meter_reading", "priority": 4},
]


def ids(f: JobFilter) -> list[str]:
    return [j["id"] for j in f.apply(JOBS)]


def test_no_filter_keeps_everything_in_order() -> None:
    assert ids(JobFilter()) == ["a", "b", "c", "d"]


def test_each_filter_and_their_combination() -> None:
    assert ids(JobFilter(status="open")) == ["a", "b"]
    assert ids(JobFilter(status="done")) == ["c", "d"]  # cancelled is no longer to do either
    assert ids(JobFilter(kind="inspection")) == ["b", "c"]
    assert ids(JobFilter(priority=1)) == ["a"]
    assert ids(JobFilter(status="open", kind="inspection", priority=3)) == ["b"]
    assert ids(JobFilter(kind="installation")) == []

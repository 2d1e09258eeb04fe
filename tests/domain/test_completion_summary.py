"""What a job carries before 完成, and what the completion would still refuse."""

from __future__ import annotations

from pathlib import Path

from fieldapp.replica import Replica
from tests.world import complete_inspection, seed_replica


def test_the_summary_counts_what_was_captured(fresh_replica: Replica, tmp_path: Path) -> None:
    replica = fresh_replica
    seed_replica(replica)
    before = replica.jobs.completion_summary("job-1")
    assert before["form_state"] is None and before["missing"] == ["form"]
    assert (before["photos"], before["signer"], before["notes"]) == (0, None, 0)

    replica.interactions.add("job-1", "note", "用户不在家，邻居代为开门")
    complete_inspection(replica, "job-1", tmp_path / "hose.jpg")  # completes it too
    after = replica.jobs.completion_summary("job-1")
    assert after["form_state"] == "submitted" and after["missing"] == []
    assert (after["photos"], after["signer"], after["notes"]) == (1, "陈桂芳", 1)
    assert after["hazards"] == 1 and after["answers"] > before["answers"]

"""A value the server refused or that lost a merge is kept for review, and the tablet comes
back to the server's value at once instead of showing its own until something else changes."""

from __future__ import annotations

from pathlib import Path

from fieldapp.sync.client import Progress
from tests.conftest import ServerProcess, synced_tablet
from tests.server.test_sync_api import mutation, office_push, version


def test_a_refusal_of_what_the_tablet_had_already_pulled_comes_back(
        server: ServerProcess, tmp_path: Path):
    """The office's cancellation reached the tablet while its acceptance was still waiting
    to be sent (tapped during a sync): when the acceptance is refused, nothing new would be
    pulled unless the server sends the job again."""
    replica, client = synced_tablet(server, tmp_path / "a")
    office_push(server, "dispatcher", [mutation("jobs", "job-2", {"status": "cancelled"},
                                               {"status": "dispatched"},
                                               base_version=version(server, "jobs", "job-2"))])

    def accept_before_the_pull(progress: Progress) -> None:  # pushing is over by then
        if progress.phase == "push" and replica.get("jobs", "job-2")["status"] == "dispatched":
            replica.jobs.transition("job-2", "accepted")

    client.sync(progress=accept_before_the_pull)
    assert replica.get("jobs", "job-2")["status"] == "accepted"  # pending, kept over the pull
    client.sync()
    assert replica.outbox.record_state("jobs", "job-2") == "rejected"  # still listed
    assert replica.get("jobs", "job-2")["status"] == "cancelled"  # the server's, at once
    assert server.scalar("SELECT preserved FROM conflicts WHERE record_id = 'job-2'") == \
        '"accepted"'


def test_a_refused_status_shows_the_servers(server: ServerProcess, tmp_path: Path):
    replica, client = synced_tablet(server, tmp_path / "a")
    replica.jobs.transition("job-2", "accepted")  # offline
    office_push(server, "dispatcher", [mutation("jobs", "job-2", {"status": "cancelled"},
                                               {"status": "dispatched"},
                                               base_version=version(server, "jobs", "job-2"))])
    client.sync()
    assert replica.get("jobs", "job-2")["status"] == "cancelled"
    [problem] = replica.outbox.problems()
    assert (problem["record_id"], problem["reason"]) == ("job-2", "illegal_transition")

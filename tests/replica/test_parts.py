"""领料 on the tablet: the catalogue is the repair report's parts list; a request is checked
and queued; a closed job takes no more."""

from __future__ import annotations

import pytest

from fieldapp.errors import InvalidInput
from fieldapp.replica import Replica
from tests.world import seed_replica


@pytest.fixture
def replica(fresh_replica: Replica) -> Replica:
    seed_replica(fresh_replica)
    return fresh_replica


def test_a_request_from_the_catalogue_is_queued(replica: Replica) -> None:
    catalogue = dict(replica.parts.catalogue())
    assert catalogue["P-CLAMP"] == "软管卡箍" and "other" not in catalogue
    replica.parts.request("job-1", "P-CLAMP", 2, "  卡箍锈蚀 ")
    [row] = replica.parts.for_job("job-1")
    assert (row["name"], row["quantity"], row["note"], row["state"], row["by_user"]) == (
        "软管卡箍", 2, "卡箍锈蚀", "requested", "tech01")
    assert replica.db.execute("SELECT count(*) FROM outbox WHERE tbl = 'part_requests'"
                              ).fetchone()[0] == 1


@pytest.mark.parametrize(("part", "quantity", "code"), [
    ("P-NOTHING", 1, "unknown_part"),
    ("P-CLAMP", 0, "bad_quantity"),
    ("P-CLAMP", 100, "bad_quantity"),
])
def test_bad_requests_are_refused(replica: Replica, part: str, quantity: int,
                                  code: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        replica.parts.request("job-1", part, quantity)
    assert raised.value.code == code and replica.parts.for_job("job-1") == []


def test_a_closed_job_takes_no_more_requests(replica: Replica) -> None:
    replica.db.execute("UPDATE jobs SET status = 'completed' WHERE id = 'job-1'")
    with pytest.raises(InvalidInput) as raised:
        replica.parts.request("job-1", "P-SEAL", 1)
    assert raised.value.code == "job_closed_for_parts"

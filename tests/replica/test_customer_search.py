"""Finding a customer on the tablet by any of what a technician may know about them."""

from __future__ import annotations

import pytest

from fieldapp.replica import Replica
from fieldapp.ui.demo_seed import seed


@pytest.fixture
def replica(fresh_replica: Replica) -> Replica:
    seed(fresh_replica, rich=True)
    return fresh_replica


def names(replica: Replica, text: str) -> list[str]:
    return [c["name"] for c in replica.customers.search(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("张秀英", ["张秀英"]),  # name
    ("320100012345", ["张秀英"]),  # account number
    ("139 0517 0123", []),  # words are ANDed, and "139" alone is no phone number
    ("13905170123", ["张秀英"]),  # phone
    ("025-84561234", ["老周记面馆"]),  # a landline written with its dash
    ("02584561234", ["老周记面馆"]),  # …or without
    ("中华路 502", ["张秀英"]),  # address words, in any order
    ("502 中华路", ["张秀英"]),
    ("GM3201000001", ["张秀英"]),  # the meter's barcode
    ("不存在的人", []),
    ("%", []),  # LIKE's wildcards are searched for, not obeyed
    ("_", []),
    ("   ", []),
])
def test_any_known_detail_finds_the_customer(replica: Replica, text: str,
                                             expected: list[str]) -> None:
    assert names(replica, text) == expected


def test_an_exact_name_comes_first_and_the_list_is_bounded(replica: Replica) -> None:
    everyone = replica.customers.search("GM")
    assert len(everyone) == len(set(c["id"] for c in everyone)) >= 4  # no duplicates
    assert len(replica.customers.search("GM", limit=2)) == 2
    replica.db.execute("UPDATE customers SET address = address || ' 张秀英旧居'"
                       " WHERE name = '李国强'")
    assert names(replica, "张秀英")[0] == "张秀英"

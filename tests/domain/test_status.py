from __future__ import annotations

import pytest

from fieldapp.domain.status import allowed_moves, check_transition, is_before
from fieldapp.errors import IllegalTransition


@pytest.mark.parametrize(("current", "target", "role"), [
    ("dispatched", "accepted", "technician"),
    ("accepted", "en_route", "technician"),
    ("accepted", "in_service", "technician"),
    ("en_route", "in_service", "technician"),
    ("in_service", "completed", "technician"),
    ("pending", "dispatched", "dispatcher"),
    ("in_service", "cancelled", "supervisor"),
    ("completed", "followed_up", "dispatcher"),
])
def test_legal_moves(current: str, target: str, role: str):
    assert check_transition(current, target, role) == target


@pytest.mark.parametrize(("current", "target", "role"), [
    ("completed", "accepted", "technician"),
    ("dispatched", "completed", "technician"),
    ("pending", "accepted", "technician"),
    ("in_service", "cancelled", "technician"),
    ("cancelled", "accepted", "technician"),
    ("completed", "cancelled", "dispatcher"),
    ("followed_up", "completed", "admin"),
])
def test_illegal_moves_name_both_ends(current: str, target: str, role: str):
    with pytest.raises(IllegalTransition) as err:
        check_transition(current, target, role)
    assert err.value.code == "illegal_transition"
    assert err.value.params == {"current": current, "target": target, "role": role}


def test_unknown_status_is_its_own_error():
    with pytest.raises(IllegalTransition) as err:
        check_transition("dispatched", "teleported")
    assert err.value.code == "unknown_status"


def test_terminal_statuses_allow_no_technician_move():
    assert allowed_moves("completed") == frozenset()
    assert allowed_moves("cancelled") == frozenset()
    assert is_before("accepted", "completed") and not is_before("completed", "accepted")

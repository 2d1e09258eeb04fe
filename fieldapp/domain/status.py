"""The job status machine of DOMAIN.md, shared by the tablet and the server.

    pending ─► dispatched ─► accepted ─► en_route ─► in_service ─► completed ─► followed_up
                                 └───────────────────────►┘
    any status before completed ─► cancelled (office only)

    挂起 (on hold): accepted, en_route or in_service ─► suspended ─► back to any of them
    退单 (handed back): dispatched … in_service, or suspended ─► returned ─► dispatched
                        again (the office reassigns it) or cancelled

Technicians move a job from dispatched to completed, put it on hold and hand it back, with
a reason (``fieldapp/domain/holds.py``); the office dispatches, reassigns, follows up and
cancels. An illegal change raises :class:`IllegalTransition` naming both ends.
"""

from __future__ import annotations

from enum import StrEnum

from fieldapp.domain.roles import ACTS_AS_OFFICE, TECHNICIAN
from fieldapp.errors import IllegalTransition


class Status(StrEnum):
    PENDING = "pending"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    EN_ROUTE = "en_route"
    IN_SERVICE = "in_service"
    COMPLETED = "completed"
    FOLLOWED_UP = "followed_up"
    CANCELLED = "cancelled"
    SUSPENDED = "suspended"
    RETURNED = "returned"


# How a status reads on the tablet's paper, the office's pages and the maps.
STATUS_ZH: dict[str, str] = {
    Status.PENDING: "待受理", Status.DISPATCHED: "已派单", Status.ACCEPTED: "已接单",
    Status.EN_ROUTE: "在途", Status.IN_SERVICE: "服务中", Status.COMPLETED: "已完成",
    Status.FOLLOWED_UP: "已回访", Status.CANCELLED: "已取消", Status.SUSPENDED: "已挂起",
    Status.RETURNED: "已退单"}

ORDER = [Status.PENDING, Status.DISPATCHED, Status.ACCEPTED, Status.EN_ROUTE,
         Status.IN_SERVICE, Status.COMPLETED, Status.FOLLOWED_UP]

# Off the main path: a job on hold or handed back waits for its technician or the office.
PAUSES = frozenset({Status.SUSPENDED, Status.RETURNED})
_WORKING = frozenset({Status.ACCEPTED, Status.EN_ROUTE, Status.IN_SERVICE})

TECHNICIAN_MOVES: dict[Status, frozenset[Status]] = {
    Status.DISPATCHED: frozenset({Status.ACCEPTED, Status.RETURNED}),
    Status.ACCEPTED: frozenset({Status.EN_ROUTE, Status.IN_SERVICE, Status.SUSPENDED,
                                Status.RETURNED}),
    Status.EN_ROUTE: frozenset({Status.IN_SERVICE, Status.SUSPENDED, Status.RETURNED}),
    Status.IN_SERVICE: frozenset({Status.COMPLETED, Status.SUSPENDED, Status.RETURNED}),
    Status.SUSPENDED: _WORKING | {Status.RETURNED},  # resumed where the work stands
}

OFFICE_MOVES: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.DISPATCHED, Status.CANCELLED}),
    Status.DISPATCHED: frozenset({Status.DISPATCHED, Status.CANCELLED}),
    Status.ACCEPTED: frozenset({Status.CANCELLED}),
    Status.EN_ROUTE: frozenset({Status.CANCELLED}),
    Status.IN_SERVICE: frozenset({Status.CANCELLED}),
    Status.COMPLETED: frozenset({Status.FOLLOWED_UP}),
    # Reassigned (or given back to the same technician), or dropped.
    Status.SUSPENDED: frozenset({Status.DISPATCHED, Status.CANCELLED}),
    Status.RETURNED: frozenset({Status.DISPATCHED, Status.CANCELLED}),
}



CLOSED = frozenset({Status.COMPLETED, Status.FOLLOWED_UP, Status.CANCELLED})


def is_closed(status: str) -> bool:
    """Completed, followed up or cancelled: its captured evidence no longer changes."""
    return status in CLOSED


def allowed_moves(current: str, role: str = TECHNICIAN) -> frozenset[Status]:
    moves = OFFICE_MOVES if role in ACTS_AS_OFFICE else TECHNICIAN_MOVES
    return moves.get(Status(current), frozenset())


def check_transition(current: str, target: str, role: str = TECHNICIAN) -> Status:
    """Return the target status if ``role`` may move a job from ``current`` to it."""
    try:
        frm, to = Status(current), Status(target)
    except ValueError as exc:
        raise IllegalTransition("unknown_status", str(exc), current=current, target=target) from exc
    if to not in allowed_moves(frm, role):
        raise IllegalTransition(
            "illegal_transition", f"a {role} cannot move a job from {frm} to {to}",
            current=str(frm), target=str(to), role=role)
    return to


def reachable(current: str, target: str, role: str = TECHNICIAN) -> bool:
    """Can ``role`` get from ``current`` to ``target`` in one or more legal moves?

    The server uses it to merge a transition forward when an earlier one from the same
    device has not arrived yet (reordered batches): dispatched → in_service is allowed
    as a merge because dispatched → accepted → in_service is. Only main-path steps are
    skipped over: through a hold any status is reachable again, and a stale "accepted"
    arriving for a job in service must stay refused, not merge "via" a suspension.
    """
    seen: set[Status] = set()
    frontier = {Status(current)}
    while frontier:
        step = {n for s in frontier for n in allowed_moves(s, role)} - seen
        if Status(target) in step:
            return True
        seen |= step
        frontier = step - PAUSES
    return False


def is_before(a: str, b: str) -> bool:
    """True if status ``a`` comes strictly before ``b`` on the main path."""
    try:
        return ORDER.index(Status(a)) < ORDER.index(Status(b))
    except ValueError:
        return False

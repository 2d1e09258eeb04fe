"""Who may write what: one declaration per synced table, for every role and both doors.

A write arrives through one of two doors:

    DEVICE  a tablet's push to the sync API (``/api/v1/sync/push``, a revoked tablet's
            hand-in): what a technician captures in the field
    OFFICE  an office service of the server (dispatch, billing, conflict review, parts,
            the rules engine, the portal), acting for a signed-in user or the system

Each grant names the ops, the fields (None: every field) and the scope it holds in:

    OWN       jobs assigned to the caller (and, for evidence, jobs assigned to them before)
    DISTRICT  the account's district when it has one (dispatchers, supervisors), else all
    ALL       every record

Office roles hold no grant at the device door: office work goes through office services,
which check the same declaration, so a bill is never marked paid without its payment,
nor the utility's name changed, by a raw record push. An auditor holds none anywhere.
What a role is not granted is refused ``forbidden`` and kept for review.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fieldapp.domain.roles import ADMIN, DISPATCHER, SUPERVISOR, SYSTEM, TECHNICIAN
from fieldapp.records import TABLES


class Door(StrEnum):
    DEVICE = "device"
    OFFICE = "office"


class Scope(StrEnum):
    OWN = "own"
    DISTRICT = "district"
    ALL = "all"


OPS = ("insert", "update", "delete")


@dataclass(frozen=True)
class Grant:
    door: Door
    ops: frozenset[str]
    fields: frozenset[str] | None  # None: every field of the table
    scope: Scope

    def covers(self, op: str, fields: set[str]) -> bool:
        """Whether the grant allows ``op``; its field list limits updates only."""
        return op in self.ops and (self.fields is None or op != "update"
                                   or fields <= self.fields)


def device(ops: str, fields: str = "", scope: Scope = Scope.OWN) -> Grant:
    """A technician's grant at the device door (``fields`` only limits updates)."""
    return Grant(Door.DEVICE, frozenset(ops.split()), frozenset(fields.split()) or None
                 if "update" in ops else None, scope)


def office(ops: str, fields: str | None = None, scope: Scope = Scope.DISTRICT) -> Grant:
    """A grant at the office door: what office services may do for this role."""
    return Grant(Door.OFFICE, frozenset(ops.split()),
                 frozenset(fields.split()) if fields else None, scope)


ALL_OPS = "insert update delete"
# The system (rules engine, billing, portal) and an admin change anything, anywhere, but
# only through office services; a jobs or customers row is cancelled or deactivated,
# never deleted.
_Grants = dict[str, tuple[Grant, ...]]
_EVERYTHING: _Grants = {ADMIN: (office(ALL_OPS, scope=Scope.ALL),),
                        SYSTEM: (office(ALL_OPS, scope=Scope.ALL),)}
_NO_DELETE: _Grants = {ADMIN: (office("insert update", scope=Scope.ALL),),
                       SYSTEM: (office("insert update", scope=Scope.ALL),)}
# A supervisor settles conflicts (conflict review) on any field of their district's
# records; so do admins, above.
_REVIEW: _Grants = {SUPERVISOR: (office("update"),)}
_DISPATCH = (office("insert update", "number kind priority customer_id district due_at assignee"
                    " required_skill status route_order summary created_at"),)
# Captured in the field: a technician inserts, and nobody changes what they captured
# except through conflict review.
_CAPTURED: _Grants = {TECHNICIAN: (device("insert"),), **_REVIEW, **_EVERYTHING}

POLICY: dict[str, _Grants] = {
    # The phone signs a customer into the portal: a tablet may ask to change it for its
    # own jobs' customers, but the change waits for the office (VERIFIED below).
    # The office's 客服中心 keeps a caller's contact details and tags up to date; a
    # technician at the door tags the customers of their own jobs too (独居老人, 商户…).
    "customers": {TECHNICIAN: (device("update", fields="phone tags"),),
                  DISPATCHER: (office("update", "phone address tags household_size"),),
                  **_REVIEW, **_NO_DELETE},
    "meters": {**_REVIEW, **_EVERYTHING},
    "readings": {TECHNICIAN: (device("insert delete"),), **_REVIEW, **_EVERYTHING},
    "contracts": {**_REVIEW, **_EVERYTHING},
    # Payments come from the office's 收费 (billing.pay), the portal or an import.
    "payments": {DISPATCHER: (office("insert"),), SUPERVISOR: (office("insert update"),),
                 **_EVERYTHING},
    # A tablet moves its own jobs' status, and creates the checks its inspections schedule
    # (kind rectification_check, dispatched to itself: merge checks the values).
    "jobs": {TECHNICIAN: (device("insert update", "status"),), DISPATCHER: _DISPATCH,
             SUPERVISOR: (office("insert update"),), **_NO_DELETE},
    "job_status_history": {TECHNICIAN: (device("insert"),), DISPATCHER: (office("insert"),),
                           SUPERVISOR: (office("insert update"),), **_EVERYTHING},
    "form_definitions": {**_EVERYTHING},
    "submissions": {TECHNICIAN: (device("insert update", "state submitted_at"),), **_REVIEW,
                    **_EVERYTHING},
    "answers": {TECHNICIAN: (device("insert update", "value note answered_at"),), **_REVIEW,
                **_EVERYTHING},
    "attachments": {TECHNICIAN: (device("insert delete"),), **_REVIEW, **_EVERYTHING},
    "signatures": _CAPTURED,
    "scans": _CAPTURED,
    # The office's 知识库 (sync_server/services/kb_authoring.py): a supervisor publishes and
    # withdraws articles as an admin does; every tablet reads them, none writes them. The
    # articles are the whole utility's, so a supervisor limited to a district may not.
    "kb_articles": {SUPERVISOR: (office(ALL_OPS),), **_EVERYTHING},
    # Bills are made by a billing run and paid with a payment (billing.py), both office
    # services a dispatcher may use for their district.
    "bills": {DISPATCHER: (office("insert update", "status paid_at"),),
              SUPERVISOR: (office("insert update"),), **_EVERYTHING},
    "org_settings": {**_EVERYTHING},
    "rectification_notices": _CAPTURED,
    "hazards": {TECHNICIAN: (device("insert update", "status"),), **_REVIEW, **_EVERYTHING},
    # Notes and calls are captured on the tablet; the office's 客服中心 logs the calls it takes.
    "interactions": {**_CAPTURED, DISPATCHER: (office("insert"),),
                     SUPERVISOR: (office("insert update"),)},
    # A tablet asks for parts (state requested, merge checks); the office decides.
    "part_requests": {TECHNICIAN: (device("insert"),),
                      DISPATCHER: (office("update", "state decided_at decided_by reply"),),
                      SUPERVISOR: (office("update"),), **_EVERYTHING},
}

# Fields a tablet may ask to change but that take effect only once the office verified
# the change (conflict review): the refused value is kept with reason needs_verification.
VERIFIED = frozenset({("customers", "phone")})

# Who made a record: set by the server from the caller's token, never from the fields.
AUTHORSHIP = frozenset({"by_user", "device_id"})


def grant_for(role: str, table: str, op: str, fields: set[str], door: Door) -> Grant | None:
    """The grant letting ``role`` do ``op`` on ``fields`` of ``table`` through ``door``."""
    for grant in POLICY.get(table, {}).get(role, ()):
        if grant.door is door and grant.covers(op, fields):
            return grant
    return None


def may(role: str, table: str, op: str, door: Door = Door.DEVICE) -> bool:
    """Whether ``role`` may do ``op`` on some fields of ``table`` through ``door``."""
    return any(g.door is door and op in g.ops for g in POLICY.get(table, {}).get(role, ()))


def _undeclared() -> set[str]:
    return set(TABLES) ^ set(POLICY)


assert not _undeclared(), f"tables without a write policy: {_undeclared()}"

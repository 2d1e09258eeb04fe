"""The district an office account is limited to, and the SQL that keeps its reads there.

A dispatcher or supervisor whose account names a district sees and changes only that
district's customers and their records, on every page and API (pull included); an admin,
an auditor, or an office account without a district sees all. The pages (office.py), the
pull (pull.py), the conflict review (review.py) and the device API all ask here, so the
rule is written once.
"""

from __future__ import annotations

from fieldapp.domain.roles import DISTRICT_SCOPED
from sync_server.services.auth import Principal


def district_of(who: Principal) -> str | None:
    """The one district a dispatcher's or supervisor's account is limited to; None: all."""
    return who.district if who.role in DISTRICT_SCOPED and who.district else None


def customers_in(column: str) -> str:
    """A condition: ``column`` names a customer of the district given as its parameter.
    A NULL customer is in no district (a record without one is for unscoped accounts)."""
    return f"{column} IN (SELECT id FROM customers WHERE district = ?)"

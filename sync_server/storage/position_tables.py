"""Server migration 29: each technician's last reported fix (``services/positions.py``).

One row per technician, overwritten by the next fix: where someone is now, not where they
have been (the product keeps no track of a person's movements). ``doubtful`` says why a fix
is not trusted for dispatch (a jump no vehicle makes), NULL when it is.
"""

from __future__ import annotations

POSITIONS_DDL = """
CREATE TABLE technician_positions (
  username TEXT PRIMARY KEY, device_id TEXT NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL,
  accuracy_m REAL, fix_at TEXT NOT NULL, received_at TEXT NOT NULL, source TEXT NOT NULL,
  doubtful TEXT);
"""

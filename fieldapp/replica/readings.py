"""A meter read on a submitted form becomes a reading of the customer's meter, synced like
any other record: the office bills from it and the rules watch it for abnormal use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fieldapp.forms.loader import as_definition
from fieldapp.forms.state import FormState

if TYPE_CHECKING:
    from fieldapp.replica import Replica

SOURCE = "tablet"


def record(replica: Replica, submission: Mapping[str, Any], definition: Mapping[str, Any],
           answers: Mapping[str, Any], submitted_at: str) -> list[str]:
    """Readings for the form's relevant, answered meter-reading questions (outside repeats);
    the meter is the one whose barcode the form scanned, else the customer's first. Call
    inside the submit's transaction; returns the new reading ids."""
    state = FormState(as_definition(definition), answers)
    meters = list(replica.db.query("SELECT id, barcode FROM meters WHERE customer_id = ?"
                                   " ORDER BY id", [submission["customer_id"]]))
    if not meters:
        return []
    scanned = {str(v) for q, idx in state.walk() if q.type == "barcode" and not q.repeats
               and (v := state.value(q, idx))}
    meter = next((m for m in meters if m["barcode"] in scanned), meters[0])
    ids = []
    for q, idx in state.walk():
        value = state.value(q, idx) if q.type == "meter_reading" and not q.repeats else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            ids.append(replica.insert("readings", {
                "customer_id": submission["customer_id"], "meter_id": meter["id"],
                "read_at": submitted_at, "value": float(value),
                "source": f"{SOURCE}:{submission['form_code']}"}))
    return ids

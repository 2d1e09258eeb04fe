"""The server's own check of a signature when a submission is submitted.

The tablet stores with the customer's signature the hash of what was shown
(``fieldapp.forms.signed_content``). At submit the server recomputes that hash from its own
records (the answers, the photos and the form version it holds) and refuses a submission
whose latest signature does not match them, or that lacks the signature its form requires:
a tablet cannot have a customer sign one thing and hand in another, nor skip the signature.

The refusal goes through ``merge.Rejected`` with the refused state preserved, so nothing is
lost: the submission stays a draft on the server and the value waits in ``conflicts``.
"""

from __future__ import annotations

from typing import Any

from fieldapp.forms import signed_content
from fieldapp.forms.paths import nest
from sync_server.storage.db import Connection

SIGNATURE_MISMATCH = "signature_mismatch"
SIGNATURE_MISSING = "signature_missing"


def _query(conn: Connection) -> signed_content.Query:
    return lambda sql, params: [dict(r) for r in conn.execute(sql, list(params)).fetchall()]


def latest_signature(conn: Connection, job_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT * FROM signatures WHERE job_id = ?"
                       " ORDER BY signed_at DESC, id DESC LIMIT 1", [job_id]).fetchone()
    return dict(row) if row else None


def check_submit(conn: Connection, submission_id: str) -> str | None:
    """Why the submission may not be submitted as the server's records stand
    (``signature_mismatch``, ``signature_missing``), or None."""
    query = _query(conn)
    subs = signed_content.rows(query, "SELECT * FROM submissions WHERE id = ?",
                               [submission_id])
    if not subs:
        return None  # the insert path judges unknown records itself
    sub = subs[0]
    signature = latest_signature(conn, sub["job_id"])
    try:
        definition = signed_content.form_definition(query, sub["form_code"],
                                                    sub["form_version"])
    except LookupError:
        return None  # an unknown form is refused by the answers' own checks
    if signature is None:
        answers = nest({r["question"]: signed_content.decoded(r["value"])
                        for r in signed_content.rows(
                            query, "SELECT question, value FROM answers"
                            " WHERE submission_id = ?", [submission_id])})
        required = signed_content.requires_signature(definition, answers)
        return SIGNATURE_MISSING if required else None
    if not signature["content_hash"] or not signature["signed_at"]:
        return SIGNATURE_MISMATCH  # a signature bound to nothing confirms nothing
    try:
        recomputed = signed_content.content_hash(query, submission_id, signature["signed_at"])
    except (LookupError, ValueError):
        return SIGNATURE_MISMATCH
    return None if recomputed == signature["content_hash"] else SIGNATURE_MISMATCH


def message(reason: str, submission_id: str) -> str:
    if reason == SIGNATURE_MISSING:
        return (f"submission {submission_id}: its form requires the customer's signature and"
                " the job has none; the submit is kept for review")
    return (f"submission {submission_id}: the customer's signature does not match the answers,"
            " hazards and photos the server holds; the submit is kept for review")

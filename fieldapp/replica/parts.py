"""领料 on the tablet: a technician asks the stores for parts on a job (the rules and the
catalogue: domain/parts.py). The office issues or refuses each request (its reply syncs
back); what was used is still recorded on the repair report.

    replica.parts.catalogue()                          # [(code, 名称), …]
    replica.parts.request(job_id, "P-CLAMP", 2, "卡箍锈蚀")
    replica.parts.for_job(job_id)                      # with their state and reply
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fieldapp.changes import Changes
from fieldapp.domain.parts import CATALOGUE_FORM, MAX_QUANTITY, catalogue
from fieldapp.domain.status import is_closed
from fieldapp.errors import InvalidInput
from fieldapp.local_time import now_iso

if TYPE_CHECKING:
    from fieldapp.replica import Replica


class Parts:
    def __init__(self, replica: Replica) -> None:
        self.r = replica

    def catalogue(self) -> list[tuple[str, str]]:
        """(code, Chinese name) of every part, from the newest repair report definition."""
        return catalogue(self.r.submissions.definition(CATALOGUE_FORM))  # the newest version

    def request(self, job_id: str, part: str, quantity: int, note: str = "") -> Changes:
        names = dict(self.catalogue())
        if part not in names:
            raise InvalidInput("unknown_part", f"no part {part!r} in the catalogue", part=part)
        if not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidInput("bad_quantity", f"quantity 1–{MAX_QUANTITY}",
                               limit=MAX_QUANTITY)
        job = self.r.jobs.require_mine(job_id)
        if is_closed(job["status"]):
            raise InvalidInput("job_closed_for_parts", "the job is closed", number=job["number"])
        session = self.r.require_session()
        with self.r.transaction():
            request_id = self.r.insert("part_requests", {
                "job_id": job_id, "customer_id": job["customer_id"], "part": part,
                "quantity": quantity, "note": note.strip()[:500], "state": "requested",
                "requested_at": now_iso(), "by_user": session.username,
                "device_id": self.r.device_id})
        return Changes.of("part_requests", ids=(request_id,))

    def for_job(self, job_id: str) -> list[dict[str, Any]]:
        names = dict(self.catalogue())
        rows = list(self.r.db.query("SELECT * FROM part_requests WHERE job_id = ?"
                                    " ORDER BY requested_at DESC, hlc DESC", [job_id]))
        for row in rows:
            row["name"] = names.get(row["part"], row["part"])
        return rows

"""The outbox: every local change waiting for the server, and what the server said about it.

States: ``pending`` (not yet accepted by the server) → ``done`` (applied or merged),
``conflict`` (applied, but the server kept another value; both are preserved) or
``rejected`` (refused with a reason; the local record stays for the user to see) or
``parked`` (the server holds it until the record it belongs to arrives there, then applies
it; nothing is left to send).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fieldapp.ids import new_id
from fieldapp.local_time import now_iso
from fieldapp.wire import MAX_BATCH, Mutation, MutationResult

if TYPE_CHECKING:
    from fieldapp.replica import Replica


class Outbox:
    def __init__(self, replica: Replica) -> None:
        self.r = replica

    def next_batch(self, limit: int = MAX_BATCH) -> tuple[str, list[Mutation]] | None:
        """The batch to send next: an unanswered one again, exactly as first sent, else a new one.

        Resending the same id with the same mutations is what makes a retry after a lost
        answer idempotent on the server.
        """
        with self.r.transaction() as db:
            row = db.execute("SELECT batch_id FROM outbox WHERE state = 'pending'"
                             " AND batch_id IS NOT NULL ORDER BY seq LIMIT 1").fetchone()
            if row:
                batch_id = row[0]
            else:
                seqs = [s for (s,) in db.execute(
                    "SELECT seq FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT ?",
                    [limit])]
                if not seqs:
                    return None
                batch_id = new_id()
                db.execute(f"UPDATE outbox SET batch_id = ? WHERE seq IN "
                           f"({','.join('?' * len(seqs))})", [batch_id, *seqs])
        rows = self.r.db.query("SELECT * FROM outbox WHERE state = 'pending' AND batch_id = ?"
                               " ORDER BY seq", [batch_id])
        return batch_id, self._mutations(rows)

    def rejected(self) -> list[Mutation]:
        """The changes the server refused, as sent: what a revoked tablet hands in."""
        return self._mutations(self.r.db.query(
            "SELECT * FROM outbox WHERE state = 'rejected' ORDER BY seq"))

    @staticmethod
    def _mutations(rows: Any) -> list[Mutation]:
        return [Mutation(mutation_id=row["mutation_id"], table=row["tbl"],
                         record_id=row["record_id"], op=row["op"],
                         fields=json.loads(row["fields"]), old=json.loads(row["old"]),
                         base_version=row["base_version"], hlc=row["hlc"], at=row["at"])
                for row in rows]

    def counts(self) -> dict[str, int]:
        counts = {"pending": 0, "done": 0, "conflict": 0, "rejected": 0, "parked": 0}
        for state, n in self.r.db.execute("SELECT state, count(*) FROM outbox GROUP BY state"):
            counts[state] = n
        return counts

    def problems(self) -> list[dict[str, Any]]:
        """Rejected and conflicting changes, newest first, for the user to see."""
        return list(self.r.db.query(
            "SELECT * FROM outbox WHERE state IN ('rejected', 'conflict') ORDER BY seq DESC"))

    def record_state(self, table: str, record_id: str) -> str:
        """``synced``, ``pending``, ``conflict`` or ``rejected`` for one record."""
        states = {s for (s,) in self.r.db.execute(
            "SELECT DISTINCT state FROM outbox WHERE tbl = ? AND record_id = ?",
            [table, record_id])}
        for state in ("rejected", "conflict", "pending"):
            if state in states:
                return state
        return "synced"

    def record_results(self, batch_id: str, results: list[MutationResult]) -> None:
        """Store what the server answered, in one transaction with the record versions."""
        with self.r.transaction() as db:
            for res in results:
                row = db.execute("SELECT tbl, record_id FROM outbox WHERE mutation_id = ?",
                                 [res.mutation_id]).fetchone()
                if row is None:
                    continue
                state = {"applied": "done", "merged": "done"}.get(res.status, res.status)
                db.execute(
                    "UPDATE outbox SET state = ?, reason = ?, message = ?,"
                    " result = ?, sent_at = ? WHERE mutation_id = ? AND batch_id = ?",
                    [state, res.reason, res.message, res.model_dump_json(),
                     now_iso(), res.mutation_id, batch_id])
                if res.version is not None:
                    db.execute(f"UPDATE [{row[0]}] SET version = max(version, ?) WHERE id = ?",
                               [res.version, row[1]])

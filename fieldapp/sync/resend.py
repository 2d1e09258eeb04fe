"""What a tablet does when the server's history changed under it (it was restored from a
backup, ``sync_server/storage/epoch.py``): nothing it captured may be lost because the
server forgot it.

The restored server lacks everything after the backup's moment, and its change log will
reuse the sequence numbers after it. So, in one transaction:

- every acknowledged outbox row (``done``, ``conflict``, ``parked``) is pending again, in its
  original order. A resend is safe whatever the server kept: a mutation id it already has,
  from this device with the same content, is answered from its stored result (no second
  apply), one it lost is applied. ``rejected`` rows stay as they are: the server did not
  take them, and they stay on this tablet for the technician to see.
- pending rows leave the batch they were put in: that batch may be one the restored server
  never saw or one it holds with other rows, and the mutations are idempotent by id anyway;
- every file is to be uploaded again: the client asks the server for each first, so one it
  kept costs a request, one it lost is sent;
- the pull cursor goes back to 0: the next pull brings the whole scope again through the
  normal apply path, which keeps any field still waiting in the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fieldapp.local_time import now_iso

if TYPE_CHECKING:
    from fieldapp.replica import Replica

EPOCH_KEY = "server_epoch"  # the server history this replica's cursor and outbox refer to
# When this tablet found the server restored (its own clock), for the UI to say so.
RESTORED_KEY = "server_restored_at"
ACKNOWLEDGED = ("done", "conflict", "parked")


@dataclass(frozen=True)
class Resent:
    mutations: int  # acknowledged rows made pending again
    files: int  # files to be checked (and, if lost, uploaded) again


def resend_after_restore(replica: Replica, epoch: str) -> Resent:
    """Make the replica ready to sync with a server whose history is ``epoch`` (new)."""
    marks = ",".join("?" * len(ACKNOWLEDGED))
    with replica.transaction() as db:
        mutations = db.execute(f"SELECT count(*) FROM outbox WHERE state IN ({marks})",
                               ACKNOWLEDGED).fetchone()[0]
        db.execute(f"UPDATE outbox SET state = 'pending', batch_id = NULL"
                   f" WHERE state IN ({marks}) OR state = 'pending'", ACKNOWLEDGED)
        files = db.execute("SELECT count(*) FROM blobs").fetchone()[0]
        db.execute("UPDATE blobs SET uploaded = 0")
        for key, value in (("cursor", "0"), (EPOCH_KEY, epoch), (RESTORED_KEY, now_iso())):
            db.execute("INSERT INTO sync_state(key, value) VALUES (?, ?)"
                       " ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])
    return Resent(mutations=mutations, files=files)

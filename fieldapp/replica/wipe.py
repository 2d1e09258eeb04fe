"""Remote wipe: a tablet an administrator revoked erases what it holds, once its work has
reached the server (see ``SyncClient._revoked``).

    wipe.erase(data_dir)       # the key first: from then on nothing left is readable
    wipe.pending(data_dir)     # an erase that was cut short: finish it before anything

The database key goes first, so even a file the erase cannot remove (held open, a disk
error) stays ciphertext. A marker written before anything is removed makes a killed erase
finish at the next start.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from fieldapp.replica import db_key
from fieldapp.replica.store import DB_FILE

MARKER = "WIPE"
# Everything the app writes into its data folder; anything else there is not ours.
ERASED = (DB_FILE, DB_FILE + "-wal", DB_FILE + "-shm", DB_FILE + ".encrypting", "blobs",
          "documents", "maps", "rescue")


def pending(data_dir: Path | str) -> bool:
    return (Path(data_dir) / MARKER).exists()


def erase(data_dir: Path | str) -> list[str]:
    """Erase the replica, its key, photos, documents and rescue copies; returns what could
    not be removed (already unreadable without the key). Call with the replica closed."""
    data_dir = Path(data_dir)
    marker = data_dir / MARKER
    with open(marker, "w", encoding="ascii") as fh:
        fh.write("erase\n")
        fh.flush()
        os.fsync(fh.fileno())
    db_key.forget(data_dir)
    left = []
    for name in ERASED:
        path = data_dir / name
        try:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        except OSError:
            left.append(name)
    if not left:
        marker.unlink()
    return left

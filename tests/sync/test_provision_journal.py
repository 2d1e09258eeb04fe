"""The snapshot load writes through a rollback journal, not the write-ahead log
(``provision._leave_wal``): the replica is back in its log afterwards (after a failed load
too: ``test_provision.py``), a killed load is rolled back when the replica next opens, and
with another connection on the file the load stays in the log instead of waiting for it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from fieldapp.replica import Replica
from fieldapp.replica.db_key import database_key
from fieldapp.replica.store import DB_FILE, connect
from fieldapp.sync import provision
from tests.conftest import ROOT, ServerProcess
from tests.sync.test_provision import parts, streamed, tablet


def journal_mode(replica: Replica) -> str:
    return str(replica.db.execute("PRAGMA journal_mode").fetchone()[0])


def snapshot_of(server: ServerProcess, tmp_path: Path, monkeypatch) -> tuple[bytes, int]:
    """A real snapshot of tech01's scope (its JSON), and how many records it holds."""
    replica, client = tablet(server, tmp_path / "asker", "snapshot", monkeypatch)
    body = streamed(client)
    replica.close()
    return body, parts(body)[0]["rows"]


def test_the_load_writes_through_a_journal_and_the_log_comes_back(
        server: ServerProcess, tmp_path: Path, monkeypatch) -> None:
    body, records = snapshot_of(server, tmp_path, monkeypatch)
    snap = provision.read(body.split(b"\n"))
    replica = Replica.open(tmp_path / "tablet")
    busy = replica.db.execute("PRAGMA busy_timeout").fetchone()
    during: list[str] = []
    assert provision.load(replica, snap, lambda n: during.append(journal_mode(replica))) == records
    assert set(during) == {"delete"}
    assert journal_mode(replica) == "wal"
    assert replica.db.execute("PRAGMA busy_timeout").fetchone() == busy
    assert not (tmp_path / "tablet" / f"{DB_FILE}-journal").exists()


def test_with_another_connection_on_the_file_the_load_stays_in_the_log(
        server: ServerProcess, tmp_path: Path, monkeypatch) -> None:
    body, records = snapshot_of(server, tmp_path, monkeypatch)
    replica = Replica.open(tmp_path / "tablet")
    # A second connection on the file, as a tool reading the replica would have.
    other = connect(tmp_path / "tablet" / DB_FILE, database_key(tmp_path / "tablet"))
    try:
        during: list[str] = []
        loaded = provision.load(replica, provision.read(body.split(b"\n")),
                                lambda n: during.append(journal_mode(replica)))
        assert loaded == records and set(during) == {"wal"}
        assert other.execute("SELECT count(*) FROM readings").fetchone()[0] > 0
    finally:
        other.close()
    assert journal_mode(replica) == "wal"


KILLED_LOAD = """
import os, signal, sys
from pathlib import Path
from fieldapp.replica import Replica
from fieldapp.sync import provision

replica = Replica.open(Path(sys.argv[1]))
snap = provision.read(Path(sys.argv[2]).read_bytes().split(b"\\n"))

def die(done):
    mode = replica.db.execute("PRAGMA journal_mode").fetchone()[0]
    journal = (replica.data_dir / "replica.sqlite3-journal").exists()
    print(mode, "journal" if journal else "no-journal", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

provision.load(replica, snap, die)
"""


def test_a_load_killed_half_way_is_rolled_back_when_the_replica_opens(
        server: ServerProcess, tmp_path: Path, monkeypatch) -> None:
    body, records = snapshot_of(server, tmp_path, monkeypatch)
    (tmp_path / "snapshot.json").write_bytes(body)
    folder = tmp_path / "tablet"
    run = subprocess.run([sys.executable, "-c", KILLED_LOAD, str(folder),
                          str(tmp_path / "snapshot.json")], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert run.returncode == -signal.SIGKILL, run.stderr
    assert run.stdout.split() == ["delete", "journal"]  # killed with rows written, unsaved
    assert (folder / f"{DB_FILE}-journal").exists()

    replica = Replica.open(folder)
    assert provision.is_empty(replica) and replica.state("cursor") is None
    assert journal_mode(replica) == "wal"
    assert replica.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert provision.load(replica, provision.read(body.split(b"\n"))) == records

"""The change log's hash chain: sound after real work, broken exactly where an entry was
changed or removed afterwards, sealed once for a log older than the chain, and checked from
the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sync_server.services import audit
from sync_server.storage import server_state
from sync_server.storage.db import DATABASE_URL_ENV, Storage, open_database
from tests.conftest import ROOT, ServerProcess
from tests.server.test_rules import TECH01, push


def verify(db: Storage) -> audit.Verdict:
    return audit.verify(db)


def work(db: Storage) -> None:
    for status in ("accepted", "in_service"):
        push(db, TECH01, "jobs", "job-1", {"status": status})


def test_the_chain_holds_after_real_work(db: Storage) -> None:
    work(db)
    verdict = verify(db)
    with db.read() as conn:
        total = conn.execute("SELECT count(*) FROM changes").fetchone()[0]
    assert verdict.ok and verdict.checked == total > 10


def test_an_entry_changed_afterwards_breaks_the_chain_there(db: Storage) -> None:
    work(db)
    with db.write() as conn:
        seq = conn.execute("SELECT max(seq) FROM changes WHERE tbl = 'jobs'"
                           " AND by_user = 'tech01'").fetchone()[0]
        conn.execute("UPDATE changes SET fields = ? WHERE seq = ?",
                     ['{"status": "completed"}', seq])
    verdict = verify(db)
    assert (verdict.ok, verdict.broken_at) == (False, seq)
    assert "被修改" in verdict.problem


def test_an_entry_removed_is_seen_by_the_next_one(db: Storage) -> None:
    work(db)
    with db.write() as conn:
        first, second = [r[0] for r in conn.execute(
            "SELECT seq FROM changes WHERE by_user = 'tech01' ORDER BY seq").fetchall()][:2]
        conn.execute("DELETE FROM changes WHERE seq = ?", [first])
    verdict = verify(db)
    assert verdict.broken_at == second and "链接断开" in verdict.problem


def test_a_log_older_than_the_chain_is_sealed_once_and_never_again(db: Storage) -> None:
    with db.write() as conn:  # as before migration 14: no hashes, migration 20's mark pending
        conn.execute("UPDATE changes SET prev_hash = NULL, hash = NULL")
        conn.execute("UPDATE server_state SET value = 'pending' WHERE key = ?",
                     [server_state.LEGACY_SEAL])
    assert not verify(db).ok
    with db.write() as conn:
        assert audit.seal_legacy(conn) > 10
        assert audit.seal_legacy(conn) == 0
    work(db)  # new entries follow the sealed ones
    assert verify(db).ok
    with db.write() as conn:  # a hash nulled afterwards is tampering: never sealed over
        seq = conn.execute("SELECT max(seq) FROM changes WHERE by_user = 'tech01'").fetchone()[0]
        conn.execute("UPDATE changes SET hash = NULL WHERE seq = ?", [seq])
        assert audit.seal_legacy(conn) == 0
    assert verify(db).broken_at == seq


def test_the_command_says_where_it_breaks(server: ServerProcess) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(DATABASE_URL_ENV, None)
    args = [sys.executable, "-m", "sync_server", "--data", str(server.data_dir),
            "--verify-audit"]
    if server.database_url:
        args += ["--database-url", server.database_url]
    sound = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)
    assert sound.returncode == 0 and "哈希链无断点" in sound.stdout
    db = open_database(Path(server.data_dir), server.database_url)
    with db.write() as conn:
        seq = conn.execute("SELECT min(seq) FROM changes WHERE tbl = 'customers'").fetchone()[0]
        conn.execute("UPDATE changes SET by_user = 'intruder' WHERE seq = ?", [seq])
    db.close()
    broken = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)
    assert broken.returncode == 1 and f"第 {seq} 条记录处断开" in broken.stdout

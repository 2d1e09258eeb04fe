"""Tampering with the real server's database is reported and survives restarts: an entry
edited, deleted, or edited with its hash nulled (which once made the start-up re-seal the
chain over it) is named by ``--verify-audit`` and on the office's audit page. The chain head
is anchored outside the database (HMAC-signed, at shutdown and on the timer): a history
rewritten with every hash recomputed, a log cut short, or a forged anchor is reported too,
with several workers appending to the same anchors file."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from fieldapp.ids import new_id
from fieldapp.local_time import now_iso
from sync_server.services import audit
from sync_server.services.audit_anchor import ANCHORS_FILE, KEY_FILE
from sync_server.storage.db import DATABASE_URL_ENV, open_database
from tests.conftest import ROOT, ServerProcess
from tests.server.test_conflict_review import office_session
from tests.server.test_sync_api import login, mutation, push


def verify_cli(server: ServerProcess, *extra: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items()
               if k not in (DATABASE_URL_ENV, "FIELDAPP_AUDIT_KEY")}
    args = [sys.executable, "-m", "sync_server", "--data", str(server.data_dir),
            "--verify-audit", *extra]
    if server.database_url:
        args += ["--database-url", server.database_url]
    return subprocess.run(args, capture_output=True, text=True, timeout=120,
                          env={**environ, "PYTHONPATH": str(ROOT), **env})


def work(server: ServerProcess, device: str = "pad-1", n: int = 3) -> list[int]:
    """Real changes by tech01; their seqs."""
    headers = login(server, "tech01", device)
    for i in range(n):
        pushed = push(server, headers, device, [mutation("scans", new_id(), {
            "job_id": "job-1", "customer_id": "cust-1", "code": f"GM{device}{i:06d}",
            "symbology": "CODE128", "meter_id": None, "matched_customer_id": None,
            "source": "manual", "scanned_at": now_iso(), "by_user": "tech01",
            "device_id": device}, op="insert")])
        assert pushed.json()["results"][0]["status"] == "applied", pushed.text
    return [r["seq"] for r in server.query(
        "SELECT seq FROM changes WHERE device_id = ? AND tbl = 'scans' ORDER BY seq", [device])]


def anchors(server: ServerProcess, directory: Path | None = None) -> list[dict]:
    path = (directory or server.data_dir) / ANCHORS_FILE
    return [json.loads(line) for line in path.read_text().splitlines()]


def page_verdict(server: ServerProcess) -> str:
    page = office_session(server, "supervisor").get(f"{server.url}/office/audit", timeout=10,
                                                    params={"check": "1"}).text
    return page.split('id="chain"', 1)[1].split("</p>", 1)[0]


@pytest.mark.parametrize("tampering", ["edit", "delete", "edit_and_null_hash"])
def test_tampering_is_reported_and_a_restart_never_reseals_it(
        server: ServerProcess, tampering: str) -> None:
    seqs = work(server)
    target = seqs[1]
    server.stop()
    db = open_database(server.data_dir, server.database_url)
    with db.write() as conn:
        if tampering == "delete":
            conn.execute("DELETE FROM changes WHERE seq = ?", [target])
        else:
            conn.execute("UPDATE changes SET fields = ? WHERE seq = ?",
                         ['{"code": "GM0000000000"}', target])
        if tampering == "edit_and_null_hash":
            conn.execute("UPDATE changes SET hash = NULL, prev_hash = NULL WHERE seq = ?",
                         [target])
    db.close()
    first_broken = seqs[2] if tampering == "delete" else target

    for _ in range(2):  # restarted, and restarted again: still broken, at the same entry
        server.start()
        work(server, "pad-2", 1)  # the server keeps working and anchoring meanwhile
        assert f"第 {first_broken} 条记录处断开" in page_verdict(server)
        server.stop()
        told = verify_cli(server)
        assert told.returncode == 1 and f"第 {first_broken} 条记录处断开" in told.stdout, told
    if tampering == "edit_and_null_hash":
        assert server.scalar("SELECT hash FROM changes WHERE seq = ?", [target]) is None


def test_history_rewritten_with_every_hash_recomputed_is_caught_by_the_anchors(
        server: ServerProcess) -> None:
    server.stop()
    server.start(FIELDAPP_ALERT_SCAN_S="0")  # no timer: anchored at each shutdown only
    early = work(server, "pad-1", 2)
    server.stop()
    server.start(FIELDAPP_ALERT_SCAN_S="0")
    later = work(server, "pad-2", 2)
    server.stop()
    assert [a["seq"] for a in anchors(server)][-2:] == [early[-1], later[-1]]
    assert verify_cli(server).returncode == 0

    # An insider with database access only: change an entry, re-chain everything after it.
    db = open_database(server.data_dir, server.database_url)
    with db.write() as conn:
        conn.execute("UPDATE changes SET fields = ? WHERE seq = ?",
                     ['{"code": "GM9999999999"}', later[0]])
        prev = conn.execute("SELECT hash FROM changes WHERE seq < ? ORDER BY seq DESC LIMIT 1",
                            [later[0]]).fetchone()[0]
        for row in conn.execute("SELECT * FROM changes WHERE seq >= ? ORDER BY seq",
                                [later[0]]).fetchall():
            digest = audit.entry_hash(prev, dict(row))
            conn.execute("UPDATE changes SET prev_hash = ?, hash = ? WHERE seq = ?",
                         [prev, digest, row["seq"]])
            prev = digest
    assert audit.verify(db).ok  # the chain alone no longer shows it
    db.close()

    told = verify_cli(server)
    head = later[-1]
    assert told.returncode == 1, told
    assert f"第 {head} 条记录的哈希与" in told.stdout and "外部锚点不符" in told.stdout
    assert f"第 {early[-1] + 1}–{head} 条之间" in told.stdout  # after the last sound anchor
    server.start()
    assert f"第 {head} 条记录的哈希与" in page_verdict(server)
    work(server, "pad-3", 1)
    server.stop()  # the rewritten chain is not signed over at shutdown
    assert anchors(server)[-1]["seq"] == head
    assert "does not follow from its last anchor" in (server.data_dir / "server.log").read_text()


def test_a_log_cut_short_or_a_forged_anchor_is_reported(server: ServerProcess) -> None:
    seqs = work(server)
    server.stop()
    db = open_database(server.data_dir, server.database_url)
    with db.write() as conn:  # the newest entries removed: what is left still chains
        conn.execute("DELETE FROM changes WHERE seq >= ?", [seqs[1]])
    assert audit.verify(db).ok
    db.close()
    told = verify_cli(server)
    assert told.returncode == 1 and f"第 {seqs[-1]} 条记录已不存在" in told.stdout, told

    path = server.data_dir / ANCHORS_FILE
    path.write_text(json.dumps({"seq": seqs[0], "hash": "f" * 64, "at": "2026-01-01T00:00:00",
                                "mac": "0" * 64}) + "\n")
    told = verify_cli(server)
    assert told.returncode == 1 and "第 1 行无法读取或签名不符" in told.stdout, told


def test_the_key_stays_out_of_the_database_and_anchors_are_copied_elsewhere(
        tmp_path: Path) -> None:
    """Two workers anchoring on a fast timer, the key from the environment, anchors copied
    to a second directory: every line of both files is whole and sound."""
    data, elsewhere = tmp_path / "server", tmp_path / "vault"
    data.mkdir()
    server = ServerProcess(data, workers=2)
    server.seed_world()
    key = "k" * 40
    server.start(FIELDAPP_AUDIT_KEY=key, FIELDAPP_AUDIT_ANCHOR_DIR=str(elsewhere),
                 FIELDAPP_ALERT_SCAN_S="0.05")
    try:
        for i in range(4):
            work(server, f"pad-{i}", 2)
    finally:
        server.stop()
    assert not (data / KEY_FILE).exists()
    assert key not in json.dumps(server.query("SELECT * FROM server_state"))
    mine, copied = anchors(server), anchors(server, elsewhere)
    head = server.scalar("SELECT max(seq) FROM changes")
    assert mine[-1]["seq"] == copied[-1]["seq"] == head
    assert [a["seq"] for a in mine] == sorted({a["seq"] for a in mine})  # past the last only
    assert verify_cli(server, "--audit-anchor-dir", str(elsewhere)).returncode == 1  # no key
    sound = verify_cli(server, "--audit-anchor-dir", str(elsewhere), FIELDAPP_AUDIT_KEY=key)
    assert sound.returncode == 0 and f"外部锚点 {len(mine) + len(copied)} 个，均相符" in \
        sound.stdout, sound
    wrong = verify_cli(server, FIELDAPP_AUDIT_KEY="w" * 40)
    assert wrong.returncode == 1 and "签名不符" in wrong.stdout


def test_the_key_file_is_made_private_at_first_start(server: ServerProcess) -> None:
    mode = stat.S_IMODE((server.data_dir / KEY_FILE).stat().st_mode)
    assert mode == 0o600
    work(server, n=1)
    server.stop()
    assert stat.S_IMODE((server.data_dir / ANCHORS_FILE).stat().st_mode) == 0o600
    sound = verify_cli(server)
    assert sound.returncode == 0 and "外部锚点 1 个，均相符" in sound.stdout, sound

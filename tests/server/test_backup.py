"""`python -m sync_server backup` / `restore`: a running SQLite server copied while tablets push,
restored into a new folder that serves, with its audit chain and anchors intact."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from PIL import Image

from sync_server.storage.backup import MANIFEST
from sync_server.storage.db import DATABASE_URL_ENV
from tests.conftest import ROOT, TEST_PG, ServerProcess, synced_tablet
from tests.server.test_audit_anchor import verify_cli, work

sqlite_only = pytest.mark.skipif(bool(TEST_PG),
                                 reason="SQLite's backup; PostgreSQL uses pg_dump (README)")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != DATABASE_URL_ENV}
    return subprocess.run([sys.executable, "-m", "sync_server", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300,
                          env={**env, "PYTHONPATH": str(ROOT)})


@sqlite_only
def test_a_running_server_is_backed_up_while_tablets_push_and_restores_whole(
        tmp_path: Path, server: ServerProcess) -> None:
    replica, client = synced_tablet(server, tmp_path / "tablet")
    photo = tmp_path / "meter.png"
    Image.new("RGB", (800, 600), (30, 60, 90)).save(photo)
    replica.evidence.add_photo("job-1", photo)
    replica.jobs.transition("job-1", "accepted")
    client.sync()
    replica.close()
    sha = server.scalar("SELECT sha256 FROM blobs")

    stop = threading.Event()
    pushed: list[int] = []

    def keep_pushing() -> None:  # another tablet writing all through the backup
        while not stop.is_set():
            pushed.extend(work(server, "pad-racing", 2))

    racer = threading.Thread(target=keep_pushing)
    racer.start()
    try:
        made = cli("backup", "--data", str(server.data_dir), "--to", str(tmp_path / "bk"))
    finally:
        stop.set()
        racer.join()
    assert made.returncode == 0, made.stderr
    assert pushed, "the racing tablet pushed nothing"
    manifest = json.loads((tmp_path / "bk" / MANIFEST).read_text())
    assert manifest["attachments"] and f"{sha[:2]}/{sha}" in manifest["attachments"]
    assert 0 < manifest["database"]["last_seq"] <= server.scalar("SELECT max(seq) FROM changes")

    restored = tmp_path / "restored"
    done = cli("restore", "--from", str(tmp_path / "bk"), "--data", str(restored))
    assert done.returncode == 0, done.stderr
    again = ServerProcess(restored)
    assert verify_cli(again).returncode == 0, verify_cli(again).stdout  # chain and anchors
    again.start()
    try:
        # What the backup holds, served again: the photo's bytes and the accepted job.
        token = requests.post(again.url + "/api/v1/auth/login", timeout=10, json={
            "username": "tech01", "password": "s3cret-pass", "device_id": "pad-9"}).json()
        status = requests.get(f"{again.url}/api/v1/attachments/{sha}", timeout=10,
                              headers={"Authorization": f"Bearer {token['token']}"})
        assert status.json()["complete"] is True
        assert again.scalar("SELECT status FROM jobs WHERE id = 'job-1'") == "accepted"
        epoch = "SELECT value FROM server_state WHERE key = 'sync.epoch'"
        assert again.scalar(epoch) != server.scalar(epoch)  # a new history from here
        last = manifest["database"]["last_seq"]  # the restart logs its own address after it
        assert again.scalar("SELECT count(*) FROM changes WHERE seq <= ?", [last]) == \
            manifest["database"]["counts"]["changes"]
    finally:
        again.stop()


@sqlite_only
def test_backup_and_restore_refuse_what_would_overwrite_or_lie(
        tmp_path: Path, server: ServerProcess) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("someone's files")
    refused = cli("backup", "--data", str(server.data_dir), "--to", str(taken))
    assert refused.returncode == 1 and "不是空的" in refused.stderr
    assert sorted(p.name for p in taken.iterdir()) == ["notes.txt"]

    assert cli("backup", "--data", str(server.data_dir), "--to",
               str(tmp_path / "bk")).returncode == 0
    into_live = cli("restore", "--from", str(tmp_path / "bk"), "--data", str(server.data_dir))
    assert into_live.returncode == 1 and "不是空目录" in into_live.stderr

    key = tmp_path / "bk" / "audit.key"
    kept = key.read_bytes()
    # A damaged copy: the last byte always changes (writing a fixed byte left the key intact
    # whenever it already ended in that byte, and the restore rightly succeeded).
    key.write_bytes(kept[:-1] + (b"1" if kept[-1:] == b"0" else b"0"))
    assert key.read_bytes() != kept
    damaged = cli("restore", "--from", str(tmp_path / "bk"), "--data", str(tmp_path / "new"))
    assert damaged.returncode == 1 and "已损坏" in damaged.stderr
    assert not (tmp_path / "new").exists()

    nothing = cli("restore", "--from", str(tmp_path / "taken"), "--data", str(tmp_path / "n2"))
    assert nothing.returncode == 1 and "不是 FieldApp 的备份" in nothing.stderr
    empty = cli("backup", "--data", str(tmp_path / "nowhere"), "--to", str(tmp_path / "b2"))
    assert empty.returncode == 1 and "没有服务器数据库" in empty.stderr


@pytest.mark.skipif(not TEST_PG, reason="the PostgreSQL recipe, with FIELDAPP_TEST_PG")
def test_the_postgresql_recipe_in_the_readme_restores_a_server(
        tmp_path: Path, server: ServerProcess) -> None:
    """README's recipe: pg_dump -Fc, pg_restore into a new database, copy the attachments
    and the audit key; the restored server verifies its chain and serves."""
    import shutil

    from tests import pg
    from tests.pg import _bindir

    assert pg.current is not None and server.database_url
    work(server, "pad-1", 3)
    dump = tmp_path / "fieldapp.dump"
    subprocess.run([str(_bindir() / "pg_dump"), "-Fc", "-f", str(dump), server.database_url],
                   check=True, timeout=120)
    target = pg.current.create_database()
    subprocess.run([str(_bindir() / "pg_restore"), "--no-owner", "-d", target, str(dump)],
                   check=True, timeout=120)
    restored = tmp_path / "restored"
    shutil.copytree(server.data_dir / "attachments", restored / "attachments")
    for name in ("audit.key", "audit-anchors.jsonl"):  # the anchors once the first is written
        if (server.data_dir / name).exists():
            shutil.copy2(server.data_dir / name, restored / name)
    renewed = cli("new-epoch", "--data", str(restored), "--database-url", target)
    assert renewed.returncode == 0, renewed.stderr
    again = ServerProcess(restored, database_url=target)
    epoch = "SELECT value FROM server_state WHERE key = 'sync.epoch'"
    assert again.scalar(epoch) != server.scalar(epoch)  # tablets resend what it lost
    checked = verify_cli(again)
    assert checked.returncode == 0, checked.stdout
    assert again.scalar("SELECT count(*) FROM changes") == \
        server.scalar("SELECT count(*) FROM changes")

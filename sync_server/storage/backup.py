"""Backing up a running SQLite server and restoring it into a new folder.

    python -m sync_server backup --data /srv/fieldapp --to /backup/fieldapp-2026-12-04
    python -m sync_server restore --from /backup/fieldapp-2026-12-04 --data /srv/fieldapp-new

The database is copied with SQLite's online backup in one step, so the copy is one
consistent moment even while the server writes (WAL lets it go on); the attachments are
copied after it, so every file a copied record names is there (files are content-addressed
and never change). The audit key and its anchor file go along, so ``--verify-audit`` holds
on the restored folder. A manifest records the database's sha256 and each file's; restore
checks them all before it writes anything, and refuses a folder that already holds a server.
PostgreSQL is backed up with its own tools (README: pg_dump / pg_restore).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sync_server.services.audit_anchor import ANCHORS_FILE as ANCHORS
from sync_server.services.audit_anchor import KEY_FILE
from sync_server.storage import epoch
from sync_server.storage.db import DATABASE_URL_ENV

DB_FILE = "server.sqlite3"
ATTACHMENTS = "attachments"
MANIFEST = "manifest.json"
FORMAT = 1
Progress = Callable[[str, int, int], None]  # what, done, total


class BackupError(Exception):
    """Why a backup or restore did not happen, in the operator's words; nothing was left
    half-written in the destination."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _attachment_files(root: Path) -> Iterator[Path]:
    """Published attachments only (``ab/abcd…``), not uploads still in ``partial/``."""
    if root.is_dir():
        for path in sorted(root.glob("??/*")):
            if path.is_file() and len(path.name) == 64:
                yield path


def backup(data: Path, to: Path, progress: Progress | None = None) -> dict[str, Any]:
    """Copy the server in ``data`` into the new folder ``to``; returns the manifest."""
    say = progress or (lambda what, done, total: None)
    source = data / DB_FILE
    if not source.is_file():
        raise BackupError(f"{data} 里没有服务器数据库（{DB_FILE}）")
    if to.exists() and any(to.iterdir()):
        raise BackupError(f"备份目录 {to} 不是空的：请给一个新的目录")
    staging = to.with_name(f".{to.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        manifest = _copy_into(data, staging, say)
        (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1),
                                        encoding="utf-8")
        if to.exists():
            to.rmdir()
        os.replace(staging, to)  # the backup appears whole or not at all
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def _copy_into(data: Path, staging: Path, say: Progress) -> dict[str, Any]:
    say("database", 0, 1)
    src = sqlite3.connect(f"file:{data / DB_FILE}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(staging / DB_FILE)
    try:
        src.backup(dst)  # pages=-1: all in one step, one consistent read
        checked = dst.execute("PRAGMA integrity_check").fetchone()[0]
        counts = {t: dst.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # noqa: S608
                  for t in ("users", "customers", "jobs", "changes", "blobs")}
        last_seq = dst.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
        history = epoch.current(dst)
    finally:
        dst.close()
        src.close()
    if checked != "ok":
        raise BackupError(f"数据库副本校验失败：{checked}")
    say("database", 1, 1)
    files = list(_attachment_files(data / ATTACHMENTS))
    copied: dict[str, str] = {}
    for i, path in enumerate(files):
        target = staging / ATTACHMENTS / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        copied[f"{path.parent.name}/{path.name}"] = _sha256(target)
        say("attachments", i + 1, len(files))
    extras = {}
    for name in (KEY_FILE, ANCHORS):
        if (data / name).is_file():
            shutil.copy2(data / name, staging / name)
            extras[name] = _sha256(staging / name)
    return {"format": FORMAT, "made_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": str(data), "database": {"file": DB_FILE, "sha256": _sha256(
                staging / DB_FILE), "last_seq": last_seq, "epoch": history, "counts": counts},
            "attachments": copied, "files": extras}


def restore(source: Path, data: Path, progress: Progress | None = None) -> dict[str, Any]:
    """Restore the backup in ``source`` into ``data`` (new, or empty); returns its manifest."""
    say = progress or (lambda what, done, total: None)
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source} 不是 FieldApp 的备份（{MANIFEST} 读不出：{exc}）") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"备份格式 {manifest.get('format')} 不认识（这个版本读 {FORMAT}）")
    if (data / DB_FILE).exists() or (data.exists() and any(data.iterdir())):
        raise BackupError(f"{data} 不是空目录：恢复只写入新的目录，不覆盖正在用的服务器")
    expected = {DB_FILE: manifest["database"]["sha256"], **manifest.get("files", {}),
                **{f"{ATTACHMENTS}/{k}": v for k, v in manifest.get("attachments", {}).items()}}
    for i, (name, sha) in enumerate(expected.items()):  # all checked before anything is written
        path = source / name
        if not path.is_file():
            raise BackupError(f"备份缺少文件 {name}")
        if _sha256(path) != sha:
            raise BackupError(f"备份文件 {name} 已损坏（校验值不符）")
        say("checking", i + 1, len(expected))
    staging = data.with_name(f".{data.name}.restoring")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        for i, name in enumerate(expected):
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, target)
            say("restoring", i + 1, len(expected))
        _new_history(staging / DB_FILE, manifest)
        if data.exists():
            data.rmdir()
        os.replace(staging, data)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dict(manifest)


def _new_history(db_file: Path, manifest: dict[str, Any]) -> None:
    """The restored copy gets a new epoch: its change log goes back to the backup's moment,
    and a tablet that synced after it must pull again and resend (storage/epoch.py)."""
    conn = sqlite3.connect(db_file, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        epoch.renew(conn, {"last_seq": manifest["database"].get("last_seq"),
                           "epoch": manifest["database"].get("epoch"),
                           "backup_made_at": manifest.get("made_at")})
        conn.execute("COMMIT")
    finally:
        conn.close()


def main(command: str, argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"sync_server {command}", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("var/server"))
    if command == "backup":
        parser.add_argument("--to", type=Path, required=True, help="a new, empty folder")
    else:
        parser.add_argument("--from", dest="source", type=Path, required=True)
    args = parser.parse_args(argv)
    if os.environ.get(DATABASE_URL_ENV):
        print(f"${DATABASE_URL_ENV} names PostgreSQL: back it up with pg_dump and restore"
              " with pg_restore (README), and copy the attachments folder", file=sys.stderr)
        return 1

    def show(what: str, done: int, total: int) -> None:
        if sys.stderr.isatty():
            print(f"\r{what}: {done}/{total}", end="", file=sys.stderr, flush=True)

    try:
        if command == "backup":
            made = backup(args.data, args.to, show)
            print(f"\n已备份到 {args.to}：{made['database']['counts']['customers']} 个客户，"
                  f"变更日志到 {made['database']['last_seq']}，{len(made['attachments'])} 个附件")
        else:
            made = restore(args.source, args.data, show)
            print(f"\n已恢复到 {args.data}（备份于 {made['made_at']}，新的服务器纪元：平板下次"
                  "同步会重新拉取，并重发备份之后确认过的工作）。先检查审计链：\n"
                  f"  python -m sync_server --data {args.data} --verify-audit")
    except BackupError as exc:
        print(f"\n没有{'备份' if command == 'backup' else '恢复'}：{exc}", file=sys.stderr)
        return 1
    return 0

"""The audit chain's head anchored outside the database, so that an insider who can only
change the database cannot rewrite history unnoticed by recomputing every hash from some
point on (the chain alone would then hold).

On the server's timer and at shutdown the head (seq, hash) is signed with HMAC-SHA256 under
a key the database never holds, and appended as one JSON line to ``audit-anchors.jsonl`` in
the data directory (and to the same file in ``--audit-anchor-dir``, storage the operator
points elsewhere). ``check`` (``--verify-audit`` and the office's audit page) verifies every
anchor's signature and that the entry at its seq still has its hash.

The key is ``$FIELDAPP_AUDIT_KEY`` when set (deployments that keep it in a secret store, or
several hosts sharing one PostgreSQL: they must share the key), else ``audit.key`` in the
data directory, created 0600 at the first start. With SQLite the database lives in the data
directory too, so an insider with that directory has both: set the key and the anchor
directory elsewhere there.

Several worker processes append to the same file: each line is one write under an exclusive
``flock``, and an anchor is written only past the last one, after checking that the entries
since it still follow from its hash (a tampering between two anchors is not signed over).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sync_server.services import audit
from sync_server.storage.db import Storage, utc_now

try:
    import fcntl
except ImportError:  # not POSIX: O_APPEND's single writes only
    fcntl = None  # type: ignore[assignment]  # optional: None where missing

KEY_ENV = "FIELDAPP_AUDIT_KEY"
ANCHOR_DIR_ENV = "FIELDAPP_AUDIT_ANCHOR_DIR"
KEY_FILE = "audit.key"
ANCHORS_FILE = "audit-anchors.jsonl"
MIN_KEY = 16  # characters of $FIELDAPP_AUDIT_KEY
# The timer verifies the entries appended since its last check at most every CHECK_EVERY_S,
# and the whole chain every WALK_EVERY_S: a walk hashes every entry (about 10 µs each, so
# 4 minutes of a worker for a utility's 24 million), which every 10 minutes would keep
# a core busy. An old entry edited alone breaks its link and is found by the next walk (or
# a check from the audit page); a history rewritten consistently changes the anchored
# hashes, which every check compares.
CHECK_EVERY_S = 600
WALK_EVERY_S = 24 * 3600
log = logging.getLogger("fieldapp.server")


def load_key(data_dir: Path, configured: str | None = None) -> bytes:
    """The anchoring key: ``configured`` (``$FIELDAPP_AUDIT_KEY``), else the data directory's
    key file, created (0600, atomically: workers start together) when there is none."""
    key = existing_key(data_dir, configured)
    if key is not None:
        return key
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / KEY_FILE
    temp = data_dir / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secrets.token_hex(32).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temp, path)  # fails if another process made it first: then theirs holds
    except FileExistsError:
        pass
    finally:
        temp.unlink()
    return path.read_bytes().strip()


def existing_key(data_dir: Path, configured: str | None = None) -> bytes | None:
    """The key if there is one (``--verify-audit`` never creates it)."""
    if configured:
        if len(configured.strip()) < MIN_KEY:
            raise SystemExit(f"${KEY_ENV} must be at least {MIN_KEY} characters")
        return configured.strip().encode()
    path = data_dir / KEY_FILE
    if not path.exists():
        return None
    if path.stat().st_mode & 0o077:
        log.warning("%s is readable by others; it should be 0600", path)
    return path.read_bytes().strip()


def anchor_files(data_dir: Path, copy_dir: Path | None = None) -> list[Path]:
    return [data_dir / ANCHORS_FILE] + ([copy_dir / ANCHORS_FILE] if copy_dir else [])


def _mac(key: bytes, seq: int, digest: str, at: str) -> str:
    return hmac.new(key, f"fieldapp-audit-anchor:{seq}:{digest}:{at}".encode(),
                    hashlib.sha256).hexdigest()


def _parse(key: bytes, line: str) -> dict[str, Any] | None:
    """An anchor line whose signature holds, else None."""
    try:
        item = json.loads(line)
        sound = hmac.compare_digest(str(item["mac"]), _mac(
            key, int(item["seq"]), str(item["hash"]), str(item["at"])))
    except (ValueError, KeyError, TypeError):
        return None
    return item if sound else None


def _last(fd: int, key: bytes) -> dict[str, Any] | None:
    """The file's last sound anchor (read from its tail)."""
    size = os.fstat(fd).st_size
    tail = os.pread(fd, min(size, 8192), max(0, size - 8192)).decode("utf-8", "replace")
    for line in reversed(tail.splitlines()):
        item = _parse(key, line)
        if item is not None:
            return item
    return None


def _follows(db: Storage, since: dict[str, Any] | None, head: int) -> bool:
    """Whether the entries after the anchor ``since`` up to ``head`` chain from its hash."""
    if since is None:
        return True
    prev = str(since["hash"])
    with db.read() as conn:
        at = conn.execute("SELECT hash FROM changes WHERE seq = ?", [since["seq"]]).fetchone()
        if at is None or at[0] != prev:
            return False
        for row in conn.execute("SELECT * FROM changes WHERE seq > ? AND seq <= ? ORDER BY seq",
                                [since["seq"], head]):
            entry = dict(row)
            if entry["prev_hash"] != prev or entry["hash"] != audit.entry_hash(prev, entry):
                return False
            prev = entry["hash"]
    return True


def anchor(db: Storage, key: bytes, files: Sequence[Path]) -> int | None:
    """Append the chain head to each anchors file (past its last anchor); returns the seq
    anchored in the first file, or None when there was nothing new or it could not be."""
    with db.read() as conn:
        head = conn.execute("SELECT seq, hash FROM changes ORDER BY seq DESC LIMIT 1").fetchone()
    if head is None or head["hash"] is None:
        return None
    seq, digest, at = int(head["seq"]), str(head["hash"]), utc_now()
    line = json.dumps({"seq": seq, "hash": digest, "at": at, "mac": _mac(key, seq, digest, at)},
                      separators=(",", ":")) + "\n"
    done = None
    for n, path in enumerate(files):
        try:
            wrote = _append(db, key, path, seq, line, check=n == 0)
        except OSError as exc:
            if n == 0:
                raise
            log.warning("audit anchor not copied to %s: %s", path, exc)
            continue
        if n == 0:
            if wrote is False:
                log.error("audit chain does not follow from its last anchor: not anchored;"
                          " run --verify-audit")
                return None
            done = seq if wrote else None
    return done


def _append(db: Storage, key: bytes, path: Path, seq: int, line: str,
            check: bool) -> bool | None:
    """True when written, None when the file has this head already, False when (``check``)
    the chain no longer follows from the file's last anchor."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released by close
        last = _last(fd, key)
        if last is not None and int(last["seq"]) >= seq:
            return None
        if check and not _follows(db, last, seq):
            return False
        os.write(fd, line.encode())
        os.fsync(fd)
        return True
    finally:
        os.close(fd)


def check(db: Storage, key: bytes | None, files: Sequence[Path],
          since: audit.Verdict | None = None) -> audit.Verdict:
    """The chain (``audit.verify``, on from ``since``'s last entry if given) and every
    anchor of ``files``: the earliest problem."""
    chain = audit.verify(db, since)
    anchors: list[dict[str, Any]] = []
    for path in files:
        if not path.exists():
            continue
        if key is None:
            return audit.Verdict(chain.checked, chain.broken_at, chain.problem or
                                 f"有外部锚点文件 {path}，但没有密钥（{KEY_FILE} 或 ${KEY_ENV}），"
                                 "无法校验")
        for n, line in enumerate(path.read_text("utf-8", "replace").splitlines(), 1):
            item = _parse(key, line)
            if item is None:
                return audit.Verdict(chain.checked, chain.broken_at, chain.problem or
                                     f"外部锚点文件 {path} 第 {n} 行无法读取或签名不符（被伪造、"
                                     "改动，或密钥不对）")
            anchors.append(item)
    mismatch = _first_mismatch(db, anchors)
    if mismatch and (chain.broken_at is None or mismatch[0] < chain.broken_at):
        return audit.Verdict(chain.checked, mismatch[0], mismatch[1], len(anchors))
    return audit.Verdict(chain.checked, chain.broken_at, chain.problem, len(anchors),
                         chain.sound)


def _first_mismatch(db: Storage, anchors: list[dict[str, Any]]) -> tuple[int, str] | None:
    by_seq = sorted({(int(a["seq"]), str(a["hash"]), str(a["at"])) for a in anchors})
    seqs = sorted({s for s, _, _ in by_seq})
    found: dict[int, str | None] = {}
    with db.read() as conn:
        for start in range(0, len(seqs), 500):
            chunk = seqs[start:start + 500]
            found.update({int(r[0]): r[1] for r in conn.execute(
                f"SELECT seq, hash FROM changes WHERE seq IN ({','.join('?' * len(chunk))})",
                chunk)})
    sound = 0  # the last anchored entry that still matches
    for seq, digest, at in by_seq:
        if seq not in found:
            return seq, (f"{at[:19]} 签署的外部锚点记录的第 {seq} 条记录已不存在"
                         "（被删除，或日志末尾被截断）")
        if found[seq] != digest:
            return seq, (f"第 {seq} 条记录的哈希与 {at[:19]} 签署的外部锚点不符：第 {sound + 1}"
                         f"–{seq} 条之间有记录在锚定后被改写（哈希链被重新计算过）")
        sound = seq
    return None


def describe(verdict: audit.Verdict) -> str:
    """The verdict in words, for the command line and the audit page."""
    if verdict.ok:
        return (f"审计日志完好：{verdict.checked} 条记录，哈希链无断点；"
                f"外部锚点 {verdict.anchors} 个，均相符")
    if verdict.broken_at is None:
        return f"审计日志的外部锚点有问题：{verdict.problem}"
    return f"审计日志在第 {verdict.broken_at} 条记录处断开：{verdict.problem}"


class Anchoring:
    """One server process's anchoring: its key and files, and the last verdict (the audit
    page shows it; the timer renews it at most every CHECK_EVERY_S)."""

    def __init__(self, db: Storage, data_dir: Path, configured_key: str | None,
                 copy_dir: Path | None) -> None:
        self.db = db
        self.key = load_key(data_dir, configured_key)
        self.files = anchor_files(data_dir, copy_dir)
        self._lock = threading.Lock()
        self._verdict: tuple[float, str, audit.Verdict] | None = None
        self._walked = 0.0  # time.monotonic() of the last walk of the whole chain

    def anchor(self) -> int | None:
        return anchor(self.db, self.key, self.files)

    def verdict(self, fresh: bool = False, walk: bool = True) -> tuple[str, audit.Verdict]:
        """(when checked, the verdict): the last one, unless ``fresh`` or none yet. A fresh
        check walks the whole chain, or with ``walk`` False after a sound verdict, only the
        entries since."""
        with self._lock:
            if fresh or self._verdict is None:
                last = self._verdict[2] if self._verdict else None
                since = None if walk or last is None or not last.ok else last
                now = time.monotonic()
                self._verdict = (now, utc_now(), check(self.db, self.key, self.files, since))
                if since is None:
                    self._walked = now
            return self._verdict[1], self._verdict[2]

    def on_timer(self) -> None:
        self.anchor()
        now = time.monotonic()
        if self._verdict is None or now - self._verdict[0] > CHECK_EVERY_S:
            _, verdict = self.verdict(fresh=True, walk=now - self._walked > WALK_EVERY_S)
            if not verdict.ok:
                log.error("%s", describe(verdict))

"""The tablet's own check at start-up: is the local database sound, and is every photo and
signature still waiting for upload intact? When not, the work not yet sent is copied to a
rescue folder *before* anything else touches the data, and the user is told where it is.

    report = check(data_dir)            # before the replica is opened
    if not report.ok:
        folder = rescue(data_dir)       # unsent changes (JSON) and their files

Both read the database row by row, so a damaged one still gives up whatever it can;
neither writes to it, and neither makes a key where there is none.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlcipher3.dbapi2 import Connection, Row

from fieldapp.errors import FieldAppError
from fieldapp.local_time import LOCAL_ZONE
from fieldapp.replica.db_key import database_key
from fieldapp.replica.sealed import file_key, is_sealed, unseal
from fieldapp.replica.store import DB_FILE, DatabaseError, connect

RESCUE_DIR = "rescue"
# SQLCipher reports a page that fails its authentication check as "out of memory".
READ_ERRORS = (*DatabaseError, MemoryError)


@dataclass
class Report:
    # (code, detail): database_unopenable, database_damaged, file_missing, file_damaged
    problems: list[tuple[str, str]] = field(default_factory=list)
    unsent: int = 0  # changes not yet accepted by the server

    @property
    def ok(self) -> bool:
        return not self.problems


def check(data_dir: Path | str) -> Report:
    """The database's own consistency check, then the files of unsent attachments."""
    data_dir = Path(data_dir)
    report = Report()
    path = data_dir / DB_FILE
    if not path.exists():
        return report  # a new tablet: nothing to check yet
    try:
        conn = _open(data_dir)
    except (*DatabaseError, FieldAppError) as exc:
        report.problems.append(("database_unopenable", str(exc)))
        return report
    try:
        try:
            verdict = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
        except READ_ERRORS as exc:
            verdict = [str(exc)]
        if verdict != ["ok"]:
            report.problems.append(("database_damaged", "; ".join(verdict[:3])))
        report.unsent = _count(conn, "SELECT count(*) FROM outbox WHERE state = 'pending'")
        for sha in _unsent_files(conn):
            file = data_dir / "blobs" / sha[:2] / sha
            if not file.exists():
                report.problems.append(("file_missing", sha))
            elif not _content(data_dir, file, sha)[1]:
                report.problems.append(("file_damaged", sha))
    finally:
        conn.close()
    return report


def rescue(data_dir: Path | str) -> Path:
    """Copy the unsent work out: ``rescue/<time>/unsent.json`` (every outbox entry not yet
    accepted, with the record as it stands) and the files those entries name. Whatever
    cannot be read is listed as such; the rest is still saved."""
    data_dir = Path(data_dir)
    folder = data_dir / RESCUE_DIR / datetime.now(LOCAL_ZONE).strftime("%Y%m%d-%H%M%S")
    (folder / "files").mkdir(parents=True, exist_ok=True)
    saved: dict[str, Any] = {"made_at": datetime.now(LOCAL_ZONE).isoformat(timespec="seconds"),
                             "changes": [], "unreadable": [], "files": []}
    try:
        conn = _open(data_dir)
    except (*DatabaseError, FieldAppError) as exc:
        saved["unreadable"].append(f"database: {exc}")
        conn = None
    if conn is not None:
        try:
            for entry in _outbox(conn, saved["unreadable"]):
                entry["record"] = _record(conn, entry.get("tbl"), entry.get("record_id"),
                                          saved["unreadable"])
                saved["changes"].append(entry)
        finally:
            conn.close()
    for sha in {c["record"].get("sha256") for c in saved["changes"]
                if c.get("tbl") == "attachments" and isinstance(c.get("record"), dict)}:
        source = data_dir / "blobs" / str(sha)[:2] / str(sha)
        if sha and source.exists():
            # Decrypted where it can be: the rescue is read on another machine.
            content, intact = _content(data_dir, source, str(sha))
            (folder / "files" / str(sha)).write_bytes(content)
            saved["files"].append({"sha256": sha, "intact": intact})
    (folder / "unsent.json").write_text(json.dumps(saved, ensure_ascii=False, indent=1),
                                        encoding="utf-8")
    return folder


def _open(data_dir: Path) -> Connection:
    conn = connect(data_dir / DB_FILE, database_key(data_dir, create=False), readonly=True)
    conn.row_factory = Row
    return conn


def _outbox(conn: Connection, unreadable: list[str]) -> list[dict[str, Any]]:
    """Outbox entries not yet applied, one at a time so a damaged page loses only itself."""
    try:
        seqs = [r[0] for r in conn.execute(
            "SELECT seq FROM outbox WHERE state = 'pending' ORDER BY seq")]
    except READ_ERRORS as exc:
        unreadable.append(f"outbox: {exc}")
        return []
    out = []
    for seq in seqs:
        try:
            row = conn.execute("SELECT * FROM outbox WHERE seq = ?", [seq]).fetchone()
            out.append(dict(row))
        except READ_ERRORS as exc:
            unreadable.append(f"outbox {seq}: {exc}")
    return out


def _record(conn: Connection, table: Any, record_id: Any,
            unreadable: list[str]) -> dict[str, Any] | None:
    if not isinstance(table, str) or not table.isidentifier():
        return None
    try:
        row = conn.execute(f'SELECT * FROM "{table}" WHERE id = ?', [record_id]).fetchone()
    except READ_ERRORS as exc:
        unreadable.append(f"{table} {record_id}: {exc}")
        return None
    return dict(row) if row else None


def _unsent_files(conn: Connection) -> list[str]:
    try:
        return [r[0] for r in conn.execute(
            "SELECT DISTINCT a.sha256 FROM attachments a JOIN outbox o"
            " ON o.tbl = 'attachments' AND o.record_id = a.id WHERE o.state = 'pending'")]
    except READ_ERRORS:
        return []


def _count(conn: Connection, sql: str) -> int:
    try:
        return int(conn.execute(sql).fetchone()[0])
    except READ_ERRORS:
        return 0


def _content(data_dir: Path, path: Path, sha: str) -> tuple[bytes, bool]:
    """The file's content (decrypted) and whether it is intact; as stored when it fails
    its authentication check."""
    raw = path.read_bytes()
    key = database_key(data_dir, create=False) if is_sealed(raw) else None
    try:
        content = unseal(raw, file_key(key) if key else None, sha)
    except FieldAppError:
        return raw, False
    return content, hashlib.sha256(content).hexdigest() == sha

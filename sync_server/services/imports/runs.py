"""An import started from the office: the uploaded file kept under the data folder, checked,
then (when the operator says so) written, each step in a background thread so the page can
show a progress bar, and nothing written before the operator runs it.

Each run is a folder ``imports/<id>/`` holding the file and ``run.json``, its state and
progress, so whichever worker process serves the page reads the same state. A run whose
process died (its heartbeat stopped) is shown as interrupted: the write is one transaction,
so an interrupted run wrote nothing. Running the same run twice (two clicks, two workers)
does no harm: the second finds every record unchanged (imports are idempotent).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fieldapp.local_time import now_iso
from sync_server.services.imports import progress
from sync_server.services.imports.kinds import KINDS
from sync_server.services.imports.mapping import resolve, save_mapping, saved_mapping
from sync_server.services.imports.rows import Checked
from sync_server.services.imports.table_file import FileRefused, Table, read_table
from sync_server.storage.db import Storage

log = logging.getLogger("fieldapp.server")
FOLDER = "imports"
STATE = "run.json"
SHOWN = 200  # problems kept for the page; the rest are counted
SAMPLE = 8  # rows shown in the preview
BEAT = 2.0  # seconds between heartbeats of a working run
STALE = 30.0  # seconds without a heartbeat: the process that ran it is gone
SAVE_EVERY = 0.3  # seconds between two progress saves
WORKING = ("checking", "running")
RUN_ID = "[0-9a-f]{16}"


@dataclass
class Run:
    id: str
    kind: str
    filename: str
    by_user: str
    source: str = ""
    created_at: str = field(default_factory=now_iso)
    state: str = "checking"  # → checked → running → done, or failed
    phase: str = "读取文件"
    done: int = 0
    total: int = 0
    headers: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    mapping_problems: list[str] = field(default_factory=list)
    sample: list[list[str]] = field(default_factory=list)
    rows: int = 0
    bad_rows: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    summary: str = ""
    mode: str = ""  # "all" (one bad row stops it) or "good" (the good rows go in)
    said: str = ""
    error: str = ""
    beat: float = field(default_factory=time.time)

    @property
    def interrupted(self) -> bool:
        return self.state in WORKING and time.time() - self.beat > STALE

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0


class Runs:
    """The runs under a data folder, and the threads that work on them in this process."""

    def __init__(self, data_dir: Path, db: Storage) -> None:
        self.root = data_dir / FOLDER
        self.db = db
        self._lock = threading.Lock()

    def folder(self, run_id: str) -> Path:
        return self.root / run_id

    def new(self, kind: str, filename: str, by_user: str, source: str) -> Run:
        run = Run(secrets.token_hex(8), kind, filename, by_user, source.strip())
        self.folder(run.id).mkdir(parents=True)
        self.save(run)
        return run

    def file(self, run: Run) -> Path:
        return self.folder(run.id) / ("upload" + Path(run.filename).suffix.lower())

    def load(self, run_id: str) -> Run | None:
        try:
            data = json.loads((self.folder(run_id) / STATE).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return Run(**data)

    def recent(self, limit: int = 20) -> list[Run]:
        if not self.root.is_dir():
            return []
        found = [r for r in (self.load(p.name) for p in self.root.iterdir()) if r]
        return sorted(found, key=lambda r: r.created_at, reverse=True)[:limit]

    def save(self, run: Run) -> None:
        """Atomically, so a page never reads half a state."""
        with self._lock:
            path = self.folder(run.id) / STATE
            tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(asdict(run), ensure_ascii=False), "utf-8")
            os.replace(tmp, path)

    # -- the two steps, each in a thread -------------------------------------------------

    def check(self, run: Run, given: dict[str, str] | None = None) -> threading.Thread:
        """Read the file and check every row (a dry run: nothing is written)."""
        run.state, run.phase, run.done, run.total, run.error = "checking", "读取文件", 0, 0, ""
        self.save(run)
        return self._start(run, lambda: self._check(run, given))

    def run(self, run: Run, mode: str) -> threading.Thread:
        """Write the file's rows: all or nothing (``all``) or the good rows (``good``)."""
        run.state, run.mode, run.phase, run.done, run.total = "running", mode, "读取文件", 0, 0
        self.save(run)
        return self._start(run, lambda: self._write(run))

    def _start(self, run: Run, work: Callable[[], None]) -> threading.Thread:
        thread = threading.Thread(target=self._work, args=(run, work), daemon=True,
                                  name=f"import-{run.id}")
        thread.start()
        return thread

    def _work(self, run: Run, work: Callable[[], None]) -> None:
        stop = threading.Event()
        last_save = [0.0]

        def heartbeat() -> None:
            while not stop.wait(BEAT):
                run.beat = time.time()
                self.save(run)

        def listen(phase: str, done: int, total: int) -> None:
            run.phase, run.done, run.total, run.beat = phase, done, total, time.time()
            if time.monotonic() - last_save[0] >= SAVE_EVERY:
                last_save[0] = time.monotonic()
                self.save(run)

        beating = threading.Thread(target=heartbeat, daemon=True)
        beating.start()
        try:
            with progress.listening(listen):
                work()
        except FileRefused as exc:
            run.state, run.error = "failed", f"文件无法导入：{exc}"
        except Exception as exc:  # noqa: BLE001 - said on the page, the run is over
            run.state, run.error = "failed", f"导入中断，没有写入任何内容（{type(exc).__name__}）"
            log.exception("import %s failed", run.id)
        finally:
            stop.set()
            beating.join()
            run.beat = time.time()
            if run.state in ("done", "failed"):  # over: its upload (up to 200 MB) is not kept
                self.file(run).unlink(missing_ok=True)
            self.save(run)

    def _table(self, run: Run) -> Table:
        return read_table(self.file(run))

    def _check(self, run: Run, given: dict[str, str] | None) -> None:
        table = self._table(run)
        kind = KINDS[run.kind]
        with self.db.read() as conn:
            saved = saved_mapping(conn, f"{run.kind}.{run.source}") if run.source else {}
            run.headers = table.headers
            run.mapping, run.mapping_problems = resolve(table.headers, given or {}, saved,
                                                        kind.fields, whole=given is not None)
            run.sample = [cells for _, cells in table.rows[:SAMPLE]]
            if run.mapping_problems:
                run.state = "checked"
                return
            plan = kind.check(conn, table, run.mapping)
        self._tally(run, plan)
        run.state = "checked"

    def _tally(self, run: Run, plan: Checked) -> None:
        run.rows, run.bad_rows = plan.rows, len(plan.bad_rows)
        run.problems = [str(p) for p in plan.problems[:SHOWN]]
        run.problem_count, run.summary = len(plan.problems), plan.summary()

    def _write(self, run: Run) -> None:
        table = self._table(run)
        kind = KINDS[run.kind]
        with self.db.write() as conn:
            plan = kind.check(conn, table, run.mapping)  # again: the data may have moved on
            self._tally(run, plan)
            if plan.problems and run.mode != "good":  # back to the preview, to choose again
                run.state, run.error = "checked", (f"有 {run.bad_rows} 行有问题，什么都没有写入"
                                                   "（可以只导入没问题的行）")
                return
            run.said = kind.apply(conn, plan, by_user=run.by_user)
            if run.source:
                save_mapping(conn, f"{run.kind}.{run.source}", run.mapping)
        run.state = "done"


def parse_mapping(form: dict[str, Any], fields: list[str]) -> dict[str, str]:
    """The operator's choice of column per field, from the preview's form (``map.<field>``)."""
    return {name: str(form[f"map.{name}"]) for name in fields
            if isinstance(form.get(f"map.{name}"), str) and form[f"map.{name}"]}

"""The operations layer's runner: one database worker, a pool for slow work, results on the UI
thread, and the UI thread itself never running SQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from pytestqt.qtbot import QtBot

from fieldapp.errors import InvalidInput
from fieldapp.replica import Replica
from fieldapp.ui import ops
from fieldapp.ui.demo_seed import Seeded
from fieldapp.ui.main_window import MainWindow
from fieldapp.ui.taskman import BUSY_AFTER_MS, SlowOp, TaskManager
from tests.ui.ui_helpers import finished, move_button, open_tab, tap


@pytest.fixture
def tasks(qtbot: QtBot, data_dir: Path, seeded: Seeded) -> Iterator[TaskManager]:
    replica = Replica.open(data_dir)
    manager = TaskManager(replica)
    yield manager
    manager.shutdown()
    replica.close()


def test_reads_run_on_the_one_database_worker(tasks: TaskManager) -> None:
    where = tasks.call(lambda: threading.current_thread().name)
    assert where.startswith("fieldapp-db") and where != threading.current_thread().name
    # From the worker itself a call runs inline instead of waiting for itself.
    assert tasks.call(lambda: tasks.call(lambda: threading.current_thread().name)) == where
    assert tasks.call_replica(ops.today_jobs) == tasks.replica.jobs.today()


def test_a_slow_op_alternates_worker_and_pool_and_ends_on_the_ui_thread(
        tasks: TaskManager) -> None:
    seen: list[tuple[str, object]] = []

    def on_db(replica: Replica, value: object = None) -> str:
        seen.append((threading.current_thread().name, value))
        return "read"

    def in_pool(value: str) -> str:
        seen.append((threading.current_thread().name, value))
        return value + "+worked"

    delivered: list[str] = []
    task = tasks.run(SlowOp[str]("x").db(on_db).work(in_pool).db(
        lambda r, v: on_db(r, v) and v + "+stored"))
    task.success(lambda v: delivered.append(threading.current_thread().name))
    assert task.wait() == "read+worked+stored"
    assert [name.split("_")[0] for name, _ in seen] == [
        "fieldapp-db", "fieldapp-slow", "fieldapp-db"]
    assert [value for _, value in seen] == [None, "read", "read+worked"]
    assert delivered == [threading.current_thread().name]  # the UI thread


def test_a_failing_step_stops_the_op_and_reaches_its_failure_handler(
        tasks: TaskManager) -> None:
    after: list[str] = []
    failures: list[BaseException] = []

    def refuse(value: None) -> None:
        raise InvalidInput("no_barcode", "no barcode found in the image")

    task = tasks.run(SlowOp[str]().work(lambda: None).work(refuse).db(
        lambda r, v: after.append("stored")))
    task.failure(failures.append).then(lambda: after.append("cleaned"))
    with pytest.raises(InvalidInput):
        task.wait()
    assert after == ["cleaned"]  # the later step never ran, the clean-up did
    assert [type(e) for e in failures] == [InvalidInput]
    assert tasks.idle


def test_the_busy_bar_speaks_only_for_work_that_takes_a_while(
        qtbot: QtBot, tasks: TaskManager) -> None:
    said: list[str] = []
    tasks.busy_changed.connect(said.append)
    tasks.run(SlowOp[None]("正在生成PDF…").work(lambda: None)).wait()
    assert "正在生成PDF…" not in said  # done long before the bar would show

    gate = threading.Event()
    task = tasks.run(SlowOp[None]("正在生成PDF…").work(lambda: gate.wait(10)))
    qtbot.waitUntil(lambda: "正在生成PDF…" in said, timeout=BUSY_AFTER_MS * 3)
    gate.set()
    task.wait()
    assert said[-1] == ""  # hidden again


def test_the_ui_stays_free_while_a_slow_step_runs(qtbot: QtBot, tasks: TaskManager) -> None:
    """While the pool works, the database worker still answers the UI's reads at once."""
    gate = threading.Event()
    task = tasks.run(SlowOp[None]("slow").work(lambda: gate.wait(10)))
    started = time.monotonic()
    assert tasks.call_replica(ops.sync_status).pending == 0
    assert time.monotonic() - started < 1
    gate.set()
    task.wait()


def test_the_ui_thread_never_runs_sql(qtbot: QtBot, window: MainWindow, seeded: Seeded,
                                      tmp_path: Path) -> None:
    """Every statement the app's connection runs, through a real day's taps: none on the UI
    thread (SQLite calls the trace on the thread that runs the statement)."""
    window.ctx.tasks.call(window.ctx.replica.set_state, "token", "stored-token")
    threads: set[str] = set()
    window.ctx.replica.db.conn.set_trace_callback(
        lambda _sql: threads.add(threading.current_thread().name))
    photo = tmp_path / "meter.png"
    Image.new("RGB", (1200, 900), (90, 120, 60)).save(photo)

    window.reload()
    window.open_job(seeded.job_ids[0])
    tap(qtbot, move_button(window, "accepted"))
    open_tab(qtbot, window, window.job_page.evidence)
    assert finished(window.job_page.evidence.attach_file(photo))
    with qtbot.waitSignal(window.controller.sync_finished, timeout=10_000):
        tap(qtbot, window.top_bar.sync)  # no server: its first replica steps still run
    window.show_problems()

    assert threads, "the trace saw no statement"
    assert threading.current_thread().name not in threads
    assert {name.split("_")[0] for name in threads} == {"fieldapp-db"}


def test_the_window_shows_what_runs_in_the_background(qtbot: QtBot,
                                                      window: MainWindow) -> None:
    gate = threading.Event()
    task = window.ctx.slow(SlowOp[None]("正在生成今日地图…").work(
        lambda: gate.wait(10)))
    assert not window.busy.isVisible()
    qtbot.waitUntil(window.busy.isVisible, timeout=BUSY_AFTER_MS * 3)
    assert window.busy.format() == "正在生成今日地图…"
    assert window.job_page.isEnabled() and window.today.isEnabled()  # nothing is locked
    gate.set()
    task.wait()
    assert not window.busy.isVisible()


def test_a_step_that_ends_at_once_still_reaches_the_handlers_attached_after_run(
        tasks: TaskManager) -> None:
    """A step can end before its done-callback is attached (the callback then runs on the
    UI thread at once): the handlers a screen attaches right after run() must still be
    called, for a success and for a refusal."""
    def refuse() -> None:
        raise InvalidInput("no_barcode", "no barcode found in the image")

    got: list[object] = []
    quick = tasks.run(SlowOp[int]().work(lambda: 7))
    failing = tasks.run(SlowOp[None]().work(refuse))
    time.sleep(0.3)  # both pool steps are over before any handler is attached
    quick.success(got.append)
    failing.failure(lambda e: got.append(type(e).__name__))
    assert quick.wait() == 7
    with pytest.raises(InvalidInput):
        failing.wait()
    assert got == [7, "InvalidInput"]
    late: list[object] = []
    quick.success(late.append).failure(late.append)  # attached after the end: called at once
    assert late == [7]

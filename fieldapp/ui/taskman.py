"""One database worker for the whole app, a pool for slow work, results back on the UI thread.

The tablet's replica is one SQLite connection, used by exactly one thread: the database
worker. The UI thread asks it for reads and short writes through :meth:`TaskManager.call`
(it waits, but only for a few milliseconds of SQL); the sync thread asks the same way for
each of its steps, so tablet and sync share one connection and one clock. Work that takes
long without the database (watermarking a photo, decoding a barcode, rendering a PDF or the
map) runs as a :class:`SlowOp` whose steps alternate: database steps on the worker, the
slow middle in the pool, so the worker stays free for the UI meanwhile. A finished op comes
back to the UI thread through one signal, as Anki's ``taskman`` does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Signal, Slot

log = logging.getLogger("fieldapp.ui.tasks")

T = TypeVar("T")
# How long a slow op may run before the UI says it is working on it: quicker ones would
# only flash a bar.
BUSY_AFTER_MS = 600


@dataclass(frozen=True)
class Step:
    on_db: bool  # True: runs on the database worker with the replica first; False: in the pool
    fn: Callable[..., Any]


@dataclass
class SlowOp(Generic[T]):
    """Steps run in order, each given the one before's result (the first none).

    ``db(fn)`` steps are called as ``fn(replica, previous)`` (the first as ``fn(replica)``)
    on the database worker; ``work(fn)`` steps as ``fn(previous)`` in the pool, where they
    must not touch the replica. ``label`` is what the busy bar says while it runs.
    """

    label: str = ""
    steps: list[Step] = field(default_factory=list)

    def db(self, fn: Callable[..., Any]) -> SlowOp[T]:
        self.steps.append(Step(True, fn))
        return self

    def work(self, fn: Callable[..., Any]) -> SlowOp[T]:
        self.steps.append(Step(False, fn))
        return self


class Task(Generic[T]):
    """A running op, seen from the UI thread: done callbacks, clean-ups, and a wait for tests."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.finished = False
        self.result: T | None = None
        self.error: BaseException | None = None
        self._success: list[Callable[[T], object]] = []
        self._failure: list[Callable[[BaseException], object]] = []
        self._after: list[Callable[[], object]] = []

    def success(self, fn: Callable[[T], object]) -> Task[T]:
        if self.finished:  # handed its result at once, as then() does
            if self.error is None:
                fn(self.result)  # type: ignore[arg-type]  # T, set with finished
        else:
            self._success.append(fn)
        return self

    def failure(self, fn: Callable[[BaseException], object]) -> Task[T]:
        if self.finished:
            if self.error is not None:
                fn(self.error)
        else:
            self._failure.append(fn)
        return self

    def then(self, fn: Callable[[], object]) -> Task[T]:
        """Run ``fn`` once the op ended, whatever the outcome (e.g. remove a temporary file)."""
        if self.finished:
            fn()
        else:
            self._after.append(fn)
        return self

    def wait(self, timeout_s: float = 60) -> T:
        """Turn the event loop until the op ended; its result, or its error raised. For tests
        and scripts: a screen never waits, it is called back."""
        if not self.finished:
            loop = QEventLoop()
            self.then(loop.quit)
            QTimer.singleShot(int(timeout_s * 1000), loop.quit)
            loop.exec()
        if not self.finished:
            raise TimeoutError(f"{self.label or 'task'} still running after {timeout_s} s")
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]  # T, set with finished

    def _finish(self, result: Any, error: BaseException | None) -> None:
        self.finished, self.result, self.error = True, result, error
        handlers: list[Callable[..., object]] = self._failure if error else self._success
        for fn in handlers:
            fn(error if error else result)
        for after in self._after:
            after()


class TaskManager(QObject):
    """Owns the database worker and the slow-work pool; created and used on the UI thread."""

    busy_changed = Signal(str)  # the label of the slow op the UI should say it works on, or ""
    _deliver = Signal(object)  # a callable to run on the UI thread

    def __init__(self, replica: Any, *, slow_workers: int = 2) -> None:
        super().__init__()
        self.replica = replica
        self._db_thread: threading.Thread | None = None
        self._db = ThreadPoolExecutor(1, "fieldapp-db", initializer=self._mark_db_thread)
        self._pool = ThreadPoolExecutor(slow_workers, "fieldapp-slow")
        # Queued even from the UI thread: a step can end before its done-callback is attached
        # (the callback then runs at once, here), and the caller must get to attach its
        # success and failure handlers before the task is finished.
        self._deliver.connect(self._run_delivered, Qt.ConnectionType.QueuedConnection)
        self._running: list[Task[Any]] = []
        self._busy_timer = QTimer(self)
        self._busy_timer.setSingleShot(True)
        self._busy_timer.timeout.connect(self._say_busy)
        self._closed = False

    def _mark_db_thread(self) -> None:
        self._db_thread = threading.current_thread()

    @property
    def on_db_thread(self) -> bool:
        return threading.current_thread() is self._db_thread

    # -- the database worker ----------------------------------------------------------------
    def call(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on the database worker, waited for; errors raised here.

        Meant for reads and short writes; from the worker itself it simply runs."""
        if self.on_db_thread:
            return fn(*args, **kwargs)
        if self._closed:
            raise RuntimeError("the database worker is shut down")
        return self._db.submit(fn, *args, **kwargs).result()

    def call_replica(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        """An op from ``ops`` (``fn(replica, **kwargs)``) on the database worker."""
        return self.call(lambda: fn(self.replica, **kwargs))

    # -- slow ops ---------------------------------------------------------------------------
    def run(self, op: SlowOp[T]) -> Task[T]:
        """Start ``op``; its task is called back on the UI thread when it ends."""
        task: Task[T] = Task(op.label)
        self._running.append(task)
        if op.label and not self._busy_timer.isActive():
            self._busy_timer.start(BUSY_AFTER_MS)
        self._next(task, op.steps, 0, None)
        return task

    def _next(self, task: Task[Any], steps: list[Step], i: int, value: Any) -> None:
        if i == len(steps):
            self._deliver.emit(lambda: self._ended(task, value, None))
            return
        step = steps[i]
        if step.on_db:
            args = (self.replica,) if i == 0 else (self.replica, value)
            future = self._db.submit(step.fn, *args)
        else:
            future = self._pool.submit(step.fn, *(() if i == 0 else (value,)))

        def went_on(f: Future[Any]) -> None:
            error = f.exception()
            if error is not None:
                self._deliver.emit(lambda: self._ended(task, None, error))
            else:
                self._next(task, steps, i + 1, f.result())

        future.add_done_callback(went_on)

    def _ended(self, task: Task[Any], result: Any, error: BaseException | None) -> None:
        self._running.remove(task)
        try:
            task._finish(result, error)
        finally:
            self._say_busy()

    def _say_busy(self) -> None:
        labelled = [t.label for t in self._running if t.label]
        if labelled and not self._busy_timer.isActive():
            self.busy_changed.emit(labelled[-1])
        elif not labelled:
            self._busy_timer.stop()
            self.busy_changed.emit("")

    def run_on_main(self, fn: Callable[[], object]) -> None:
        """Call ``fn`` on the UI thread (from any thread), soon after."""
        self._deliver.emit(fn)

    @Slot(object)
    def _run_delivered(self, fn: Callable[[], object]) -> None:
        fn()

    @property
    def idle(self) -> bool:
        return not self._running

    def wait_idle(self, timeout_s: float = 60) -> None:
        """Let every running op end (for shutting down and for tests)."""
        for task in list(self._running):
            try:
                task.wait(timeout_s)
            except Exception:  # its own callbacks reported it; shutting down goes on
                log.debug("task %s ended with an error", task.label, exc_info=True)

    def shutdown(self) -> None:
        """Finish running ops, then stop both threads; the replica may be closed after."""
        self.wait_idle()
        self._closed = True
        self._pool.shutdown(wait=True)
        self._db.shutdown(wait=True)

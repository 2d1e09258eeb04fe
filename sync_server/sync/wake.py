"""Waking an online tablet: a long poll answered as soon as the device's scope has news
after its cursor, so an emergency dispatched to a technician reaches their tablet in
seconds, not at its next timed sync.

One watcher per server process reads the head of the change log every ``WATCH_EVERY``
seconds (one cheap query however many tablets wait). When the head moves, every waiter
checks its own scope with the clause pull uses (``pull.has_news``), so a wake never tells
a device of a record it may not see. Reading the head, rather than being told by the
writer, keeps this right with several worker processes and with PostgreSQL, where another
process wrote the change.

A device waits at most once per process: a second wait from the same device (a tablet that lost the
first connection without noticing) answers the first. The process holds at most
``MAX_WAITERS``; one more is refused (429) and the tablet falls back to its timed sync.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from sync_server.errors import ApiError
from sync_server.storage.db import Storage

log = logging.getLogger("fieldapp.server.wake")

WATCH_EVERY = 0.5  # seconds between looks at the change log's head
MAX_HOLD = 25  # seconds a wait is held at most: under the usual 30 s proxy idle timeout
MAX_WAITERS = 2000


class Watcher:
    """The waiting devices of one server process and the task that watches for news."""

    def __init__(self, db: Storage, every: float = WATCH_EVERY,
                 max_waiters: int = MAX_WAITERS) -> None:
        self._db = db
        self._every = every
        self._max = max_waiters
        self._moved = asyncio.Event()  # set (and replaced) each time the head moves
        self._waiting: dict[str, asyncio.Event] = {}  # device id -> its "give up" event
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self._seen: int | None = None  # the head at the watcher's last look

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def wait(self, device_id: str, news: Callable[[], bool], hold: float) -> bool:
        """True as soon as ``news()`` (run on a worker thread) is; False after ``hold``
        seconds, when the same device waits again, or when the server shuts down."""
        if self._closing:
            return False
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a server reopened under a new loop (tests): start afresh
            self._loop, self._moved, self._waiting, self._task = loop, asyncio.Event(), {}, None
        earlier = self._waiting.pop(device_id, None)
        if earlier is not None:
            earlier.set()
        elif len(self._waiting) >= self._max:
            raise ApiError(429, "too_many_waiting",
                           "the server holds as many waiting tablets as it can; sync on the"
                           " timer instead", {"retry_after_s": MAX_HOLD})
        give_up = asyncio.Event()
        self._waiting[device_id] = give_up
        self._start()
        deadline = loop.time() + hold
        try:
            while not give_up.is_set():
                # Taken before the look, so a change landing during it still wakes us.
                moved = self._moved
                if await asyncio.to_thread(news):
                    return True
                remaining = deadline - loop.time()
                if remaining <= 0 or give_up.is_set():
                    return False
                await _first(moved, give_up, remaining)
                if not moved.is_set():
                    return False  # given up or held long enough
            return False
        finally:
            if self._waiting.get(device_id) is give_up:
                del self._waiting[device_id]

    def release_all(self) -> None:
        """Shutting down: answer every wait now, so none holds the shutdown back."""
        self._closing = True
        for give_up in self._waiting.values():
            give_up.set()
        if self._task is not None:
            self._task.cancel()

    def release_all_from_thread(self) -> None:
        """``release_all`` from outside the server's event loop (a signal handler, a test
        stopping a server it runs on a thread)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.release_all)
        else:
            self._closing = True

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        # The last head this process saw, not a fresh read: a change landing between a
        # waiter's first look and a fresh read would not count as a move.
        while self._waiting:
            await asyncio.sleep(self._every)
            try:
                now = await asyncio.to_thread(self._head)
            except Exception:  # a failed look is retried; the waits end on their hold
                log.exception("reading the change log's head failed")
                continue
            if now != self._seen:
                self._seen = now
                moved, self._moved = self._moved, asyncio.Event()
                moved.set()

    def _head(self) -> int:
        with self._db.read() as conn:
            return int(conn.execute("SELECT coalesce(max(seq), 0) FROM changes")
                       .fetchone()[0])


def release_on_exit(watcher: Watcher) -> None:
    """Answer every wait as soon as the server is told to stop (SIGINT, SIGTERM).

    uvicorn waits for open requests before it shuts the app down, so a held wait would
    keep a stopping server up for its whole grace period. Called from the app's startup,
    after uvicorn put its own handlers in place (in each worker process too): ours answers
    the waits, then hands the signal on to uvicorn's, which puts the originals back at exit.
    """
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set handlers (an app under a test client)
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)
        if not callable(previous):
            continue  # not under uvicorn: leave the default alone

        def handler(number: int, frame: FrameType | None,
                    previous: Callable[[int, FrameType | None], object] = previous) -> None:
            watcher.release_all_from_thread()
            previous(number, frame)

        signal.signal(sig, handler)


async def _first(moved: asyncio.Event, give_up: asyncio.Event, timeout: float) -> None:
    """Until the head moves, the wait is given up, or ``timeout`` seconds pass."""
    tasks = [asyncio.ensure_future(moved.wait()), asyncio.ensure_future(give_up.wait())]
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()

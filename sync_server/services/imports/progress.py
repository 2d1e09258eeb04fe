"""How far an import has got, for the office's progress bar: the checking loop and the writes
report here, and whoever runs the import listens. A context variable rather than a parameter
through every kind's check and apply, because only the office's runner listens and the
command line (and every test of a kind) runs the same code without one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Listener = Callable[[str, int, int], None]  # phase, done, total
_listener: ContextVar[Listener | None] = ContextVar("import_progress", default=None)


def report(phase: str, done: int, total: int) -> None:
    listener = _listener.get()
    if listener is not None:
        listener(phase, done, total)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)

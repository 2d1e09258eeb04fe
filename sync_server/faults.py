"""Fault injection for the fault tests, switched on only by ``FIELDAPP_FAULTS``.

``FIELDAPP_FAULTS=kill_in_push:3`` makes the server SIGKILL itself after applying the
third mutation of a push, before the batch commits: the real crash the tests need,
at a point that is otherwise too short to hit from outside. ``disk_full:N`` makes the
N-th attachment write fail with ENOSPC after writing half its bytes, as a full disk does.
``snapshot_fails:N`` makes the first streamed snapshot's reading fail after its N-th table
(an error once the answer has begun); ``kill_in_snapshot:N`` SIGKILLs the server once it has
sent N lines of a streamed snapshot (a connection cut half way through the body).
``FIELDAPP_PASSWORD_CHECKS=<file>`` appends a line to the file for every password check
(argon2 verification), so a test can count them; ``FIELDAPP_PASSWORD_GATE=<file>`` holds
each password check until that file exists, so a test can keep one open while it does
something else. Unset in production.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from pathlib import Path
from typing import BinaryIO


def _parse(spec: str) -> dict[str, int]:
    faults = {}
    for part in filter(None, spec.split(",")):
        name, _, value = part.partition(":")
        faults[name.strip()] = int(value or 1)
    return faults


FAULTS = _parse(os.environ.get("FIELDAPP_FAULTS", ""))


def after_mutation(applied: int) -> None:
    if FAULTS.get("kill_in_push") == applied:
        os.kill(os.getpid(), signal.SIGKILL)


def snapshot_table(read: int) -> None:
    """Called by the streamed snapshot's reader after each table; fails once."""
    if FAULTS.get("snapshot_fails") == read:
        del FAULTS["snapshot_fails"]
        raise RuntimeError(f"the snapshot's reading failed after {read} tables (injected)")


def snapshot_line(sent: int) -> None:
    """Called by the streamed snapshot's answer before each table line, with how many
    lines it has handed on."""
    if FAULTS.get("kill_in_snapshot") == sent:
        os.kill(os.getpid(), signal.SIGKILL)


_writes = 0


def write(fh: BinaryIO, data: bytes) -> None:
    """``fh.write`` with the injected full disk."""
    global _writes
    _writes += 1
    if FAULTS.get("disk_full") == _writes:
        fh.write(data[: len(data) // 2])
        fh.flush()
        raise OSError(errno.ENOSPC, "No space left on device (injected)")
    fh.write(data)


_CHECKS = os.environ.get("FIELDAPP_PASSWORD_CHECKS")
_GATE = os.environ.get("FIELDAPP_PASSWORD_GATE")
GATE_LIMIT_S = 60  # a gate nobody opens does not hold a worker forever


def password_check() -> None:
    """Called by ``auth`` just before each argon2 verification."""
    if _CHECKS:
        with open(_CHECKS, "a") as fh:
            fh.write(f"{os.getpid()}\n")
    if _GATE:
        deadline = time.monotonic() + GATE_LIMIT_S
        while not Path(_GATE).exists() and time.monotonic() < deadline:
            time.sleep(0.02)

"""CPU seconds spent by the server, PostgreSQL and the benchmark itself, read from /proc
(Linux): where a benchmark's load generator shares the machine with the server, how much
of the machine each used tells a lock's wait from a machine that is simply full."""

from __future__ import annotations

import os
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def stat(pid: int) -> tuple[int, str, float]:
    """A process's parent pid, command name and CPU seconds so far (user + system)."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    name = raw[raw.index("(") + 1:raw.rindex(")")]  # the name may hold spaces and brackets
    fields = raw[raw.rindex(")") + 2:].split()
    return int(fields[1]), name, (int(fields[11]) + int(fields[12])) / _TICK


def _processes() -> dict[int, tuple[int, str, float]]:
    """pid → ``stat(pid)`` of every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            found[int(entry.name)] = stat(int(entry.name))
        except OSError:  # ended meanwhile
            continue
    return found


def sample(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of: the server and its workers (``server_pid``'s descendants),
    PostgreSQL's processes, and this process."""
    procs = _processes()
    under = {server_pid}
    grew = True
    while grew:
        grew = False
        for pid, (parent, _, _) in procs.items():
            if parent in under and pid not in under:
                under.add(pid)
                grew = True
    use = {"server": 0.0, "PostgreSQL": 0.0, "benchmark": 0.0}
    for pid, (_, name, seconds) in procs.items():
        if pid in under:
            use["server"] += seconds
        elif name.startswith("postgres"):
            use["PostgreSQL"] += seconds
        elif pid == os.getpid():
            use["benchmark"] += seconds
    return use


def describe(before: dict[str, float], after: dict[str, float], wall_s: float) -> str:
    spent = {k: after[k] - before.get(k, 0.0) for k in after}
    cores = sum(spent.values()) / wall_s
    parts = ", ".join(f"{k} {v:.1f} s" for k, v in spent.items() if v > 0.05)
    return f"CPU while timed: {parts}; {cores:.2f} of {os.cpu_count()} cores busy"

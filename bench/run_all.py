"""Every benchmark, one after another, into docs/benchmarks.md (``make bench``).

Each benchmark prints its own figures with the baseline it measured in the same run and the
ratio; this runs them on a quiet machine, one at a time, and writes what each printed under
its command, with the machine it ran on. Only the ratios travel between machines.

Run: ``make bench`` (or ``PYTHONPATH=. .venv/bin/python bench/run_all.py [NAME ...]`` for
some of them, by the names in the table below; their sections replace the earlier ones).
"""

from __future__ import annotations

import os
import platform
import re
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "benchmarks.md"
TIMEOUT_S = 1800

# name → (the command's arguments after the interpreter, what it answers). In the order
# the performance issue's table asks for, then the rest. bench_portal.py (a million
# customers on PostgreSQL, about an hour) and the 1,000,000-customer import are run by hand.
BENCHES: dict[str, tuple[list[str], str]] = {
    "push-sqlite": (["bench/bench_push.py"], "push, SQLite, against plain executemany"),
    "push-pg": (["bench/bench_push.py", "--pg"], "push, PostgreSQL, same work"),
    "provision": (["bench/bench_provision.py"], "an empty tablet's first sync"),
    "fleet-sqlite": (["bench/bench_fleet.py"], "300 tablets at once, SQLite, 1 process"),
    "fleet-pg-scaling": (["bench/bench_fleet.py", "--scaling", "3"],
                         "300 tablets, PostgreSQL, 1 and 2 workers, 3 runs each"),
    "barcode": (["bench/bench_barcode.py"], "photographed labels: time and wrong readings"),
    "scan": (["bench/bench_scan.py"], "live camera frames"),
    "import": (["bench/bench_import.py"], "20,000 customers from a billing CSV"),
    "bulk-insert": (["bench/bench_bulk_insert.py"], "PostgreSQL many-row inserts"),
    "emergency-wake": (["bench/bench_emergency_wake.py"], "dispatch to a woken tablet"),
    "resume": (["bench/bench_resume.py"], "a 20 MB upload resumed at 50 %"),
    "photo": (["bench/bench_photo.py"], "evidence photo processing"),
    "encryption": (["bench/bench_encryption.py"], "the encrypted replica's cost"),
    "startup": (["bench/bench_startup.py"], "the tablet app's start on a full replica"),
    "ui-stall": (["bench/bench_ui_stall.py"], "UI-thread stall while a photo syncs"),
    "route": (["bench/bench_route.py"], "route planning"),
    "network": (["bench/bench_network.py"], "a district's gas network: check, build, isolate"),
    "route-roads": (["bench/bench_route_roads.py"], "a day's route along the roads vs as the"
                    " crow flies"),
    "demo-and-sync": (["bench/bench_demo_and_sync.py"], "demo data, seeding, first pull"),
    "abnormal-use": (["bench/abnormal_use_alerts.py"], "false alerts of abnormal use"),
}


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    mem = re.search(r"MemTotal:\s+(\d+)", _read("/proc/meminfo"))
    pg = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    return (f"{cpu}, {os.cpu_count()} cores, "
            f"{int(mem.group(1)) / 2**20:.0f} GiB" if mem else f"{cpu}, {os.cpu_count()} cores"
            ) + (f"; Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
                 f"{', PostgreSQL ' + pg[-1].parts[-3] if pg else ''}; {platform.platform()}")


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def run(name: str) -> str:
    args, what = BENCHES[name]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    print(f"== {name}: {' '.join(args)}", flush=True)
    start = time.monotonic()
    try:
        done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)
        # The servers' own request logs go to stderr; the figures are what stdout says.
        output = done.stdout.strip() or done.stderr.strip()[-2000:]
        status = "" if done.returncode == 0 else f" — failed with exit code {done.returncode}"
    except subprocess.TimeoutExpired:
        output, status = "", f" — stopped after {TIMEOUT_S} s"
    took = time.monotonic() - start
    print(output + status, flush=True)
    when = datetime.now().astimezone()
    return (f"## {name}: {what}\n\n`{' '.join(args)}`, {took:.0f} s, run {when:%Y-%m-%d %H:%M %Z}"
            f"{status}\n\n"
            f"```text\n{output}\n```\n")


def main() -> None:
    names = sys.argv[1:] or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        sys.exit(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(BENCHES)}")
    sections = _sections(OUT.read_text(encoding="utf-8")) if OUT.exists() else {}
    for name in names:
        sections[name] = run(name)
    head = ("# Benchmarks\n\nWritten by `make bench` (bench/run_all.py); each section is what"
            " the benchmark printed, its baseline measured in the same run.\n\n"
            f"Last written {datetime.now().astimezone():%Y-%m-%d %H:%M %Z} on {machine()}"
            " (`bench/run_all.py NAME` runs one section again; each says when it ran).\n\n")
    ordered = [sections[n] for n in BENCHES if n in sections]
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(head + "\n".join(ordered), encoding="utf-8")
    print(f"written to {OUT.relative_to(ROOT)}")


def _sections(text: str) -> dict[str, str]:
    """The sections of an earlier run, by name, kept when only some are run again."""
    parts = re.split(r"(?m)^(?=## )", text)
    # Each as run() wrote it (one newline at its end), so a section kept is not padded with
    # another blank line by every partial run.
    return {m.group(1): part.rstrip("\n") + "\n" for part in parts
            if (m := re.match(r"## ([\w-]+):", part))}


if __name__ == "__main__":
    main()

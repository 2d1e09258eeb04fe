"""What each test's server costs before it answers: its storage seeded, its process started.

Run by hand: ``PYTHONPATH=. .venv/bin/python bench/bench_test_server.py [--pg]``.

1. The test world in a new server's storage (tests/conftest.py ``seed_world``): copied from
   the process's seeded template (tests/seed_template.py), against the baseline in the same
   run, migrating and seeding it from nothing (what every test did before).
2. The CPU time of ``import sync_server.__main__`` in a new process (what a server start
   pays before it listens), against the same import plus the PDF renderers (reportlab),
   which the start loaded before they became lazy.

Each figure is the median of RUNS, the two sides interleaved so that a busy machine weighs
on both alike.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests import pg
from tests.conftest import WORLD, ServerProcess

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7
SERVER = "import sync_server.__main__"
WITH_PDF = SERVER + "; import fieldapp.reports.inspection_pdf, fieldapp.reports.repair_pdf"


def _timed(action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def seed_figures(root: Path) -> tuple[float, float]:
    """(median seconds from scratch, median seconds from the template)."""
    counter = iter(range(10_000))

    def fresh() -> ServerProcess:
        data = root / f"s{next(counter)}"
        data.mkdir()
        return ServerProcess(data)

    WORLD.apply(fresh())  # the template, made once (as by a test process's first server)
    scratch, copied = [], []
    for _ in range(RUNS):
        scratch.append(_timed(fresh()._seed_world))
        copied.append(_timed(lambda: WORLD.apply(fresh())))
    return statistics.median(scratch), statistics.median(copied)


def import_figures() -> tuple[float, float]:
    """(median CPU seconds with the renderers, median CPU seconds without). CPU, not wall
    time: on the shared 2-core machine the tests run on, a start's CPU is what it takes
    from the other worker, and wall time mostly measures the other users."""
    def run(code: str) -> float:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)

    eager, lazy = [], []
    for _ in range(RUNS):
        eager.append(run(WITH_PDF))
        lazy.append(run(SERVER))
    return statistics.median(eager), statistics.median(lazy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg", action="store_true", help="seed on a throwaway PostgreSQL")
    args = parser.parse_args()
    if args.pg:
        pg.current = pg.PgCluster.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            scratch, copied = seed_figures(Path(tmp))
        backend = "PostgreSQL" if args.pg else "SQLite"
        print(f"test world, {backend}: from the template {copied * 1000:.1f} ms, "
              f"migrated and seeded {scratch * 1000:.0f} ms (baseline), "
              f"ratio {copied / scratch:.2f}")
    finally:
        WORLD.drop()
        if pg.current:
            pg.current.stop()
    eager, lazy = import_figures()
    print(f"server import, CPU: {lazy * 1000:.0f} ms, with the PDF renderers"
          f" {eager * 1000:.0f} ms"
          f" (baseline), ratio {lazy / eager:.2f}")


if __name__ == "__main__":
    main()

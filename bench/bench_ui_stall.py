"""The longest UI-thread stall while a 12 MP photo is attached during a sync, against a real
server (SQLite, the tests' small world): now (the photo developed in the pool, every replica
step on the one database worker) against the previous design measured in the same run (the
photo developed and stored inline while the UI thread waits). Target: under 50 ms.

Run by hand: ``QT_QPA_PLATFORM=offscreen PYTHONPATH=. .venv/bin/python bench/bench_ui_stall.py``
(``--runs N``, 5 by default). Each run uses a fresh tablet synced once, with one photo
waiting to upload, so every sync uploads, pushes and pulls.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

from fieldapp.ui import theme  # noqa: E402
from fieldapp.ui.app import build_main_window  # noqa: E402
from fieldapp.ui.main_window import MainWindow  # noqa: E402
from tests.conftest import ServerProcess, synced_tablet  # noqa: E402
from tests.ui.stall import big_photo, photo_during_sync, photo_during_sync_inline  # noqa: E402


def one_run(server: ServerProcess, folder: Path,
            measure: Callable[[MainWindow, str, Path], float]) -> float:
    replica, _client = synced_tablet(server, folder / "tablet")
    try:
        replica.evidence.add_photo("job-2", big_photo(folder / "first.jpg"))
    finally:
        replica.close()
    window = build_main_window(folder / "tablet", server.url)
    window.show()
    QApplication.processEvents()
    try:
        return measure(window, "job-1", big_photo(folder / "meter.jpg"))
    finally:
        window.shutdown()
        window.deleteLater()
        QApplication.processEvents()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    theme.apply(app)
    figures: dict[str, list[float]] = {"before": [], "now": []}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "server"
        data.mkdir()
        server = ServerProcess(data)
        server.seed_world()
        server.start()
        try:
            for i in range(args.runs):
                for name, measure in (("before", photo_during_sync_inline),
                                      ("now", photo_during_sync)):
                    folder = Path(tmp) / f"{name}-{i}"
                    folder.mkdir()
                    figures[name].append(one_run(server, folder, measure))
        finally:
            server.stop()
    print(f"longest UI stall, photo (12 MP) attached during a sync, {args.runs} runs each")
    for name, label in (("before", "before: photo inline, UI thread waits"),
                        ("now", "now: pool + one database worker")):
        values = figures[name]
        print(f"  {label:40s} median {statistics.median(values):6.0f} ms"
              f"   worst {max(values):6.0f} ms")
    ratio = statistics.median(figures["before"]) / statistics.median(figures["now"])
    print(f"  ratio (median before / now): {ratio:.1f}x   target: now under 50 ms")


if __name__ == "__main__":
    main()

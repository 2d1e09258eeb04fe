"""The UI thread keeps answering while a 12 MP photo is developed and a sync runs against a
real server: the longest stall stays under 50 ms (the figures and the previous design's are
in ``bench/bench_ui_stall.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from fieldapp.ui.app import build_main_window
from fieldapp.ui.main_window import MainWindow
from tests.conftest import ServerProcess, synced_tablet
from tests.ui.stall import big_photo, photo_during_sync

STALL_LIMIT_MS = 50
ATTEMPTS = 3


@pytest.fixture
def tablet(qtbot: QtBot, tmp_path: Path, server: ServerProcess) -> Iterator[MainWindow]:
    """tech01's tablet, synced once, with one photo of job-2 still to upload."""
    data = tmp_path / "tablet"
    replica, _client = synced_tablet(server, data)
    try:
        replica.evidence.add_photo("job-2", big_photo(tmp_path / "first.jpg"))
    finally:
        replica.close()
    win = build_main_window(data, server.url)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()


def test_a_photo_and_a_sync_together_never_stall_the_ui(
        tablet: MainWindow, tmp_path: Path, server: ServerProcess) -> None:
    """Best of three tries: another process on the machine (a second test run, a browser)
    can steal the CPU for one try; a design that blocks the UI (the photo developed inline
    stalls it for 200 ms and more) fails all three."""
    stalls = []
    for attempt in range(ATTEMPTS):
        photo = big_photo(tmp_path / f"meter-{attempt}.jpg")
        stalls.append(photo_during_sync(tablet, "job-1", photo))
        if stalls[-1] < STALL_LIMIT_MS:
            break
    assert min(stalls) < STALL_LIMIT_MS, f"the UI stopped for {stalls} ms"
    replica = tablet.ctx.replica
    assert len(tablet.ctx.tasks.call(replica.evidence.photos, "job-1")) == len(stalls)
    assert server.scalar("SELECT count(*) FROM blobs") >= 1  # the first photo went up
    # The last photo's record either went with its sync or waits for the next one.
    assert tablet.ctx.tasks.call(replica.outbox.counts)["pending"] <= 1

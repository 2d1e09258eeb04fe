"""Fixtures for the tablet UI: a replica seeded without a server, and the real main window."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from fieldapp.replica import Replica
from fieldapp.ui import i18n, theme
from fieldapp.ui.app import build_main_window
from fieldapp.ui.demo_seed import Seeded, seed
from fieldapp.ui.main_window import MainWindow
from tests.ui.ui_helpers import free_port


@pytest.fixture(scope="session", autouse=True)
def _theme(qapp: QApplication) -> Iterator[None]:
    theme.apply(qapp)
    start = _shared_refcounts()
    yield
    _tear_down_widgets(qapp)
    low = {name: (before, after) for (name, before), after
           in zip(start.items(), _shared_refcounts().values(), strict=True) if after < before / 2}
    # A C extension that gives back a reference to True, False or None it never took
    # aborts the interpreter at exit once the count reaches 0 (bool_dealloc), after every
    # test passed: fail here, naming the counts, long before that.
    assert not low, f"references to shared constants lost during the UI tests: {low}"


def _shared_refcounts() -> dict[str, int]:
    gc.collect()
    return {"True": sys.getrefcount(True), "False": sys.getrefcount(False),
            "None": sys.getrefcount(None)}


def _tear_down_widgets(qapp: QApplication) -> None:
    """Every window the tests left is closed and deleted while the interpreter is whole:
    left to the QApplication's destruction at exit, Qt would destroy them (and release the
    Python objects they hold) while Python is being finalised."""
    for widget in qapp.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qapp.processEvents()
    gc.collect()


@pytest.fixture(autouse=True)
def _collect_on_the_gui_thread() -> Iterator[None]:
    """Widgets a finished test left in reference cycles (a window's lambdas) are collected
    here, on the GUI thread. Left to a later collection that happens to run on a sync worker
    thread, Qt would destroy them off the GUI thread and crash the process."""
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def _chinese(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts in the default language, whatever the shell says."""
    monkeypatch.delenv("FIELDAPP_LANG", raising=False)
    i18n.set_language("zh")
    yield
    i18n.set_language("zh")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "replica"


@pytest.fixture
def seeded(data_dir: Path) -> Seeded:
    replica = Replica.open(data_dir)
    try:
        return seed(replica)
    finally:
        replica.close()


@pytest.fixture
def unreachable_url() -> str:
    """A local port with nothing listening: connections are refused at once."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def window(qtbot: QtBot, data_dir: Path, seeded: Seeded,
           unreachable_url: str) -> Iterator[MainWindow]:
    win = build_main_window(data_dir, unreachable_url)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()


@pytest.fixture
def check(data_dir: Path) -> Iterator[Replica]:
    """A second connection, as another process would read what the UI committed."""
    replica = Replica.open(data_dir)
    yield replica
    replica.close()

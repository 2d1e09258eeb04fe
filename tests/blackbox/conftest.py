"""Fixtures of the black-box suite: a real server on the extended seed (SQLite, or
PostgreSQL with two workers when FIELDAPP_TEST_PG is set), and the run's summary of
acknowledged, lost, silently overwritten mutations and 5xx answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import pg
from tests.blackbox import door
from tests.conftest import ROOT, TEST_PG, ServerProcess

BACKEND = "postgresql" if TEST_PG else "sqlite"
WORKERS = 2 if TEST_PG else 1


def start_server(data: Path, **env: str) -> ServerProcess:
    data.mkdir(parents=True, exist_ok=True)
    proc = ServerProcess(data, workers=WORKERS)
    door.seed_blackbox(proc)
    return proc.start(**env)


@pytest.fixture
def bb_server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path / "server")
    yield proc
    proc.discard()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for a module of refusals: each test fingerprints it before and after."""
    data = tmp_path_factory.mktemp("server")
    proc = ServerProcess(data, workers=WORKERS)
    name = None
    if pg.current:  # kept past each test's drop_all, dropped when the module is done
        name = pg.current.created.pop()
    door.seed_blackbox(proc)
    proc.start()
    yield proc
    proc.discard()
    if pg.current and name:
        pg.current.created.append(name)
        pg.current.drop_all()


@pytest.fixture(scope="session", autouse=True)
def _templates(pg_cluster: pg.PgCluster | None) -> Iterator[None]:
    yield  # after the cluster fixture is set up, so before it stops
    door.drop_templates()


@pytest.fixture(autouse=True)
def tally() -> Iterator[door.Tally]:
    """This test's counts; added to the run's whatever the outcome."""
    door.current = door.Tally()
    yield door.current
    door.TOTAL.add(door.current)


# With the suite on several processes (pytest-xdist), each worker hands its tally to the
# controller, which prints and writes the run's summary.
def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["blackbox_tally"] = {**door.TOTAL.as_dict(), "notes": door.TOTAL.notes}


def pytest_testnodedown(node: object, error: object) -> None:
    tally = getattr(node, "workeroutput", {}).get("blackbox_tally")
    if tally:
        door.TOTAL.add(door.Tally(tally["acknowledged"], tally["lost"],
                                  tally["silent_overwrites"], tally["5xx"], tally["notes"]))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if door.TOTAL.acknowledged == 0 and not door.TOTAL.server_errors:
        return  # the suite did not run
    counts = door.TOTAL.as_dict()
    terminalreporter.section(f"sync door black-box summary ({BACKEND})")
    terminalreporter.write_line("  ".join(f"{k}: {v}" for k, v in counts.items()))
    for text in list(dict.fromkeys(door.TOTAL.notes))[:12]:  # distinct, the first few
        terminalreporter.write_line("  " + text[:160])
    out = ROOT / "var" / f"blackbox-summary-{BACKEND}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({**counts, "notes": door.TOTAL.notes[:200]}, indent=1,
                              ensure_ascii=False))
    terminalreporter.write_line(f"written to {out.relative_to(ROOT)}")

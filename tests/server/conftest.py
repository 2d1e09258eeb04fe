"""Fixtures of the server tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync_server.storage.db import Storage, open_database
from tests.conftest import ServerProcess


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Storage]:
    """The test world in the server's storage, without a running server."""
    world = ServerProcess(tmp_path)
    world.seed_world()
    storage = open_database(world.data_dir, world.database_url)
    yield storage
    storage.close()


@pytest.fixture
def utility(tmp_path: Path) -> ServerProcess:
    """A utility set up with `init` (districts 江宁区 and 溧水区), no customers yet."""
    from tests.server.operator import run_init

    server = ServerProcess(tmp_path / "server")
    done = run_init(server, "--utility-name", "江宁燃气", "--district", "江宁区",
                    "--district", "溧水区")
    assert done.returncode == 0, done.stderr
    return server

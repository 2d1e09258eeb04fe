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

"""The server process loads none of the tablet's stack (DESIGN.md: shared code is apart from
the tablet's): not its replica, sync client, capture drivers or UI, and not the libraries only
they need (SQLCipher, keyring, requests). A fresh interpreter imports every server module and
the command line, then lists what came with them."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import sync_server

ROOT = Path(__file__).resolve().parents[2]
TABLET_ONLY = ("fieldapp.replica", "fieldapp.sync", "fieldapp.capture", "fieldapp.ui",
               "sqlcipher3", "keyring", "requests", "PySide6", "shiboken6")

PROBE = """
import importlib, pkgutil, sys
import sync_server
names = [m.name for m in pkgutil.walk_packages(sync_server.__path__, "sync_server.")]
for name in names:
    importlib.import_module(name)
loaded = sorted(m for m in sys.modules
                if any(m == t or m.startswith(t + ".") for t in TABLET_ONLY))
print(len(names), loaded)
"""


def test_the_server_never_loads_the_tablet_stack() -> None:
    probe = f"TABLET_ONLY = {TABLET_ONLY!r}\n" + PROBE
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    count, loaded = out.stdout.split(" ", 1)
    assert int(count) == len(list(pkgutil.walk_packages(sync_server.__path__, "sync_server.")))
    assert int(count) >= 40
    assert loaded.strip() == "[]"


def test_the_probe_sees_a_tablet_import() -> None:
    """The probe itself can fail: importing the tablet's replica is reported."""
    probe = f"TABLET_ONLY = {TABLET_ONLY!r}\nimport fieldapp.replica\n" + PROBE
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    assert "fieldapp.replica" in out.stdout and "sqlcipher3" in out.stdout

"""The core must import without loading any Qt module (DESIGN.md: only fieldapp.ui may)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, pkgutil, sys
import fieldapp
# Not walk_packages over fieldapp: walking into fieldapp.ui would import its subpackages.
names = []
for top in pkgutil.iter_modules(fieldapp.__path__, "fieldapp."):
    if top.name == "fieldapp.ui":
        continue
    names.append(top.name)
    if top.ispkg:
        package = importlib.import_module(top.name)
        names += [m.name for m in pkgutil.walk_packages(package.__path__, top.name + ".")]
for name in names:
    importlib.import_module(name)
import sync_server.app
qt = sorted(m for m in sys.modules if m.startswith(("PySide6", "shiboken6", "PyQt")))
print(len(names), qt)
"""


def test_core_and_server_import_without_qt():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    count, qt = out.stdout.split(" ", 1)
    assert int(count) >= 20
    assert qt.strip() == "[]"

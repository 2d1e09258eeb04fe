"""The operator's commands (`init`, `import`) run as separate processes, as on a new server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sync_server.services.installation import PASSWORD_ENV
from tests.conftest import ROOT, ServerProcess

ADMIN_PASSWORD = "Kai-men-2026!"


def _run(server: ServerProcess, args: list[str], env: dict[str, str] | None = None,
         stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()
            if k not in (PASSWORD_ENV, "FIELDAPP_DATABASE_URL")}
    extra = ["--database-url", server.database_url] if server.database_url else []
    return subprocess.run([sys.executable, "-m", "sync_server", *args, "--data",
                           str(server.data_dir), *extra], cwd=ROOT, capture_output=True,
                          text=True, input=stdin, timeout=300,
                          env={**base, "PYTHONPATH": str(ROOT), **(env or {})})


def run_init(server: ServerProcess, *args: str, password: str | None = ADMIN_PASSWORD,
             stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {PASSWORD_ENV: password} if password is not None else {}
    return _run(server, ["init", *args], env, stdin)


def run_import(server: ServerProcess, what: str, file: Path,
               *args: str) -> subprocess.CompletedProcess[str]:
    return _run(server, ["import", what, str(file), *args])

"""SIGKILL the client while it saves checklist answers: the database stays intact and
every answer reported as saved is there, with its outbox entry."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from fieldapp.replica import Replica, store
from fieldapp.replica.db_key import database_key
from tests.world import CHECKLIST, seed_replica

ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent("""
    import sys
    from fieldapp.replica import Replica
    from tests.world import CHECKLIST, start_checklist
    replica = Replica.open(sys.argv[1])
    replica.jobs.transition("job-1", "accepted")
    replica.jobs.transition("job-1", "in_service")
    sub = start_checklist(replica, "job-1")
    keys = [i["key"] for i in replica.submissions.definition(*CHECKLIST)["items"]]
    n = 0
    while True:
        for key in keys:
            replica.submissions.answer(sub, key, ("pass", "na")[n % 2], f"save {n}")
            n += 1
            print(n, key, flush=True)
""")


def test_kill_during_answers_loses_nothing_committed(tmp_path: Path):
    seed = Replica.open(tmp_path)
    seed_replica(seed)
    seed.close()
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    last = 0
    assert proc.stdout is not None
    for line in proc.stdout:
        last = int(line.split()[0])
        if last >= 120:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()

    conn = store.connect(tmp_path / "replica.sqlite3", database_key(tmp_path))
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    replica = Replica.open(tmp_path)
    sub = replica.forms.for_job("job-1")
    assert sub is not None
    answers = replica.submissions.answers(sub["id"])
    assert len(answers) == len(replica.submissions.definition(*CHECKLIST)["items"])
    outbox_answers = replica.db.execute(
        "SELECT count(*) FROM outbox WHERE tbl = 'answers'").fetchone()[0]
    assert outbox_answers >= last  # every reported save has its outbox entry
    # the record and its outbox entry were written together: the newest outbox note of
    # each answer is the note stored in the record
    for question, answer in answers.items():
        newest = replica.db.execute(
            "SELECT fields FROM outbox WHERE tbl = 'answers' AND record_id = ?"
            " ORDER BY seq DESC LIMIT 1", [answer["id"]]).fetchone()[0]
        assert json.loads(newest)["note"] == answer["note"], question

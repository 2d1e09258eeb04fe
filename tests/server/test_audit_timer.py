"""The timer's audit check (audit_anchor.Anchoring.on_timer): every CHECK_EVERY_S it walks
the entries appended since its last sound check, and the whole chain every WALK_EVERY_S, so
that a large log is not hashed again every ten minutes. An edit among the new entries is
found at once, an old entry edited alone by the next walk of the whole chain."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync_server.services import audit, audit_anchor
from sync_server.storage.db import Storage


def append(db: Storage, n: int) -> list[int]:
    with db.write() as conn:
        return [audit.log(conn, {"tbl": "scans", "record_id": f"s-{i}", "op": "insert",
                                 "fields": "{}", "by_user": "tech01", "device_id": "pad-1",
                                 "at": "2026-12-07T10:00:00Z"})[0] for i in range(n)]


def tamper(db: Storage, seq: int) -> None:
    with db.write() as conn:
        conn.execute("UPDATE changes SET fields = '{\"code\": \"forged\"}' WHERE seq = ?", [seq])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def timer(db: Storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    clock = Clock()
    monkeypatch.setattr(audit_anchor.time, "monotonic", clock)
    anchoring = audit_anchor.Anchoring(db, tmp_path / "anchors", None, None)
    (tmp_path / "anchors").mkdir(exist_ok=True)
    anchoring.on_timer()  # the first check walks the whole chain
    return anchoring, clock


def test_new_entries_are_checked_on_from_the_last_sound_check(
        db: Storage, timer, monkeypatch: pytest.MonkeyPatch) -> None:
    anchoring, clock = timer
    _, first = anchoring.verdict()
    assert first.ok and first.checked > 0
    walked: list[audit.Verdict | None] = []
    real = audit.verify

    def counted(storage: Storage, since: audit.Verdict | None = None) -> audit.Verdict:
        walked.append(since)
        return real(storage, since)

    monkeypatch.setattr(audit, "verify", counted)
    new = append(db, 5)
    clock.now += audit_anchor.CHECK_EVERY_S + 1
    anchoring.on_timer()
    _, second = anchoring.verdict()
    assert second.ok and second.checked == first.checked + 5
    assert walked == [first] and second.sound[0] == new[-1]
    assert second.checked == real(db).checked  # the same count as a whole walk

    tamper(db, new[2])
    newer = append(db, 2)
    clock.now += audit_anchor.CHECK_EVERY_S + 1
    anchoring.on_timer()
    _, third = anchoring.verdict()
    assert third.ok  # new[2] was checked before: only newer was walked
    assert walked[-1] == second and third.sound[0] == newer[-1]

    clock.now += audit_anchor.WALK_EVERY_S + 1
    anchoring.on_timer()
    _, walk = anchoring.verdict()
    assert walked[-1] is None and not walk.ok and walk.broken_at == new[2]

    clock.now += audit_anchor.CHECK_EVERY_S + 1  # broken: the timer walks it all again
    anchoring.on_timer()
    assert walked[-1] is None and anchoring.verdict()[1].broken_at == new[2]


def test_an_edit_among_the_new_entries_is_found_at_the_next_check(db: Storage, timer) -> None:
    anchoring, clock = timer
    new = append(db, 4)
    tamper(db, new[1])
    anchoring.on_timer()  # too soon: the last verdict stands
    assert anchoring.verdict()[1].ok
    clock.now += audit_anchor.CHECK_EVERY_S + 1
    anchoring.on_timer()
    _, found = anchoring.verdict()
    assert found.broken_at == new[1] and "哈希不符" in found.problem
    assert anchoring.verdict(fresh=True)[1].broken_at == new[1]  # the audit page's check

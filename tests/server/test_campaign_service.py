"""The campaign service against the storage: a send cut off between batches (the process
killed, the database gone) and sent again completes the campaign, messaging nobody twice;
the text is filled per customer; the day's limits count only campaign messages."""

from __future__ import annotations

import pytest

from sync_server.services import campaigns
from sync_server.services.auth import Principal
from sync_server.storage.db import Storage, utc_now

ADMIN = Principal("admin", "孙立", "admin", None, "web-admin")
DRAFT = campaigns.Draft("【{utility}】{customer_name}您好：节日期间请注意用气安全。", (),
                        "any", ("秦淮区", "鼓楼区"), "0190a000-0000-7000-8000-0000000000aa")


def messages(db: Storage) -> list[str]:
    with db.read() as conn:
        return [r[0] for r in conn.execute(
            "SELECT customer_id FROM notifications WHERE campaign_id = ? ORDER BY customer_id",
            [DRAFT.campaign_id])]


def test_a_send_cut_off_between_batches_is_completed_by_the_retry(
        db: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(campaigns, "BATCH", 1)
    real, calls = campaigns._write_batch, []

    def dies_after_one(*args: object) -> bool:
        if calls:
            raise ConnectionError("the database went away")
        calls.append(1)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(campaigns, "_write_batch", dies_after_one)
    with pytest.raises(ConnectionError):
        campaigns.send(db, ADMIN, DRAFT, campaigns.Limits())
    assert messages(db) == ["cust-1"]
    monkeypatch.setattr(campaigns, "_write_batch", real)
    campaigns.send(db, ADMIN, DRAFT, campaigns.Limits())  # the retry
    campaigns.send(db, ADMIN, DRAFT, campaigns.Limits())  # and once more: nothing new
    assert messages(db) == ["cust-1", "cust-2", "cust-3"]
    with db.read() as conn:
        row = conn.execute("SELECT planned, written, held_back, finished_at FROM campaigns"
                           ).fetchone()
        texts = [r[0] for r in conn.execute("SELECT text FROM notifications")]
    assert (row["planned"], row["written"], row["held_back"]) == (3, 3, 0)
    assert row["finished_at"] and any("陈桂芳您好" in t for t in texts)
    assert all(t.startswith("【") and "{" not in t for t in texts)


def test_service_messages_do_not_use_up_the_campaign_allowance(db: Storage) -> None:
    with db.write() as conn:
        conn.execute("INSERT INTO notifications(channel, recipient, text, customer_id,"
                     " created_at) VALUES ('sms', '13912345678', '账单提醒', 'cust-1', ?)",
                     [utc_now()])
        found = campaigns.check(conn, DRAFT, campaigns.Limits(daily_total=3))
    assert found.recipients == 3 and found.problems == [] and found.left_today == 3
    with db.read() as conn:
        tight = campaigns.check(conn, DRAFT, campaigns.Limits(daily_total=2))
        one = campaigns.check(conn, DRAFT, campaigns.Limits(max_recipients=2))
    assert any("还可发送 2 条" in p for p in tight.problems)
    assert any("超过每次群发上限 2 户" in p for p in one.problems)

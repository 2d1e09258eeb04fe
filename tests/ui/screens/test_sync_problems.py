"""同步问题: rejected and conflicting changes named, explained and kept; each job's sync state."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from fieldapp.changes import Changes
from fieldapp.replica import Replica
from fieldapp.ui import i18n, ops
from fieldapp.ui.demo_seed import Seeded
from fieldapp.ui.i18n.messages import describe_rejection
from fieldapp.ui.main_window import MainWindow
from fieldapp.ui.screens.sync_problems_view import reason_lines, what_text
from fieldapp.ui.widgets.formatting import stamp
from fieldapp.wire import Mutation, MutationResult
from tests.ui.ui_helpers import open_row, tap
from tests.world import fill_household, start_checklist

Decide = Callable[[Mutation], MutationResult | None]  # None: the server applied it


def answer_batch(replica: Replica, decide: Decide) -> None:
    """Send the next outbox batch to a pretend server that answers each mutation by ``decide``."""
    batch = replica.outbox.next_batch()
    assert batch is not None
    batch_id, mutations = batch
    replica.outbox.record_results(batch_id, [
        decide(m) or MutationResult(mutation_id=m.mutation_id, status="applied", version=2)
        for m in mutations])


def rejected(m: Mutation, reason: str) -> MutationResult:
    return MutationResult(mutation_id=m.mutation_id, status="rejected", reason=reason,
                          message=f"{m.table} {m.record_id}: {reason}")


def make_problems(replica: Replica, seeded: Seeded) -> None:
    """A morning's work, then a sync where the server refuses two changes and settles one.

    job-001 was reassigned on the server before its "in service" arrived; item 3 of job-002's
    checklist is refused; item 10 was changed to 合格 while the server kept 不合格.
    """
    job_1, job_2 = seeded.job_ids[0], seeded.job_ids[1]
    replica.jobs.transition(job_1, "accepted")
    for target in ("accepted", "in_service"):
        replica.jobs.transition(job_2, target)
    start_checklist(replica, job_2)  # the flat checklist numbers its items
    ops.answer_form(replica, job_id=job_2, path="hose_age", value="fail", note="软管开裂")
    answer_batch(replica, lambda m: None)

    replica.jobs.transition(job_1, "in_service")
    ops.answer_form(replica, job_id=job_2, path="meter_seal", value="pass")
    ops.answer_form(replica, job_id=job_2, path="hose_age", value="pass")

    def server(m: Mutation) -> MutationResult | None:
        if m.table == "jobs":
            return rejected(m, "reassigned")
        if m.table == "answers" and m.op == "insert":
            return rejected(m, "invalid_answer:invalid_choice")
        if m.table == "answers":
            return MutationResult(mutation_id=m.mutation_id, status="conflict", version=9,
                                  reason="conflict", kept={"value": json.dumps("fail")},
                                  preserved={"value": json.dumps("pass")})
        return None

    answer_batch(replica, server)


def problem_texts(window: MainWindow) -> list[list[str]]:
    return [card.texts() for card in window.problems_page.cards]


def test_problems_are_listed_in_words_and_nothing_is_dropped(
        qtbot: QtBot, window: MainWindow, seeded: Seeded, check: Replica) -> None:
    top = window.top_bar
    assert not top.problems.isVisible()
    make_problems(window.ctx.replica, seeded)
    # What the sync worker announces when a sync finishes.
    window.ctx.changes_applied.emit(Changes.of("outbox", "sync"))
    assert top.problems.isVisible() and top.problems.text() == "3 条被拒/冲突"
    assert top.problems.height() >= 48  # a gloved finger's target

    tap(qtbot, top.problems)

    page = window.problems_page
    assert window.stack.currentWidget() is page
    assert page.title.text() == "同步问题"
    assert "所有数据都保留在本机" in page.intro.text() and "不会删除" in page.intro.text()
    assert page.count.text() == "共 3 条"
    made = {m["record_id"]: stamp(m["at"]) for m in check.outbox.problems()}
    job_2 = check.jobs.get(seeded.job_ids[1])
    answers = check.submissions.answers(check.forms.for_job(job_2["id"])["id"])
    number_1 = check.jobs.get(seeded.job_ids[0])["number"]
    assert problem_texts(window) == [  # newest first
        ["有冲突", "安检表 第10项『软管未超期使用（橡胶管≤18个月）』答案：合格",
         f"工单 {job_2['number']} · 李国强 · 修改于 {made[answers['hose_age']['id']]}",
         "服务器保留了「不合格」，您的「合格」已保存待主管复核"],
        ["被拒", "安检表 第3项『燃气表铅封完好』答案：合格",
         f"工单 {job_2['number']} · 李国强 · 修改于 {made[answers['meter_seal']['id']]}",
         "服务器不接受这个答案：不是可选的答案"],
        ["被拒", f"工单 {number_1} 状态改为 服务中",
         f"张秀英 · 修改于 {made[seeded.job_ids[0]]}",
         "该工单已改派给其他人员，您的修改未生效，已保留待主管处理"],
    ]
    # The server's own words stay within reach for the supervisor.
    assert page.cards[2].reasons[0].toolTip().endswith(": reassigned")

    tap(qtbot, top.language)  # switching language on the problems screen itself
    assert page.title.text() == "Sync problems"
    assert "All data stays on this tablet" in page.intro.text()
    assert top.problems.text() == "3 rejected/conflicts"
    assert problem_texts(window)[0][0:2] == [
        "Conflict",
        'Checklist item 10 "Hose within service life (rubber ≤ 18 months)" answer: Pass']
    assert problem_texts(window)[0][3] == (
        'The server kept "Fail"; your "Pass" was saved for the supervisor to review')
    assert problem_texts(window)[1][1:] == [
        'Checklist item 3 "Meter seal intact" answer: Pass',
        f"Job {job_2['number']} · 李国强 · Changed {made[answers['meter_seal']['id']]}",
        "The server did not accept this answer: it is not one of the allowed choices"]
    assert problem_texts(window)[2][1::2] == [
        f"Job {number_1}: status set to In service",
        "The job was reassigned to someone else; your change did not take effect and is kept"
        " for the supervisor"]

    tap(qtbot, page.back)
    assert window.stack.currentWidget() is window.today
    # Looking changed nothing: the problems are still there, the local work untouched.
    assert len(check.outbox.problems()) == 3
    assert check.jobs.get(seeded.job_ids[0])["status"] == "in_service"
    assert answers["meter_seal"]["value"] == "pass" and answers["hose_age"]["value"] == "pass"


def test_the_job_page_shows_the_jobs_sync_state(qtbot: QtBot, window: MainWindow,
                                                seeded: Seeded) -> None:
    make_problems(window.ctx.replica, seeded)
    window.ctx.changes_applied.emit(Changes.of("outbox", "sync"))
    page = window.job_page
    states = {}
    for row, job_id in enumerate(seeded.job_ids):
        open_row(qtbot, window, row)
        assert page.job["id"] == job_id
        states[job_id] = page.sync_state.text()
        tap(qtbot, page.back)
    assert states == {"job-001": "被拒", "job-002": "已同步", "job-003": "已同步"}

    open_row(qtbot, window, 2)
    tap(qtbot, page.move_buttons["accepted"])
    assert page.sync_state.text() == "待上传"
    assert page.sync_state.property("state") == "pending"
    tap(qtbot, window.top_bar.language)
    assert page.sync_state.text() == "Not sent yet"

    # The problems screen opens from a job and leads back to it.
    tap(qtbot, window.top_bar.problems)
    assert window.stack.currentWidget() is window.problems_page
    tap(qtbot, window.problems_page.back)
    assert window.stack.currentWidget() is page and page.job["id"] == "job-003"


def test_a_sync_while_the_screen_is_open_updates_it(qtbot: QtBot, window: MainWindow,
                                                    seeded: Seeded) -> None:
    tap(qtbot, window.top_bar.language)
    window.show_problems()  # the top bar offers no button while there is nothing to show
    assert window.problems_page.empty.isVisible()
    assert window.problems_page.empty.text() == "No rejected or conflicting changes"
    make_problems(window.ctx.replica, seeded)
    window.ctx.changes_applied.emit(Changes.of("outbox", "sync"))
    assert not window.problems_page.empty.isVisible()
    assert window.problems_page.count.text() == "3 in all"


# -- other kinds of change, read through ops --------------------------------------------------


@pytest.fixture
def replica(data_dir: Path, seeded: Seeded) -> Iterator[Replica]:
    r = Replica.open(data_dir)
    yield r
    r.close()


def test_evidence_and_a_phone_change_are_named(replica: Replica, seeded: Seeded,
                                               tmp_path: Path) -> None:
    job_id = seeded.job_ids[0]
    fill_household(replica, job_id, tmp_path)  # complete, with its meter photo: signable
    ops.add_signature(replica, job_id=job_id, strokes=[[[10, 10, 0], [60, 40, 30]]],
                      signer_name="张秀英")
    ops.record_code(replica, code=seeded.barcodes["cust-001"], job_id=job_id)
    with replica.transaction():
        replica.update("customers", "cust-001", {"phone": "13900000001"})
    reasons = {"attachments": "attachment_missing", "signatures": "out_of_scope",
               "scans": "brand_new_reason"}

    def server(m: Mutation) -> MutationResult | None:
        if m.table == "customers":  # the tablet's later edit won; the office's value is kept
            return MutationResult(mutation_id=m.mutation_id, status="conflict", version=5,
                                  reason="conflict", kept={"phone": "13900000001"},
                                  preserved={"phone": "02584560000"})
        return rejected(m, reasons[m.table]) if m.table in reasons else None

    answer_batch(replica, server)
    found = [(what_text(p), reason_lines(p)) for p in reversed(ops.sync_problems(replica))]
    assert found == [
        ("照片", ["服务器没有收到这个文件的内容"]),
        ("签名图片", ["服务器没有收到这个文件的内容"]),
        ("签名：张秀英", ["这条记录不在您的工作范围内（工单未派给您）"]),
        (f"扫码：{seeded.barcodes['cust-001']}", ["服务器未接受（brand_new_reason）"]),
        ("客户电话：13900000001",
         ["您的「13900000001」已生效，服务器原来的「02584560000」已保存待主管复核"]),
    ]
    assert {p.customer_name for p in ops.sync_problems(replica)} == {"张秀英"}
    assert ops.job_sync_state(replica, job_id=job_id) == "synced"


REASONS = ["unknown_table", "unknown_field", "duplicate_id", "forbidden", "unknown_record",
           "reassigned", "out_of_scope", "illegal_transition", "stale_transition",
           "unknown_status", "customer_mismatch", "unknown_job", "unknown_submission",
           "unknown_form", "invalid_answer:invalid_choice", "attachment_missing",
           "attachment_size_mismatch"]


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_server_reason_has_its_own_words(lang: str) -> None:
    i18n.set_language(lang)
    texts = [describe_rejection(reason) for reason in REASONS]
    fallbacks = [i18n.tr("problems.reason_generic", code=reason) for reason in REASONS]
    assert [t for t, f in zip(texts, fallbacks, strict=True) if t == f] == []
    assert len(set(texts)) == len(REASONS)  # each reason explains itself


@pytest.mark.parametrize(("reason", "zh", "en"), [
    ("a_code_nobody_knows", "服务器未接受（a_code_nobody_knows）",
     "The server did not accept it (a_code_nobody_knows)"),
    ("invalid_answer:expected_gps", "服务器不接受这个答案：答案不符合要求（expected_gps）",
     "The server did not accept this answer: the answer is not acceptable (expected_gps)"),
    ("invalid_answer:required", "服务器不接受这个答案：未作答",
     "The server did not accept this answer: not answered"),
    (None, "服务器没有说明原因", "The server gave no reason"),
])
def test_an_unknown_reason_is_still_named(reason: str | None, zh: str, en: str) -> None:
    assert describe_rejection(reason) == zh
    i18n.set_language("en")
    assert describe_rejection(reason) == en

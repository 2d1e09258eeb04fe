"""Screenshots of the tablet UI on a seeded replica, for docs/screenshots/.

Run under a real X server at tablet size:

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python scripts/screenshots.py

Options: ``--out DIR`` (default docs/screenshots), ``--size 1920x1200``, ``--lang en``.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from fieldapp.changes import Changes  # noqa: E402
from fieldapp.demo.kb import article_rows  # noqa: E402
from fieldapp.local_time import now_iso  # noqa: E402
from fieldapp.replica import Replica, signing  # noqa: E402
from fieldapp.sync.apply import apply_changes  # noqa: E402
from fieldapp.ui import ops, theme  # noqa: E402
from fieldapp.ui.app import build_main_window  # noqa: E402
from fieldapp.ui.demo_seed import seed  # noqa: E402
from fieldapp.ui.main_window import MainWindow  # noqa: E402
from fieldapp.ui.widgets.signature_pad import SignaturePad  # noqa: E402
from fieldapp.wire import Mutation, MutationResult, RecordChange  # noqa: E402

FAILED_ITEM = ("hose_age", "橡胶软管已使用3年且有裂纹，已告知用户尽快更换为金属波纹管")
ANSWERED = 9  # items answered on the inspection screenshot: a visit in progress


def prepare(replica: Replica, job_id: str) -> None:
    """A realistic moment of the day: one job in service with a half-filled inspection."""
    replica.jobs.transition(job_id, "accepted")
    replica.jobs.transition(job_id, "in_service")
    replica.jobs.transition("job-002", "accepted")
    sub_id = replica.forms.start(job_id)
    previous = replica.customers.view360(replica.jobs.get(job_id)["customer_id"])["meters"][0]
    for path, value in [("visit_outcome", "inspected"), ("visit_time", "09:40"),
                        ("meter_barcode", previous["barcode"]),
                        ("meter_reading", round(previous["last_reading"] + 38.6, 1)),
                        ("appliances[0].appliance_kind", "stove"),
                        ("appliances[0].appliance_brand", "老板"),
                        ("appliances[1].appliance_kind", "water_heater")]:
        replica.forms.answer(sub_id, path, value)
    items = [f.path for f in replica.forms.screen(sub_id).fields if f.type == "pass_fail_na"]
    for path in items[:ANSWERED]:
        replica.forms.answer(sub_id, path, "pass")
    replica.forms.answer(sub_id, FAILED_ITEM[0], "fail", FAILED_ITEM[1])


def answer_sync(replica: Replica, decide: dict[tuple[str, str], MutationResult] | None = None,
                ) -> None:
    """Settle the next outbox batch as the server would: applied unless ``decide`` says else.

    ``decide`` maps (table, record id) to a result template; its mutation id is filled in.
    """
    batch = replica.outbox.next_batch()
    if batch is None:
        return
    batch_id, mutations = batch

    def result(m: Mutation) -> MutationResult:
        template = (decide or {}).get((m.table, m.record_id))
        if template is None:
            return MutationResult(mutation_id=m.mutation_id, status="applied", version=2)
        return template.model_copy(update={"mutation_id": m.mutation_id})

    replica.outbox.record_results(batch_id, [result(m) for m in mutations])


def add_sync_problems(replica: Replica, job_id: str) -> None:
    """The afternoon sync: most work is taken, three changes are refused, one is disputed.

    job-002 was reassigned on the server, one answer does not fit the server's form, the
    signature image never fully arrived, and the office changed item 2 while the technician
    re-checked it.
    """
    sub_id = replica.forms.for_job(job_id)["id"]
    answers = replica.submissions.answers(sub_id)
    signature = replica.evidence.signatures(job_id)[0]
    refused = {
        ("jobs", "job-002"): ("reassigned", "job is now assigned to tech07"),
        ("answers", answers["meter_seal"]["id"]): ("invalid_answer:invalid_choice",
                                                   "meter_seal: invalid_choice"),
        ("attachments", signature["attachment_id"]): ("attachment_missing",
                                                      "the bytes were not uploaded"),
    }
    answer_sync(replica, {key: MutationResult(mutation_id="-", status="rejected", reason=reason,
                                              message=message)
                          for key, (reason, message) in refused.items()})
    note = "表体有锈蚀，已拍照，建议更换"
    ops.answer_form(replica, job_id=job_id, path="meter_condition", value="fail", note=note)
    answer_sync(replica, {("answers", answers["meter_condition"]["id"]): MutationResult(
        mutation_id="-", status="conflict", version=12, reason="conflict",
        kept={"value": '"pass"', "note": None}, preserved={"value": '"fail"', "note": note})})


def finish_form(window: MainWindow, job_id: str) -> None:
    """Answer what the half-filled inspection still misses, as the technician would, so the
    customer may sign."""
    from PIL import Image

    replica = window.ctx.replica
    sub_id = replica.forms.for_job(job_id)["id"]
    texts = {"signer_name": "张秀英"}
    for _ in range(10):
        gaps = signing.missing(replica, sub_id)
        if not gaps:
            return
        fields = {f.path: f for f in replica.forms.screen(sub_id).fields}
        for gap in gaps:
            f = fields.get(gap["question"])
            if f is None:
                continue
            if f.type == "photo":
                photo = Path(replica.data_dir) / f"{f.key}.jpg"
                Image.new("RGB", (800, 600), (120, 130, 140)).save(photo, quality=85)
                window.ctx.slow(ops.slow.attach_photo(job_id, photo, None, question=f.path)
                                ).wait()
                continue
            value = {"pass_fail_na": "pass", "yes_no": "yes", "select_one": (
                f.choices[0][0] if f.choices else None)}.get(f.type, texts.get(f.key, "已核对"))
            window.ctx.run(ops.answer_form, job_id=job_id, path=f.path, value=value)
    raise SystemExit(f"the form stays incomplete: {signing.missing(replica, sub_id)}")


def settle(ms: int = 150) -> None:
    QApplication.processEvents()
    QTest.qWait(ms)


def save(widget: QWidget, path: Path) -> None:
    settle()
    if not widget.grab().save(str(path)):
        raise SystemExit(f"could not write {path}")
    print(f"wrote {path}")


def _cursive(x0: float, x1: float, y: float, heights: list[float]) -> list[tuple[float, float]]:
    """Joined loops of different heights, like letters of fast handwriting."""
    points = []
    per_loop = 30
    steps = per_loop * len(heights)
    for i in range(steps + 1):
        loop = min(i // per_loop, len(heights) - 1)
        t = (i / per_loop) * 2 * math.pi
        size = heights[loop]
        x = x0 + (x1 - x0) * i / steps - 0.32 * size * math.sin(t)
        points.append((x, y - size * (1 - math.cos(t)) / 2 - 0.02 * (x - x0)))
    return points


def sign(pad: SignaturePad) -> None:
    """Draw a handwritten-looking signature with real mouse events, stroke by stroke."""
    w, h = pad.width(), pad.height()
    strokes = [
        _cursive(0.22 * w, 0.42 * w, 0.62 * h, [0.34 * h, 0.12 * h, 0.26 * h, 0.10 * h]),
        _cursive(0.45 * w, 0.60 * w, 0.62 * h, [0.38 * h, 0.14 * h, 0.11 * h]),
        _cursive(0.63 * w, 0.80 * w, 0.62 * h, [0.12 * h, 0.30 * h, 0.10 * h, 0.09 * h]),
        [(0.20 * w + i * 0.6 * w / 40, 0.70 * h - 0.04 * h * math.sin(i / 40 * math.pi))
         for i in range(41)],
    ]
    for stroke in strokes:
        points = [QPoint(round(x), round(y)) for x, y in stroke]
        QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         points[0])
        for point in points[1:]:
            QTest.mouseMove(pad, point)
        QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                           points[-1])


def shoot(window: MainWindow, out: Path, job_id: str) -> None:
    window.show_today()
    save(window, out / "jobs.png")
    window.open_job(job_id)
    page = window.job_page
    page.tabs.setCurrentWidget(page.customer)
    save(window, out / "customer.png")
    page.tabs.setCurrentWidget(page.form)
    settle()
    # Show the visit in progress: the failed item with its note, and what is still open.
    paths = list(page.form.rows)
    first = page.form.rows[paths[max(0, paths.index(FAILED_ITEM[0]) - 2)]]
    page.form.scroll.verticalScrollBar().setValue(first.y())
    save(window, out / "inspection_form.png")
    page.tabs.setCurrentWidget(page.signature)
    settle()
    save(window, out / "signature_blocked.png")  # half filled: no pad, what is missing
    finish_form(window, job_id)
    settle()
    sign(page.signature.pad)
    save(window, out / "signature.png")
    page.signature.signer.setText("张秀英")
    page.signature.confirm.click()
    window.toast.hide()
    settle()
    save(window, out / "signature_saved.png")
    # An answer changed after the customer signed: the signature is void, sign again.
    window.ctx.run(ops.answer_form, job_id=job_id, path="visit_time", value="10:20")
    settle()
    save(window, out / "signature_void.png")
    sign(page.signature.pad)
    page.signature.confirm.click()
    add_sync_problems(window.ctx.replica, job_id)
    window.ctx.replica.set_state(ops.LAST_SYNC_KEY, now_iso())
    window.ctx.changes_applied.emit(Changes.of("outbox", "sync"))  # as a finished sync does
    window.toast.hide()  # "signature saved" belongs to the moment before, not to this screen
    settle()
    QTest.mouseClick(window.top_bar.problems, Qt.MouseButton.LeftButton)
    save(window, out / "sync_problems.png")
    shoot_repair_form(window, out)


def shoot_repair_form(window: MainWindow, out: Path) -> None:
    """The generic form view on the repair job, part filled: a leak, a part used."""
    replica = window.ctx.replica
    replica.jobs.transition("job-004", "accepted")
    replica.jobs.transition("job-004", "in_service")
    sub_id = replica.forms.start("job-004")
    for path, value in [("arrived_at", "11:20"), ("fault_category", "leak"),
                        ("fault_description", "表前阀下游接头处检测到漏气"),
                        ("gas_concentration", 12.5), ("parts_used", "yes"),
                        ("parts[0].part", "P-HOSE-15"), ("parts[0].quantity", 1)]:
        replica.forms.answer(sub_id, path, value)
    window.toast.hide()
    window.open_job("job-004")
    form = window.job_page.form
    window.job_page.tabs.setCurrentWidget(form)
    settle()
    form.scroll.verticalScrollBar().setValue(form.rows["parts_used"].y())  # the part used
    save(window, out / "form_repair.png")
    shoot_knowledge(window, out)


def shoot_knowledge(window: MainWindow, out: Path) -> None:
    """知识库 with the demo articles, opened on a fault code: the article with its figure."""
    apply_changes(window.ctx.replica, [RecordChange(
        table="kb_articles", record_id=f"kb-{i}", version=1,
        row={"title": title, "category": category, "body": body, "tags": " ".join(tags)})
        for i, (title, category, tags, body) in enumerate(article_rows())])
    dialog = window.show_knowledge("E02")  # as a repair form's fault code opens it
    settle(300)
    save(dialog, out / "knowledge_base.png")
    dialog.close()


def shoot_job_tabs(window: MainWindow, out: Path, job_id: str) -> None:
    """搜索客户, then a job's 领料 and 记录 tabs with an entry each, and 核对后完成."""
    from fieldapp.ui.dialogs.completion_dialog import CompletionDialog

    window.show_today()
    search = window.search_customers()
    search.query.setText("中华路")
    search.search()
    settle(200)
    save(search, out / "customer_search.png")
    search.close()
    window.open_job(job_id)
    page = window.job_page
    window.ctx.run(ops.request_part, job_id=job_id, part="P-HOSE-15", quantity=1,
                   note="原橡胶软管龟裂")
    page.tabs.setCurrentWidget(page.parts)
    save(window, out / "job_parts.png")
    window.ctx.run(ops.add_interaction, job_id=job_id, kind="note",
                   text="用户要求下午六点后再来复查")
    page.tabs.setCurrentWidget(page.history)
    save(window, out / "job_history.png")
    summary = window.ctx.run(ops.completion_summary, job_id=job_id)
    dialog = CompletionDialog(summary, window)
    dialog.show()
    save(dialog, out / "complete_check.png")
    dialog.close()


def shoot_camera(window: MainWindow, out: Path, folder: Path) -> None:
    """扫码 on a simulated camera: a frame without a code yet, the box to aim into."""
    import os

    from PIL import Image

    from fieldapp.capture.camera import CAMERA_ENV
    from fieldapp.ui.dialogs.camera_dialog import CameraDialog

    frames = folder / "camera"
    frames.mkdir(exist_ok=True)
    Image.open(ROOT / "docs" / "screenshots" / "watermarked_photo.jpg").convert("RGB").resize(
        (1280, 720)).save(frames / "scene.png")
    os.environ[CAMERA_ENV] = f"file:{frames}"
    try:
        dialog = CameraDialog(window.ctx, CameraDialog.SCAN, window)
        dialog.show()
        for _ in range(30):
            settle(100)
            if dialog.last_frame is not None:
                break
        save(dialog, out / "camera_scan.png")
        dialog.reject()
    finally:
        os.environ.pop(CAMERA_ENV, None)


def shoot_settings(window: MainWindow, out: Path) -> None:
    """设置, then today's list in the high-contrast theme (for sunlight)."""
    window.show_today()
    dialog = window.show_settings()
    settle(200)
    save(dialog, out / "settings.png")
    dialog.reject()
    theme.apply(QApplication.instance(), high_contrast=True)
    save(window, out / "jobs_high_contrast.png")
    theme.apply(QApplication.instance())


def shoot_lock_and_wipe(window: MainWindow, out: Path) -> None:
    """The idle lock over the app (a whole-screen grab: the dialog is its own window), then
    what a revoked tablet shows once it has erased itself (shown, not done, here)."""
    from fieldapp.replica import unlock
    from fieldapp.ui.dialogs.idle_lock import IdleLock
    from fieldapp.ui.i18n import tr
    from fieldapp.ui.main_window import WipedNotice

    window.show_today()
    unlock.remember(window.ctx.replica, "screenshot-password")
    lock = IdleLock(window, 0)
    lock.lock()
    settle(300)
    shot = window.screen().grabWindow(0, window.x(), window.y(), window.width(),
                                      window.height())
    if not shot.save(str(out / "idle_lock.png")):
        raise SystemExit("could not write idle_lock.png")
    print(f"wrote {out / 'idle_lock.png'}")
    lock.dialog.accept()
    window.shutdown()  # as the erase does, before the screens go
    window.setCentralWidget(WipedNotice(tr("wipe.done", kept=1), window.close))
    save(window, out / "wiped.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--size", default="1280x800")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    args.out.mkdir(parents=True, exist_ok=True)

    app = QApplication(sys.argv[:1])
    theme.apply(app)
    with tempfile.TemporaryDirectory() as tmp:
        replica = Replica.open(tmp)
        seeded = seed(replica, rich=True)
        job_id = seeded.job_ids[1]  # the first inspection of the route
        prepare(replica, job_id)
        replica.close()
        # Nothing listens on port 9: the window shows its honest "not connected" state.
        window = build_main_window(tmp, "http://127.0.0.1:9", language=args.lang)
        window.resize(width, height)
        window.show()
        settle(300)
        try:
            shoot(window, args.out, job_id)
            shoot_job_tabs(window, args.out, job_id)
            shoot_camera(window, args.out, Path(tmp))
            shoot_settings(window, args.out)
            shoot_lock_and_wipe(window, args.out)
        finally:
            window.shutdown()
            window.close()
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

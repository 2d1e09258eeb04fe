"""The signature tab through the real widgets: no pad while the form is incomplete (it says
what is missing), the saved signature with the hash it binds, shown void after a change,
submitting blocked until the customer signs again."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from pytestqt.qtbot import QtBot

from fieldapp.changes import Changes
from fieldapp.replica import Replica, signing
from fieldapp.ui import ops
from fieldapp.ui.demo_seed import Seeded
from fieldapp.ui.i18n import tr
from fieldapp.ui.main_window import MainWindow
from tests.ui.screens.test_job_flow import draw_signature
from tests.ui.ui_helpers import move_button, open_row, open_tab, tap


def finish_form(window: MainWindow, job_id: str, folder: Path) -> None:
    """Answer whatever the form still misses, through the ops the form view calls, run
    directly and announced once (forty announcements in a row trip a PySide6 refcount bug on
    Python 3.11: "deallocating None")."""
    replica = window.ctx.replica
    sub_id = replica.forms.for_job(job_id)["id"]
    ops.answer_form(replica, job_id=job_id, path="appliances[0].appliance_kind", value="stove")
    for _ in range(10):  # bounded: a gap this filler cannot fill fails instead of hanging
        gaps = signing.missing(replica, sub_id)
        if not gaps:
            break
        fields = {f.path: f for f in replica.forms.screen(sub_id).fields}
        for gap in gaps:
            f = fields[gap["question"]]
            if f.type == "photo":
                photo = folder / f"{f.key}.jpg"
                Image.new("RGB", (640, 480), (120, 130, 140)).save(photo)
                replica.evidence.add_photo(job_id, photo, f.path, position=None)
            else:
                value = {"pass_fail_na": "pass", "yes_no": "yes", "time": "09:40",
                         "meter_reading": (f.previous or 0) + 12.5, "decimal": 1.0,
                         "integer": 1}.get(
                    f.type, f.choices[0][0] if f.choices else "张秀英")
                ops.answer_form(replica, job_id=job_id, path=f.path, value=value)
    assert not signing.missing(replica, sub_id)
    window.ctx.changes_applied.emit(Changes.of("answers", "attachments", "submissions"))


def test_signing_waits_for_a_complete_form_and_a_change_voids_it(
        qtbot: QtBot, window: MainWindow, seeded: Seeded, check: Replica,
        tmp_path: Path) -> None:
    job_id = seeded.job_ids[0]
    open_row(qtbot, window, 0)
    page = window.job_page
    tap(qtbot, move_button(window, "accepted"))
    tap(qtbot, move_button(window, "in_service"))
    open_tab(qtbot, window, page.form)
    view = page.signature

    # Half filled: no pad; the tab says how many questions are missing and names them.
    window.ctx.run(ops.answer_form, job_id=job_id, path="visit_outcome", value="inspected")
    open_tab(qtbot, window, view)
    assert view.blocked.isVisible() and not view.drawing.isVisible()
    gaps = signing.missing(check, check.forms.for_job(job_id)["id"])
    assert view.blocked.text().startswith(f"表单还有 {len(gaps)} 项未完成")
    assert gaps[0]["label"] in view.blocked.text()

    finish_form(window, job_id, tmp_path)
    assert not view.blocked.isVisible() and view.drawing.isVisible()
    draw_signature(qtbot, view.pad)
    view.signer.setText("张秀英")
    tap(qtbot, view.confirm)
    [sig] = check.evidence.signatures(job_id)
    assert view.saved.isVisible() and not view.void.isVisible()
    assert sig["content_hash"] in view.bound.text()
    assert page.tabs.tabText(page.tabs.indexOf(view)) == tr("job.tab.signature_done")

    # The technician changes an answer after the customer signed: void, sign again.
    window.ctx.run(ops.answer_form, job_id=job_id, path="visit_time", value="10:20")
    assert view.void.isVisible() and view.drawing.isVisible()
    assert view.void.text() == tr("signature.void", name="张秀英",
                                  time=view.void.text().split(" 于 ")[1].split(" ")[0])
    assert page.tabs.tabText(page.tabs.indexOf(view)) == tr("job.tab.signature_void")
    open_tab(qtbot, window, page.form)
    tap(qtbot, page.form.submit)
    assert tr("checklist.problem.signature_void") in page.form.banner.text()
    assert check.forms.for_job(job_id)["state"] == "draft"

    open_tab(qtbot, window, view)
    draw_signature(qtbot, view.pad)
    tap(qtbot, view.confirm)
    assert not view.void.isVisible() and view.saved.isVisible()
    open_tab(qtbot, window, page.form)
    tap(qtbot, page.form.submit)
    assert check.forms.for_job(job_id)["state"] == "submitted"
    assert len(check.evidence.signatures(job_id)) == 2

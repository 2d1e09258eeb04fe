"""The string catalogue, the error sentences, and switching language at run time."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from fieldapp.errors import (
    AuthError,
    FieldAppError,
    IllegalTransition,
    InvalidInput,
    ServerRejected,
    ServerUnreachable,
)
from fieldapp.ui import i18n
from fieldapp.ui.demo_seed import Seeded
from fieldapp.ui.i18n import messages
from fieldapp.ui.main_window import MainWindow
from tests.ui.ui_helpers import tap

UI_DIR = Path(i18n.__file__).parent


def test_every_key_has_both_languages() -> None:
    for key, texts in i18n.CATALOGUE.items():
        assert len(texts) == len(i18n.LANGUAGES), key
        assert all(t for t in texts), f"{key} is missing a translation"
        # Both versions take the same parameters, so switching never breaks formatting.
        fields = [sorted(re.findall(r"{(\w+)", t)) for t in texts]
        assert all(f == fields[0] for f in fields), key
        # Qt reads a lone "&" in button and tab text as a keyboard mnemonic and hides it.
        assert not any(re.search(r"(?<!&)&(?!&)", t) for t in texts), key


def test_every_literal_key_used_in_the_ui_exists() -> None:
    used = set()
    for path in UI_DIR.glob("*.py"):
        used |= set(re.findall(r"""\btr\(\s*["']([\w.]+)["']""", path.read_text("utf-8")))
    assert used, "the scan found no tr() calls"
    assert sorted(used - set(i18n.CATALOGUE)) == []


def test_no_chinese_outside_the_catalogue() -> None:
    """Widgets hold no hard-coded user text; the demo seed is data, the docstrings prose."""
    han = re.compile(r"[\u4e00-\u9fff]")
    for path in UI_DIR.glob("*.py"):
        if path.name in ("i18n.py", "demo_seed.py") or path.name.startswith("catalogue_"):
            continue
        code = re.sub(r'"""[\s\S]*?"""|#.*', "", path.read_text("utf-8"))
        assert not han.search(code), f"{path.name} has Chinese text outside the catalogue"


@pytest.mark.parametrize(("error", "zh", "en"), [
    (IllegalTransition("illegal_transition", current="dispatched", target="completed"),
     "工单不能从“已派单”改为“已完成”", "A job cannot go from Dispatched to Completed"),
    (InvalidInput("completion_requirements", missing=["form", "signature"]),
     "还不能完成工单：缺少已提交的表单、客户签名",
     "The job cannot be completed yet: missing a submitted form, the customer's signature"),
    (InvalidInput("incomplete_form", problems=[("a", "required"), ("b", "note_required")]),
     "表单还有 2 项未完成，请补全后再提交",
     "2 form items are incomplete; finish them and submit again"),
    (InvalidInput("constraint", constraint_message={"zh": "数量应在 1–20 之间",
                                                    "en": "Quantity must be 1–20"}),
     "数量应在 1–20 之间：未保存", "Quantity must be 1–20: not saved"),
    (InvalidInput("constraint"), "填写的值超出允许范围：未保存",
     "The value is outside the allowed range: not saved"),
    (InvalidInput("not_an_image"), "这个文件不是可读取的图片", "That file is not a readable image"),
    (InvalidInput("no_barcode"), "图片中没有识别到条码，请重拍或手动输入",
     "No barcode found in the image; retake it or type the code"),
    (ServerUnreachable("server_unreachable"), "服务器连不上，已离线工作，数据保存在本机",
     "The server cannot be reached; working offline"),
    (AuthError("bad_credentials"), "用户名或密码错误", "Wrong username or password"),
    (AuthError("token_expired"), "登录已过期，请重新登录", "Your login has expired; log in again"),
    (ServerRejected("hash_mismatch", status=422), "文件上传校验失败，下次同步会重传",
     "An upload failed its check; it will be resent"),
    (ServerRejected("malformed_request", "body.x: missing", status=422),
     "服务器拒收了请求（body.x: missing）", "The server refused the request (body.x: missing)"),
    (ServerRejected("teapot", status=418), "服务器拒绝了请求（teapot）",
     "The server refused the request (teapot)"),
    (FieldAppError("brand_new_code"), "操作失败（brand_new_code）",
     "The action failed (brand_new_code)"),
])
def test_error_codes_become_sentences(error: FieldAppError, zh: str, en: str) -> None:
    assert messages.describe(error) == zh
    i18n.set_language("en")
    assert messages.describe(error) == en


def test_an_unexpected_exception_gets_a_calm_sentence(caplog: pytest.LogCaptureFixture) -> None:
    assert messages.describe(KeyError("boom")) == i18n.tr("error.unexpected")
    assert "unexpected error" in caplog.text


@pytest.mark.parametrize(("cli", "env", "stored", "expected"), [
    (None, None, None, "zh"), ("en", "zh", None, "en"), (None, "en", "zh", "en"),
    (None, None, "en", "en"), (None, "fr", None, "zh"), (None, "en_US.UTF-8", None, "en"),
])
def test_language_choice(monkeypatch: pytest.MonkeyPatch, cli: str | None, env: str | None,
                         stored: str | None, expected: str) -> None:
    if env:
        monkeypatch.setenv("FIELDAPP_LANG", env)
    assert i18n.resolve_language(cli, stored) == expected


def test_switching_to_english_changes_what_is_shown(qtbot: QtBot, window: MainWindow,
                                                    seeded: Seeded) -> None:
    window.open_job(seeded.job_ids[0])
    page = window.job_page
    assert page.tabs.tabText(0) == "客户360"
    assert page.move_buttons["accepted"].text() == "接单"

    tap(qtbot, window.top_bar.language)

    assert i18n.language() == "en"
    assert window.top_bar.sync.text() == "Sync"
    assert page.tabs.tabText(0) == "Customer 360"
    assert page.move_buttons["accepted"].text() == "Accept"
    assert page.status.text() == "Dispatched"
    assert page.form.banner.text() == "Tap Start service before filling the form"
    window.ctx.replica.jobs.transition(seeded.job_ids[0], "accepted")
    window.ctx.replica.jobs.transition(seeded.job_ids[0], "in_service")
    window.open_job(seeded.job_ids[0])
    assert page.form.submit.text() == "Submit form"
    row = page.form.rows["visit_outcome"]
    assert row.title.text() == "Visit outcome *"
    assert [b.text() for b in row.input.buttons()] == ["Inspected", "Nobody home",
                                                       "Entry refused"]
    assert page.tabs.tabText(page.tabs.indexOf(page.form)).startswith("Form ")
    assert page.signature.confirm.text() == "Confirm signature"
    assert "Dispatched" in window.today.model.index(0).data()
    assert window.today.title.text() == "Today's jobs"
    # The choice is remembered for the next start.
    assert window.ctx.replica.state("ui.language") == "en"

    tap(qtbot, window.top_bar.language)
    assert window.top_bar.sync.text() == "同步" and page.tabs.tabText(0) == "客户360"

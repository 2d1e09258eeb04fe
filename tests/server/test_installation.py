"""`python -m sync_server init`: a utility's own server set up from nothing, on SQLite or
PostgreSQL (FIELDAPP_TEST_PG=1), driven as an operator would, as separate processes."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from fieldapp.forms.checklist import bundled_definitions
from sync_server.services.installation import (
    Installation,
    SetupRefused,
    read_password,
)
from tests.conftest import ROOT, ServerProcess
from tests.server.operator import ADMIN_PASSWORD, run_init
from tests.server.test_conflict_review import sign_in

UTILITY = ("--utility-name", "江宁燃气有限公司", "--district", "江宁区", "--district", "溧水区",
           "--admin", "chief", "--admin-name", "周工")


@pytest.fixture
def fresh(tmp_path: Path) -> ServerProcess:
    """A server process for an empty data directory (a fresh PostgreSQL database on PG)."""
    data = tmp_path / "server"
    return ServerProcess(data)


def test_a_new_utility_is_set_up_and_its_server_serves(fresh: ServerProcess) -> None:
    done = run_init(fresh, *UTILITY)
    assert done.returncode == 0, done.stderr
    assert "已初始化" in done.stdout and "2 个营业区域" in done.stdout
    assert ADMIN_PASSWORD not in done.stdout + done.stderr  # never echoed
    fresh.start()
    try:
        admin = requests.post(fresh.url + "/api/v1/auth/login", timeout=10, json={
            "username": "chief", "password": ADMIN_PASSWORD, "device_id": "office-pc"})
        assert admin.status_code == 200, admin.text
        assert admin.json()["user"]["role"] == "admin"
        settings = {r["id"]: r["value"] for r in fresh.query("SELECT id, value FROM org_settings")}
        assert settings["utility_name"] == "江宁燃气有限公司"
        assert json.loads(settings["districts"]) == ["江宁区", "溧水区"]
        forms = {(r["code"], r["form_version"])
                 for r in fresh.query("SELECT code, form_version FROM form_definitions")}
        assert forms == set(bundled_definitions())  # the standard forms, published
        assert fresh.scalar("SELECT count(*) FROM customers") == 0  # no demo data
        # The first admin creates accounts in the districts set up, before any customer.
        office = requests.Session()
        page = sign_in(office, fresh.url, "chief", ADMIN_PASSWORD, "/office/users")
        assert page.status_code == 200 and page.url.endswith("/office/users"), page.text
        assert "江宁区" in page.text and "溧水区" in page.text
        # Published through the change log: a tablet's pull carries them.
        logged = fresh.query("SELECT record_id FROM changes WHERE tbl = 'org_settings'")
        assert {r["record_id"] for r in logged} >= {"utility_name", "districts"}
    finally:
        fresh.stop()
    log = (fresh.data_dir / "server.log").read_text()
    assert ADMIN_PASSWORD not in log


def test_an_empty_directory_is_not_served_and_says_what_to_run(fresh: ServerProcess) -> None:
    fresh.data_dir.mkdir(parents=True)
    args = [sys.executable, "-m", "sync_server", "--data", str(fresh.data_dir),
            "--port", str(fresh.port)]
    if fresh.database_url:
        args += ["--database-url", fresh.database_url]
    started = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=60,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert started.returncode == 2
    assert "还没有初始化" in started.stderr and "python -m sync_server init" in started.stderr


def test_init_runs_once_and_a_second_run_changes_nothing(fresh: ServerProcess) -> None:
    assert run_init(fresh, *UTILITY).returncode == 0
    before = fresh.query("SELECT username, password_hash FROM users")
    again = run_init(fresh, "--utility-name", "别的公司", "--district", "别的区",
                     "--admin", "chief", password="another-password")
    assert again.returncode == 1 and "已经初始化" in again.stderr
    assert fresh.query("SELECT username, password_hash FROM users") == before
    assert fresh.scalar("SELECT value FROM org_settings WHERE id = 'utility_name'") == \
        "江宁燃气有限公司"


@pytest.mark.parametrize(("args", "password", "said"), [
    (("--utility-name", "某燃气"), ADMIN_PASSWORD, "至少给出一个营业区域"),
    (("--utility-name", " ", "--district", "甲区"), ADMIN_PASSWORD, "燃气公司名称"),
    (("--utility-name", "某燃气", "--district", "甲区", "--district", "甲区"), ADMIN_PASSWORD,
     "营业区域有重复"),
    (("--utility-name", "某燃气", "--district", "甲区"), "short", "至少 8 位"),
    (("--utility-name", "某燃气", "--district", "甲区", "--admin", "the boss"), ADMIN_PASSWORD,
     "小写字母、数字或下划线"),
    (("--utility-name", "某燃气", "--district", "甲区"), None, "没有终端可以输入密码"),
])
def test_a_bad_set_up_is_refused_in_words_and_writes_nothing(
        fresh: ServerProcess, args: tuple[str, ...], password: str | None, said: str) -> None:
    refused = run_init(fresh, *args, password=password, stdin="")
    assert refused.returncode == 1 and said in refused.stderr, refused.stderr
    assert refused.stdout == ""
    assert not fresh.data_dir.exists()  # refused before any database was made
    if password:
        assert password not in refused.stderr


def test_the_password_comes_from_a_file_for_automation(fresh: ServerProcess,
                                                       tmp_path: Path) -> None:
    secret = tmp_path / "admin.pw"
    secret.write_text("from-a-vault-9\n", encoding="utf-8")
    done = run_init(fresh, *UTILITY, "--admin-password-file", str(secret), password=None)
    assert done.returncode == 0, done.stderr
    fresh.start()
    try:
        ok = requests.post(fresh.url + "/api/v1/auth/login", timeout=10, json={
            "username": "chief", "password": "from-a-vault-9", "device_id": "office-pc"})
        assert ok.status_code == 200  # the file's trailing newline is not part of it
    finally:
        fresh.stop()
    missing = run_init(ServerProcess(tmp_path / "other"), *UTILITY, "--admin-password-file",
                       str(tmp_path / "nowhere.pw"), password=None)
    assert missing.returncode == 1 and "读不了密码文件" in missing.stderr


def test_the_password_asked_on_a_terminal_must_be_typed_the_same_twice(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    args = argparse.Namespace(admin_password_file=None)
    typed = iter(["Secret-one-1", "Secret-one-2"])
    with pytest.raises(SetupRefused, match="两次输入的密码不一致"):
        read_password(args, ask=lambda _prompt: next(typed), env={})
    same = iter(["Secret-one-1", "Secret-one-1"])
    assert read_password(args, ask=lambda _prompt: next(same), env={}) == "Secret-one-1"


def test_the_set_up_names_every_problem_at_once() -> None:
    setup = Installation("", ("甲区", "甲区"), "", "", "x")
    assert len(setup.problems()) == 4


def test_a_standard_form_shipped_later_is_published_when_the_server_starts(
        fresh: ServerProcess) -> None:
    """An upgrade: the installation predates repair_report v2; starting the new server
    publishes it (through the change log) and leaves the version in use as it was."""
    assert run_init(fresh, *UTILITY).returncode == 0
    removed = fresh.query("DELETE FROM form_definitions WHERE id = 'form-repair_report-v2'"
                          " RETURNING id")
    assert removed and fresh.scalar("SELECT count(*) FROM changes WHERE tbl ="
                                    " 'form_definitions' AND record_id ="
                                    " 'form-repair_report-v2'") == 1
    v1 = fresh.query("SELECT definition, version FROM form_definitions"
                     " WHERE id = 'form-repair_report-v1'")
    fresh.start()
    fresh.stop()
    assert fresh.scalar("SELECT form_version FROM form_definitions"
                        " WHERE id = 'form-repair_report-v2'") == 2
    assert fresh.scalar("SELECT count(*) FROM changes WHERE tbl = 'form_definitions' AND"
                        " record_id = 'form-repair_report-v2'") == 2
    assert fresh.query("SELECT definition, version FROM form_definitions"
                       " WHERE id = 'form-repair_report-v1'") == v1

"""`python -m sync_server import accounts`: the utility's staff list made into accounts, with
first passwords handed to the operator in a private file, never printed."""

from __future__ import annotations

import csv
import stat
import subprocess
from pathlib import Path

import requests

from tests.conftest import ServerProcess
from tests.server.operator import run_import
from tests.server.test_customer_import import write_csv

HEADER = ["工号", "姓名", "角色", "营业区域", "技能"]
STAFF = [
    ["wang01", "王建国", "安检员", "江宁区", "安检、维修"],
    ["li02", "李秀英", "安检员", "溧水区", "抄表"],
    ["zhao", "赵敏", "调度员", "江宁区", ""],
    ["sun", "孙立", "管理员", "", ""],
]


def test_staff_become_accounts_with_private_first_passwords(
        utility: ServerProcess, tmp_path: Path) -> None:
    file = write_csv(tmp_path / "人员.csv", STAFF, header=HEADER)
    before = utility.scalar("SELECT count(*) FROM users")
    refused = run_import_accounts(utility, file)
    assert refused.returncode == 2 and "--passwords-out" in refused.stderr
    assert utility.scalar("SELECT count(*) FROM users") == before  # rolled back

    out = tmp_path / "初始密码.csv"
    done = run_import_accounts(utility, file, "--passwords-out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "新账号 4" in done.stdout
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    passwords = dict(list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))[1:])
    assert set(passwords) == {"wang01", "li02", "zhao", "sun"}
    assert not any(p in done.stdout + done.stderr for p in passwords.values())
    rows = {r["username"]: r for r in utility.query(
        "SELECT username, role, district, skills FROM users")}
    assert rows["wang01"]["role"] == "technician" and rows["wang01"]["district"] == "江宁区"
    assert rows["wang01"]["skills"] == '["inspection", "repair"]'
    assert rows["zhao"]["role"] == "dispatcher" and rows["sun"]["district"] is None
    logged = utility.query("SELECT record_id FROM changes WHERE op = 'user_created'")
    assert {r["record_id"] for r in logged} >= set(passwords)  # in the audit chain

    utility.start()
    try:
        login = requests.post(utility.url + "/api/v1/auth/login", timeout=10, json={
            "username": "wang01", "password": passwords["wang01"], "device_id": "pad-1"})
        assert login.status_code == 200 and login.json()["user"]["district"] == "江宁区"
    finally:
        utility.stop()

    again = run_import_accounts(utility, file, "--passwords-out", str(tmp_path / "p2.csv"))
    assert "新账号 0，更新 0，未变 4" in again.stdout
    STAFF[1][4] = "抄表、安检"
    changed = run_import_accounts(utility, write_csv(tmp_path / "人员2.csv", STAFF,
                                                     header=HEADER))
    assert "更新 1" in changed.stdout, changed.stdout + changed.stderr
    STAFF[1][4] = "抄表"


def test_bad_staff_rows_are_named(utility: ServerProcess, tmp_path: Path) -> None:
    rows = [*STAFF, ["Bad Name", "某", "安检员", "江宁区", "安检"],
            ["wang01", "重名", "安检员", "江宁区", "安检"],
            ["qian", "钱", "厨师", "", ""],
            ["zhou", "周", "安检员", "外区", "安检"],
            ["wu", "吴", "安检员", "江宁区", "开挖掘机"],
            ["zheng", "郑", "审计员", "江宁区", ""]]
    dry = run_import_accounts(utility, write_csv(tmp_path / "人员.csv", rows, header=HEADER),
                              "--dry-run")
    assert dry.returncode == 1
    for said in ("第 6 行「工号」：账号「Bad Name」应为",
                 "第 7 行「工号」：账号 wang01 与第 2 行重复",
                 "第 8 行「角色」：角色「厨师」不认识",
                 "第 9 行「营业区域」：未知区域「外区」",
                 "第 10 行「技能」：技能「开挖掘机」不认识",
                 "第 11 行「营业区域」：审计员看全部区域"):
        assert said in dry.stdout, dry.stdout


def run_import_accounts(server: ServerProcess, file: Path,
                        *args: str) -> subprocess.CompletedProcess[str]:
    return run_import(server, "accounts", file, *args)

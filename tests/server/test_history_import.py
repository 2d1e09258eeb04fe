"""`python -m sync_server import contracts|readings|bills|payments`: a customer's history from
the billing system, after its customers and meters, run as an operator would (separate
processes, SQLite or PostgreSQL with FIELDAPP_TEST_PG=1), then seen on the desk's page."""

from __future__ import annotations

from pathlib import Path

import requests

from tests.conftest import ServerProcess
from tests.server.operator import ADMIN_PASSWORD, run_import
from tests.server.test_conflict_review import sign_in
from tests.server.test_customer_import import good_rows, write_csv

CONTRACTS = (["户号", "合同编号", "用气性质", "签订日期", "合同状态"], [
    ["320100000000", "HT2019000001", "居民阶梯", "2019/05/01", "有效"],
    ["320100000001", "HT2019000002", "居民阶梯", "20190502", ""],
    ["320100000002", "HT2019000003", "商业", "2019年5月3日", "终止"],
])
READINGS = (["表条码", "抄表日期", "本期读数", "抄表方式"], [
    ["GM0000000000", "2026-09-10 09:30", "100.5", "人工"],
    ["GM0000000000", "2026-10-10 09:30", "120", "人工"],
    ["GM0000000000", "2026-11-10", "131.25", "远传"],
    ["GM0000000001", "2026/11/08 14:05", "42", ""],
])
BILLS = (["户号", "表号", "起始日期", "截止日期", "上期读数", "本期读数", "应缴金额", "缴费期限",
          "缴费状态", "缴费日期"], [
    ["320100000000", "GM0000000000", "2026-09-10", "2026-10-10", "100.5", "120", "58.50",
     "2026-10-25", "已缴", "2026-10-20 10:00"],
    ["320100000000", "GM0000000000", "2026-10-10", "2026-11-10", "120", "131.25", "33.75",
     "2026-11-25", "未缴", ""],
    ["320100000001", "", "2026-10-01", "2026-10-31", "", "", "1,234.00", "2026-11-20", "逾期",
     ""],
])
PAYMENTS = (["户号", "缴费时间", "实收金额", "所属期", "收费渠道"], [
    ["320100000000", "2026-10-20 10:00", "58.50", "2026年10月", "微信"],
    ["320100000001", "2026-08-03 16:20:11", "￥96.00", "202607", "营业厅现金"],
])


def load(server: ServerProcess, tmp_path: Path) -> None:
    done = run_import(server, "customers", write_csv(tmp_path / "客户.csv", good_rows(5)))
    assert done.returncode == 0, done.stdout + done.stderr


def history(server: ServerProcess, tmp_path: Path, what: str,
            sheet: tuple[list[str], list[list[str]]], *args: str):
    header, rows = sheet
    return run_import(server, what, write_csv(tmp_path / f"{what}.csv", rows, header=header),
                      *args)


def changes(server: ServerProcess) -> int:
    return server.scalar("SELECT count(*) FROM changes")


def test_a_customers_history_comes_in_once_and_shows_on_the_desk(
        utility: ServerProcess, tmp_path: Path) -> None:
    load(utility, tmp_path)
    for what, sheet, said in [("contracts", CONTRACTS, "合同：新增 3"),
                              ("readings", READINGS, "读数：新增 4"),
                              ("bills", BILLS, "账单：新增 3"),
                              ("payments", PAYMENTS, "缴费：新增 2")]:
        done = history(utility, tmp_path, what, sheet)
        assert done.returncode == 0 and said in done.stdout, done.stdout + done.stderr
    kept = utility.query("SELECT number, signed_on, status FROM contracts ORDER BY number")
    assert [tuple(r.values()) for r in kept] == [
        ("HT2019000001", "2019-05-01", "active"), ("HT2019000002", "2019-05-02", "active"),
        ("HT2019000003", "2019-05-03", "ended")]
    meter = utility.query("SELECT last_reading, last_read_at FROM meters"
                          " WHERE barcode = 'GM0000000000'")[0]
    assert meter == {"last_reading": 131.25, "last_read_at": "2026-11-10T00:00:00+08:00"}
    sources = utility.query("SELECT read_at, source FROM readings ORDER BY read_at")
    assert sources[0] == {"read_at": "2026-09-10T09:30:00+08:00", "source": "billing"}
    assert "remote" in {r["source"] for r in sources}
    owed = utility.query("SELECT c.account_no, b.amount_cents, b.status, b.volume, b.paid_at"
                         " FROM bills b JOIN customers c ON c.id = b.customer_id"
                         " ORDER BY b.period_end, c.account_no")
    assert [tuple(r.values()) for r in owed] == [
        ("320100000000", 5850, "paid", "19.500", "2026-10-20T10:00:00+08:00"),
        ("320100000001", 123400, "overdue", None, None),
        ("320100000000", 3375, "unpaid", "11.250", None)]
    paid = utility.query("SELECT amount, period, method FROM payments ORDER BY paid_at")
    assert [tuple(r.values()) for r in paid] == [(96.0, "2026-07", "营业厅现金"),
                                                 (58.5, "2026-10", "微信")]
    logged = utility.query("SELECT tbl, count(*) AS n FROM changes WHERE by_user = 'import'"
                           " GROUP BY tbl ORDER BY tbl")
    assert {r["tbl"]: r["n"] for r in logged} == {
        "bills": 3, "contracts": 3, "customers": 5, "meters": 5 + 2, "payments": 2,
        "readings": 4}  # each meter once more: its last reading

    before = changes(utility)
    for what, sheet in [("contracts", CONTRACTS), ("readings", READINGS), ("bills", BILLS),
                        ("payments", PAYMENTS)]:
        again = history(utility, tmp_path, what, sheet)
        assert again.returncode == 0 and "新增 0，更新 0，未变" in again.stdout, again.stdout
    assert changes(utility) == before  # the same files twice: not one log entry

    corrected = [row[:] for row in BILLS[1]]
    corrected[1][8] = "已缴"  # the billing system recorded the payment since
    corrected[1][9] = "2026-11-20"
    done = history(utility, tmp_path, "bills", (BILLS[0], corrected))
    assert "账单：新增 0，更新 1，未变 2" in done.stdout, done.stdout
    assert changes(utility) == before + 1

    utility.start()
    try:
        office = requests.Session()
        assert sign_in(office, utility.url, "admin", ADMIN_PASSWORD).status_code == 200
        customer = utility.scalar("SELECT id FROM customers WHERE account_no = '320100000001'")
        page = office.get(f"{utility.url}/office/desk/{customer}", timeout=10)
        assert page.status_code == 200
        assert "欠费 1234.00 元" in page.text and "HT2019000002" in page.text
        assert "营业厅现金" in page.text and "42" in page.text
    finally:
        utility.stop()


def test_bad_history_rows_are_named_and_nothing_is_written(
        utility: ServerProcess, tmp_path: Path) -> None:
    load(utility, tmp_path)
    assert history(utility, tmp_path, "readings", READINGS).returncode == 0
    before = changes(utility)
    header, good = READINGS
    bad_readings = [
        ["GM0000000000", "2026-10-25", "110", ""],  # below 2026-10-10's 120
        ["GM0000000001", "2026-12-01", "41", ""],  # below the file's own row
        ["GM0000000001", "2026-11-20", "45", ""],
        ["GM0000000000", "2026-08-01", "200", ""],  # above the stored reading after it
        ["GM9999999999", "2026-11-01", "1", ""],
        ["GM0000000002", "昨天", "1", ""],
        ["GM0000000002", "2099-01-01", "1", ""],
        ["GM0000000003", "2026-11-01", "-3", "手抄"],
        ["GM0000000003", "2026-11-01", "3", ""],  # good: the row before it was refused
        ["GM0000000003", "2026-11-01", "4", ""],  # a second reading at the same time
    ]
    dry = history(utility, tmp_path, "readings", (header, bad_readings), "--dry-run")
    out = dry.stdout
    assert dry.returncode == 1 and "共 10 行：2 行可以导入，8 行有问题" in out, out
    assert "第 2 行「本期读数」：读数 110 小于前一次（已有，2026-10-10 09:30）的 120" in out
    assert "第 3 行「本期读数」：读数 41 小于前一次（第 4 行，2026-11-20 00:00）的 45" in out
    assert "第 5 行「本期读数」：读数 200 大于之后（已有，2026-09-10 09:30）的 100.5" in out
    assert "第 6 行「表条码」：表条码 GM9999999999 不存在：请先导入客户和表具" in out
    assert "第 7 行「抄表日期」：抄表时间「昨天」无法识别" in out
    assert "第 8 行「抄表日期」：抄表时间 2099-01-01 在现在之后" in out
    assert "第 9 行「本期读数」：读数「-3」应是不小于 0 的数" in out
    assert "第 9 行「抄表方式」：抄表方式「手抄」不认识" in out
    assert "第 11 行「抄表日期」：表 GM0000000003 在 2026-11-01 的读数与第 10 行重复" in out
    assert out.index("第 2 行") < out.index("第 6 行")  # listed by row

    bad_bills = [
        ["320100000000", "GM0000000001", "2026-09-10", "2026-10-10", "", "", "1", "", "", ""],
        ["320100000003", "", "2026-10-10", "2026-09-10", "", "", "1", "", "", ""],
        ["320100000003", "", "2026-09-10", "2026-10-10", "10", "30", "5", "", "欠着", ""],
        ["320100000004", "", "2026-09-10", "2026-10-10", "", "", "五十", "", "", "上周"],
        ["329999999999", "", "2026-09-10", "2026-10-10", "", "", "1", "", "", ""],
    ]
    dry = history(utility, tmp_path, "bills", (BILLS[0], bad_bills), "--dry-run")
    out = dry.stdout
    assert dry.returncode == 1 and "5 行有问题" in out, out
    assert "第 2 行「表号」：表 GM0000000001 不属于户号 320100000000" in out
    assert "第 3 行「截止日期」：截止日期 2026-09-10 早于起始日期 2026-10-10" in out
    assert "第 4 行「缴费状态」：状态「欠着」不认识" in out
    assert "第 5 行「应缴金额」：金额「五十」应是不小于 0 的元数" in out
    assert "第 5 行「缴费日期」：缴费日期「上周」无法识别" in out
    assert "第 6 行「户号」：户号 329999999999 不存在：请先导入客户" in out

    bad_contracts = [["320100000000", "HT1", "", "", ""], ["320100000001", "HT1", "", "", ""],
                     ["", "HT2", "", "", ""], ["320100000002", "HT3", "", "去年", "作废"]]
    dry = history(utility, tmp_path, "contracts", (CONTRACTS[0], bad_contracts))
    out = dry.stdout
    assert dry.returncode == 1 and "什么都没有写入" in out, out
    assert "第 3 行「合同编号」：合同号 HT1 与第 2 行重复" in out
    assert "第 4 行「户号」：缺少户号" in out
    assert "第 5 行「签订日期」：日期「去年」无法识别" in out
    assert "第 5 行「合同状态」：合同状态「作废」不认识" in out

    bad_payments = [["320100000000", "2026-10-20 10:00", "0", "", ""],
                    ["320100000000", "2026-10-21 10:00", "5", "", "现金"],
                    ["320100000000", "2026-10-21 10:00", "5.00", "", "现金"]]
    dry = history(utility, tmp_path, "payments", (PAYMENTS[0], bad_payments))
    out = dry.stdout
    assert dry.returncode == 1, out
    assert "第 2 行「实收金额」：金额「0」应是大于 0 的元数" in out
    assert "第 4 行「缴费时间」：与第 3 行是同一笔缴费" in out
    assert changes(utility) == before  # nothing of any of it written

    good_only = history(utility, tmp_path, "readings", (header, bad_readings), "--good-rows")
    assert good_only.returncode == 0 and "读数：新增 2" in good_only.stdout, good_only.stdout
    assert utility.scalar("SELECT last_reading FROM meters WHERE barcode = 'GM0000000003'") \
        == 3.0
    assert utility.scalar("SELECT last_reading FROM meters WHERE barcode = 'GM0000000001'") \
        == 45.0  # the newest good reading (41 on 12-01 was refused)


def test_a_history_file_before_its_customers_says_what_to_import_first(
        utility: ServerProcess, tmp_path: Path) -> None:
    done = history(utility, tmp_path, "payments", PAYMENTS)
    assert done.returncode == 1 and "户号 320100000000 不存在：请先导入客户" in done.stdout
    missing = history(utility, tmp_path, "readings", (["表条码", "读数"], [["GM1", "1"]]))
    assert missing.returncode == 2 and "找不到抄表时间列" in missing.stderr


def test_a_history_of_many_meters_is_checked_block_by_block(utility: ServerProcess,
                                                            tmp_path: Path) -> None:
    """More meters than one block of the order check (500): a bad reading in a later block
    is still found against the stored one, and the good rows of every block go in."""
    done = run_import(utility, "customers", write_csv(tmp_path / "客户.csv", good_rows(1100)))
    assert done.returncode == 0, done.stdout + done.stderr
    header = ["表条码", "抄表日期", "本期读数"]
    first = [[f"GM{i:010d}", "2026-10-01", str(100 + i)] for i in range(1100)]
    assert "读数：新增 1100" in history(utility, tmp_path, "readings", (header, first)).stdout
    second = [[f"GM{i:010d}", "2026-11-01", str(150 + i)] for i in range(1100)]
    second[1050][2] = "1"  # lower than its meter's stored 1150, in the third block
    out = history(utility, tmp_path, "readings", (header, second), "--good-rows").stdout
    assert "第 1052 行「本期读数」：读数 1 小于前一次（已有，2026-10-01 00:00）的 1150" in out
    assert "读数：新增 1099" in out, out


def test_a_long_history_is_judged_by_the_readings_next_to_the_file(
        utility: ServerProcess, tmp_path: Path) -> None:
    """The order check reads only the stored readings around the file's, yet the neighbour
    it judges by is the one next in time: a month's file after fourteen months stored, a
    file row inside the history, and stored times written in another offset (a tablet's
    UTC), whose text order is not their time order."""
    load(utility, tmp_path)
    header = ["表条码", "抄表日期", "本期读数"]
    months = [f"{2025 + (9 + m) // 12}-{1 + (9 + m) % 12:02d}-10" for m in range(14)]
    stored = [["GM0000000000", day, str(100 + 10 * m)] for m, day in enumerate(months)]
    assert "读数：新增 14" in history(utility, tmp_path, "readings", (header, stored)).stdout
    meter = utility.query("SELECT id, customer_id FROM meters WHERE barcode = ?",
                          ["GM0000000001"])[0]
    for at, value in (("2026-11-30T20:00:00Z", 300), ("2026-12-01T01:00:00+08:00", 290)):
        utility.query("INSERT INTO readings (id, customer_id, meter_id, read_at, value, source,"
                      " version, hlc) VALUES (?, ?, ?, ?, ?, 'tablet', 1, 'h') RETURNING id",
                      [f"tablet-{value}", meter["customer_id"], meter["id"], at, value])
    before = changes(utility)
    out = history(utility, tmp_path, "readings", (header, [
        ["GM0000000000", "2026-12-02", "200"],   # below November's 230, above 2025's
        ["GM0000000000", "2026-03-20", "199"],   # above April's stored 160
        ["GM0000000001", "2026-12-03", "295"],   # below 300, the later in time, not text
        ["GM0000000000", "2025-10-10", "100"],   # the first month as stored: unchanged
    ]), "--good-rows").stdout
    assert "第 2 行「本期读数」：读数 200 小于前一次（已有，2026-11-10 00:00）的 230" in out, out
    assert "第 3 行「本期读数」：读数 199 大于之后（已有，2026-04-10 00:00）的 160" in out, out
    assert "第 4 行「本期读数」：读数 295 小于前一次（已有，2026-12-01 04:00）的 300" in out, out
    assert "读数：新增 0，更新 0，未变 1" in out, out
    assert changes(utility) == before
    fine = history(utility, tmp_path, "readings", (header, [
        ["GM0000000000", "2026-12-02", "240"], ["GM0000000001", "2026-12-03", "301"]]))
    assert fine.returncode == 0 and "读数：新增 2" in fine.stdout, fine.stdout

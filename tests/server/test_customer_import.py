"""`python -m sync_server import customers`: a billing system's export brought in as an
operator would, as a separate process, on SQLite or PostgreSQL (FIELDAPP_TEST_PG=1)."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.styles import PatternFill

from tests.conftest import ServerProcess
from tests.server.operator import run_import as run_import_what

HEADER = ["户号", "户名", "联系电话", "用气地址", "营业区域", "人口", "标签", "用户类型",
          "表条码", "表钢号", "表型号", "安装日期"]


def good_rows(n: int) -> list[list[str]]:
    rows = []
    for i in range(n):
        district = "江宁区" if i % 2 else "溧水区"
        rows.append([f"3201{i:08d}", f"客户{i}", f"139-0000-{i:04d}", f"{district} 天元路 {i} 号",
                     district, str(1 + i % 5), "独居老人、低保" if i % 7 == 0 else "",
                     "商业" if i % 10 == 0 else "居民", f"GM{i:010d}", f"S{i:06d}", "G2.5",
                     f"2019/05/0{1 + i % 9}"])
    return rows


BAD = [
    ["", "无户号", "13900000000", "江宁区 某路", "江宁区", "3", "", "居民", "GM9000000001", "",
     "", ""],  # missing account number
    ["320199999991", "外区", "13900000001", "某路", "雨花台区", "3", "", "居民", "GM9000000002",
     "", "", ""],  # unknown district
    ["320199999992", "重复表", "13900000002", "某路", "江宁区", "3", "", "居民", "GM0000000003",
     "", "", ""],  # the barcode of good row 3
    ["320199999993", "人口错", "13900000003", "某路", "江宁区", "很多", "", "居民",
     "GM9000000004", "", "", ""],
    ["320199999994", "日期错", "13900000004", "某路", "江宁区", "2", "", "居民", "GM9000000005",
     "", "", "去年春天"],
]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "gbk",
              header: list[str] = HEADER) -> Path:
    text = io.StringIO()
    csv.writer(text).writerows([header, *rows])
    path.write_bytes(text.getvalue().encode(encoding))
    return path


def run_import(server: ServerProcess, file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_import_what(server, "customers", file, *args)


def counts(server: ServerProcess) -> tuple[int, int, int]:
    return (server.scalar("SELECT count(*) FROM customers"),
            server.scalar("SELECT count(*) FROM meters"),
            server.scalar("SELECT count(*) FROM changes"))


def test_bad_rows_are_named_by_row_and_column_and_nothing_is_written(
        utility: ServerProcess, tmp_path: Path) -> None:
    file = write_csv(tmp_path / "客户.csv", good_rows(40) + BAD)
    before = counts(utility)
    dry = run_import(utility, file, "--dry-run")
    assert dry.returncode == 1, dry.stderr
    out = dry.stdout
    assert "共 45 行：40 行可以导入，5 行有问题" in out
    assert "第 42 行「户号」：缺少户号" in out  # the header is row 1
    assert "第 43 行「营业区域」：未知区域「雨花台区」" in out
    assert "第 44 行「表条码」：表条码 GM0000000003 与第 5 行重复" in out
    assert "第 45 行「人口」：人口「很多」应是 1 到 50 的整数" in out
    assert "第 46 行「安装日期」：日期「去年春天」无法识别" in out
    assert counts(utility) == before

    refused = run_import(utility, file)  # all or nothing
    assert refused.returncode == 1 and "什么都没有写入" in refused.stdout
    assert counts(utility) == before


def test_good_rows_import_through_the_log_and_a_second_run_changes_nothing(
        utility: ServerProcess, tmp_path: Path) -> None:
    rows = good_rows(60)
    rows.append([*rows[1][:8], "GM7777777777", "S777", "G4", "2020-01-01"])  # a second meter
    file = write_csv(tmp_path / "客户.csv", rows + BAD)
    before = counts(utility)
    done = run_import(utility, file, "--good-rows")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "新客户 60" in done.stdout and "新表具 61" in done.stdout
    customers, meters, changes = counts(utility)
    assert (customers, meters) == (60, 61) and changes == before[2] + 121
    row = utility.query("SELECT * FROM customers WHERE account_no = '320100000007'")[0]
    assert row["phone"] == "13900000007" and row["tags"] == '["独居老人", "低保"]'
    assert row["kind"] == "residential" and row["household_size"] == 3
    two = utility.query("SELECT m.barcode, m.installed_on FROM meters m JOIN customers c"
                        " ON c.id = m.customer_id WHERE c.account_no = '320100000001'"
                        " ORDER BY m.barcode")
    assert [(m["barcode"], m["installed_on"]) for m in two] == [
        ("GM0000000001", "2019-05-02"), ("GM7777777777", "2020-01-01")]
    logged = utility.query("SELECT by_user, customer_id FROM changes WHERE tbl = 'meters'")
    assert {r["by_user"] for r in logged} == {"import"} and all(r["customer_id"] for r in logged)

    again = run_import(utility, file, "--good-rows")
    assert again.returncode == 0 and "新客户 0，更新 0；新表具 0，更新 0；未变 121" in again.stdout
    assert counts(utility) == (customers, meters, changes)  # idempotent: not one log entry

    rows[7][2] = "025-5555-0007"  # the customer's phone changed in the billing system
    changed = run_import(utility, write_csv(tmp_path / "下月.csv", rows), "--good-rows")
    assert "新客户 0，更新 1" in changed.stdout, changed.stdout
    assert utility.scalar("SELECT phone FROM customers WHERE account_no = '320100000007'") == \
        "02555550007"
    assert counts(utility) == (customers, meters, changes + 1)


def test_a_mapping_given_once_is_saved_for_its_source(utility: ServerProcess,
                                                      tmp_path: Path) -> None:
    header = ["用户编码", *HEADER[1:]]
    file = write_csv(tmp_path / "营收.csv", good_rows(5), header=header, encoding="utf-8-sig")
    unknown = run_import(utility, file)
    assert unknown.returncode == 2 and "找不到户号列" in unknown.stderr
    first = run_import(utility, file, "--source", "营收系统", "--map", "account_no=用户编码")
    assert first.returncode == 0, first.stderr
    more = write_csv(tmp_path / "营收2.csv", good_rows(8), header=header)
    second = run_import(utility, more, "--source", "营收系统")
    assert second.returncode == 0 and "新客户 3" in second.stdout, second.stdout + second.stderr
    wrong = run_import(utility, more, "--map", "account_no=没有这列")
    assert wrong.returncode == 2 and "文件里没有「没有这列」这一列" in wrong.stderr


def test_excel_with_a_sea_of_formatted_blank_rows_reads_its_data_only(
        utility: ServerProcess, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in good_rows(3):
        sheet.append([int(row[5]) if i == 5 else row[i] for i in range(len(row))])
    grey = PatternFill("solid", fgColor="DDDDDD")
    for r in range(5, 30_000):  # formatted, never filled: the declared size is 30,000 rows
        sheet.cell(row=r, column=1).fill = grey
    book.save(tmp_path / "客户.xlsx")
    done = run_import(utility, tmp_path / "客户.xlsx", "--dry-run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "共 3 行：3 行可以导入" in done.stdout


@pytest.mark.parametrize(("content", "name", "said"), [
    (b"", "empty.csv", "文件是空的"),
    ("户号,户名\n".encode() + bytes([0xFF, 0xFE, 0xFF]) * 10, "latin.csv", "编码无法识别"),
    ("户号,户名,户号\n1,a,2\n".encode(), "dup.csv", "有两列都叫「户号」"),
    ("户号,户名\n".encode(), "header.csv", "只有表头"),
    (b"PK\x03\x04 not really a workbook", "broken.xlsx", "Excel 文件打不开"),
    (b"%PDF-1.4", "bill.pdf", "不认识的文件类型"),
])
def test_a_file_that_cannot_be_read_is_refused_in_words(
        utility: ServerProcess, tmp_path: Path, content: bytes, name: str, said: str) -> None:
    (tmp_path / name).write_bytes(content)
    refused = run_import(utility, tmp_path / name)
    assert refused.returncode == 2 and said in refused.stderr, refused.stderr
    assert counts(utility)[0] == 0

"""``python -m sync_server import KIND FILE``: the command line for big files.

    python -m sync_server import customers 客户.csv --data /srv/fieldapp --dry-run
    python -m sync_server import customers 客户.xlsx --source 营收系统 --map account_no=用户编码
    python -m sync_server import customers 客户.csv --good-rows     # import the good rows
    python -m sync_server import contracts 合同.csv
    python -m sync_server import readings 抄表.csv                   # after the meters
    python -m sync_server import bills 账单.xlsx                     # arrears: the unpaid ones
    python -m sync_server import payments 缴费.csv
    python -m sync_server import accounts 人员.xlsx --passwords-out 初始密码.csv

Without ``--good-rows`` it is all or nothing: one bad row and nothing is written. Every bad
row is listed by row number and column. Exit status: 0 imported (or a clean dry run), 1 bad
rows, 2 the file or the mapping refused.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from sync_server.services.imports import accounts
from sync_server.services.imports.kinds import KINDS
from sync_server.services.imports.mapping import Field, resolve, save_mapping, saved_mapping
from sync_server.services.imports.rows import Checked
from sync_server.services.imports.table_file import FileRefused, read_table
from sync_server.storage.db import DATABASE_URL_ENV, open_database

SHOWN = 200  # problems printed; the rest are counted


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="sync_server import", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=[*KINDS, "accounts"],
                        help="customers and meters, their contracts, readings, bills or"
                        " payments, or technicians and office accounts")
    parser.add_argument("file", type=Path)
    parser.add_argument("--data", type=Path, default=Path("var/server"))
    parser.add_argument("--database-url", default=os.environ.get(DATABASE_URL_ENV) or None)
    parser.add_argument("--source", help="the system the file comes from: its column mapping"
                        " is saved under this name and used next time")
    parser.add_argument("--map", action="append", default=[], metavar="FIELD=列名",
                        help="which column holds a field (repeatable)")
    parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")
    parser.add_argument("--good-rows", action="store_true",
                        help="import the good rows even when some are bad")
    parser.add_argument("--by", default="import", help="who the change log names")
    parser.add_argument("--passwords-out", type=Path,
                        help="accounts: where the generated first passwords of new accounts"
                        " are written (readable by its owner only); needed when the file"
                        " has no 初始密码 column for them")
    args = parser.parse_args(argv)
    try:
        given = dict(item.split("=", 1) for item in args.map)
    except ValueError:
        print("--map 要写成 字段=列名，例如 --map account_no=用户编码", file=sys.stderr)
        return 2
    try:
        table = read_table(args.file)
    except (FileRefused, OSError) as exc:
        print(f"没有导入：{exc}", file=sys.stderr)
        return 2
    db = open_database(args.data, args.database_url)
    try:
        with db.write() as conn:
            kind = KINDS.get(args.what)
            fields = kind.fields if kind else accounts.ACCOUNT_FIELDS
            saved = saved_mapping(conn, f"{args.what}.{args.source}") if args.source else {}
            mapping, wrong = resolve(table.headers, given, saved, fields)
            if wrong:
                print("没有导入：" + "；".join(wrong), file=sys.stderr)
                return 2
            plan = kind.check(conn, table, mapping) if kind else \
                accounts.check(conn, table, mapping)
            _report(plan, mapping, fields)
            if args.dry_run or (plan.problems and not args.good_rows):
                if plan.problems and not args.dry_run:
                    print("有问题的行，什么都没有写入（用 --good-rows 只导入没问题的行）")
                return 1 if plan.problems else 0
            if kind:
                said = "已导入：" + kind.apply(conn, plan, by_user=args.by)
            else:
                assert isinstance(plan, accounts.AccountPlan)
                made = accounts.apply(conn, plan, by_user=args.by)
                if made.passwords and not args.passwords_out:
                    raise _NoPasswordsFile  # rolls the write back
                if made.passwords:
                    _write_passwords(args.passwords_out, made.passwords)
                said = (f"已导入：新账号 {made.added}，更新 {made.updated}，未变"
                        f" {made.unchanged}" + (f"；{len(made.passwords)} 个初始密码已写入"
                                                f" {args.passwords_out}" if made.passwords
                                                else ""))
            if args.source:
                save_mapping(conn, f"{args.what}.{args.source}", mapping)
    except _NoPasswordsFile:
        print("没有导入：新账号没有初始密码。请在文件里加「初始密码」列，或用 --passwords-out"
              " 指定写入随机初始密码的文件", file=sys.stderr)
        return 2
    finally:
        db.close()
    print(said)
    return 0


class _NoPasswordsFile(Exception):
    pass


def _write_passwords(path: Path, passwords: dict[str, str]) -> None:
    """账号,初始密码 per line, for the operator to hand out; only its owner may read it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:
        fh.write("账号,初始密码\r\n")
        for username, password in passwords.items():
            fh.write(f"{username},{password}\r\n")


def _report(plan: Checked, mapping: dict[str, str], fields: dict[str, Field]) -> None:
    print(f"共 {plan.rows} 行：{plan.rows - len(plan.bad_rows)} 行可以导入，"
          f"{len(plan.bad_rows)} 行有问题（{plan.summary()}）")
    print("列：" + "，".join(f"{fields[k].zh}←「{v}」" for k, v in mapping.items()))
    for problem in plan.problems[:SHOWN]:
        print(f"  {problem}")
    if len(plan.problems) > SHOWN:
        print(f"  …另有 {len(plan.problems) - SHOWN} 个问题")

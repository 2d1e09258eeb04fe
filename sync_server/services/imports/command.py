"""``python -m sync_server import customers FILE``: the command line for big files.

    python -m sync_server import customers 客户.csv --data /srv/fieldapp --dry-run
    python -m sync_server import customers 客户.xlsx --source 营收系统 --map account_no=用户编码
    python -m sync_server import customers 客户.csv --good-rows     # import the good rows

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

from sync_server.services.imports import customers
from sync_server.services.imports.mapping import (
    CUSTOMER_FIELDS,
    resolve,
    save_mapping,
    saved_mapping,
)
from sync_server.services.imports.table_file import FileRefused, read_table
from sync_server.storage.db import DATABASE_URL_ENV, open_database

SHOWN = 200  # problems printed; the rest are counted


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="sync_server import", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["customers"], help="what the file holds")
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
            saved = saved_mapping(conn, args.source) if args.source else {}
            mapping, wrong = resolve(table.headers, given, saved)
            if wrong:
                print("没有导入：" + "；".join(wrong), file=sys.stderr)
                return 2
            plan = customers.check(conn, table, mapping)
            _report(plan, mapping)
            if args.dry_run or (plan.problems and not args.good_rows):
                if plan.problems and not args.dry_run:
                    print("有问题的行，什么都没有写入（用 --good-rows 只导入没问题的行）")
                return 1 if plan.problems else 0
            outcome = customers.apply(conn, plan, by_user=args.by)
            if args.source:
                save_mapping(conn, args.source, mapping)
    finally:
        db.close()
    print(f"已导入：新客户 {outcome.customers_added}，更新 {outcome.customers_updated}；"
          f"新表具 {outcome.meters_added}，更新 {outcome.meters_updated}；"
          f"未变 {outcome.unchanged}")
    return 0


def _report(plan: customers.Plan, mapping: dict[str, str]) -> None:
    print(f"共 {plan.rows} 行：{plan.rows - len(plan.bad_rows)} 行可以导入，"
          f"{len(plan.bad_rows)} 行有问题（{len(plan.customers)} 个客户，"
          f"{len(plan.meters)} 块表）")
    print("列：" + "，".join(f"{CUSTOMER_FIELDS[k].zh}←「{v}」"
                             for k, v in mapping.items()))
    for problem in plan.problems[:SHOWN]:
        print(f"  {problem}")
    if len(plan.problems) > SHOWN:
        print(f"  …另有 {len(plan.problems) - SHOWN} 个问题")

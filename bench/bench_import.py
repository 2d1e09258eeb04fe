"""Importing customers with two meters each from a billing system's CSV, through the change
log, as `python -m sync_server import customers` does (check, then apply in one write).

Run by hand: ``PYTHONPATH=. .venv/bin/python bench/bench_import.py [--pg] [--customers N]``
(20,000 by default); ``--keep DIR`` for a run of hours, which carries on when started
again. Baseline in the same run: a plain ``executemany`` of the same customer and meter
rows into the same database's tables (no check, no change log), and the ratio.
Then the same file imported again: nothing to write, so it is the cost of the check alone.

With ``--readings K`` each meter's reading history follows: K monthly files, one reading
per meter in each, imported month after month as a billing system exports them (each
checked against the history already stored, written through the log, the newest as the
meter's last reading), with its own executemany baseline of the same reading rows. The
first and the last month are shown apart: the last is checked against K-1 months stored.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchserver import describe, storage  # noqa: E402

from fieldapp.ids import new_id  # noqa: E402
from sync_server.services.imports.kinds import KINDS  # noqa: E402
from sync_server.services.imports.mapping import resolve  # noqa: E402
from sync_server.services.imports.table_file import read_table  # noqa: E402
from sync_server.storage.db import open_database  # noqa: E402
from sync_server.storage.postgres import translate  # noqa: E402

HEADER = ["户号", "户名", "联系电话", "用气地址", "营业区域", "人口", "表条码", "表型号",
          "安装日期"]


def export(path: Path, n: int) -> Path:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for i in range(n):
        district = ("江宁区", "溧水区", "秦淮区")[i % 3]
        for m in range(2):
            writer.writerow([f"32{i:010d}", f"用户{i}", f"139{i:08d}",
                             f"{district} 某路 {i} 号", district, 1 + i % 5,
                             f"GM{i:09d}{m}", "G2.5", "2018-06-01"])
    path.write_bytes(out.getvalue().encode("gbk"))
    return path


def timed(database_url: str | None, data: Path, file: Path,
          kind: str = "customers") -> tuple[float, str]:
    """Read, check and apply one file of ``kind`` as the import command does, timed."""
    db = open_database(data, database_url)
    try:
        start = time.perf_counter()
        table = read_table(file)
        with db.write() as conn:
            mapping, wrong = resolve(table.headers, {}, None, KINDS[kind].fields)
            assert not wrong, wrong
            plan = KINDS[kind].check(conn, table, mapping)
            assert not plan.problems, plan.problems[:3]
            said = KINDS[kind].apply(conn, plan, by_user="bench")
        return time.perf_counter() - start, said
    finally:
        db.close()


def reading_export(path: Path, n: int, month: int) -> Path:
    """One month's readings of every meter (month 0 is January 2024)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["表条码", "抄表日期", "本期读数"])
    year, mon = 2024 + month // 12, 1 + month % 12
    for i in range(n):
        for m in range(2):
            writer.writerow([f"GM{i:09d}{m}", f"{year}-{mon:02d}-15 09:00",
                             f"{100 + 12.5 * month:.1f}"])
    path.write_bytes(out.getvalue().encode("utf-8"))
    return path


def reading_baseline(database_url: str | None, data: Path, n: int, k: int) -> float:
    """The same readings written with executemany, a month at a time (as many rows as one
    import holds: a million customers' 48 million readings at once would not fit memory)."""
    db = open_database(data, database_url)
    try:
        sql = ("INSERT INTO readings (id, customer_id, meter_id, read_at, value, source,"
               " version, hlc) VALUES (?,?,?,?,?,?,?,?)")
        took = 0.0
        for month in range(k):
            at = f"{2024 + month // 12}-{1 + month % 12:02d}-15T09:00:00+08:00"
            rows = [(new_id(), f"c{i}", f"m{i}{m}", at, 100 + 12.5 * month, "billing", 1,
                     "bench") for i in range(n) for m in range(2)]
            start = time.perf_counter()
            with db.write() as conn:
                raw = getattr(conn, "_conn", conn)
                many = raw.cursor().executemany if database_url else raw.executemany
                many(translate(sql) if database_url else sql, rows)
            took += time.perf_counter() - start
        return took
    finally:
        db.close()


def baseline(database_url: str | None, data: Path, n: int) -> float:
    """The floor: the same rows written with executemany, in a fresh database."""
    db = open_database(data, database_url)
    try:
        cust = [(new_id(), f"31{i:010d}", f"用户{i}", f"139{i:08d}", f"某路 {i} 号", "江宁区",
                 1 + i % 5, "[]", "residential", 1, "bench") for i in range(n)]
        meters = [(new_id(), c[0], f"GX{i:09d}{m}", "G2.5", "2018-06-01", 1, "bench")
                  for i, c in enumerate(cust) for m in range(2)]
        customers_sql = ("INSERT INTO customers (id, account_no, name, phone, address,"
                         " district, household_size, tags, kind, version, hlc)"
                         " VALUES (?,?,?,?,?,?,?,?,?,?,?)")
        meters_sql = ("INSERT INTO meters (id, customer_id, barcode, model, installed_on,"
                      " version, hlc) VALUES (?,?,?,?,?,?,?)")
        start = time.perf_counter()
        with db.write() as conn:
            # The driver's own executemany: psycopg's under PostgreSQL, sqlite3's otherwise.
            raw = getattr(conn, "_conn", conn)
            many = raw.cursor().executemany if database_url else raw.executemany
            many(translate(customers_sql) if database_url else customers_sql, cust)
            many(translate(meters_sql) if database_url else meters_sql, meters)
        return time.perf_counter() - start
    finally:
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", action="store_true", help="on a throwaway PostgreSQL cluster")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--readings", type=int, default=0, metavar="K",
                        help="then K readings per meter")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the database and the figures so far in DIR: run again,"
                             " it carries on after the last finished step")
    args = parser.parse_args()
    n = args.customers
    tmp = Path(tempfile.mkdtemp())
    rows = 3 * n  # a customer and two meters per customer
    k = args.readings
    kept = args.keep.resolve() if args.keep else None
    done = _done(kept, n, k)
    server = kept / "server" if kept else tmp / "server"
    with storage(server, args.pg, kept / "pg" if kept else None) as url:
        if "first" not in done:
            file = export(tmp / "export.csv", n)
            done["first"], done["said"] = timed(url, server, file)
            done["again"], done["said_again"] = timed(url, server, file)
            _save(kept, done)
        first, said, again, said_again = (done["first"], done["said"], done["again"],
                                          done["said_again"])
        print(f"  customers: {first:.1f} s, again {again:.1f} s", file=sys.stderr, flush=True)
        months = done.setdefault("months", [])
        for month in range(len(months), k):
            history = reading_export(tmp / f"readings-{month:02d}.csv", n, month)
            months.append(timed(url, server, history, "readings")[0])
            history.unlink()
            _save(kept, done)
            # A long run says where it is (stderr, so the figures below stay one block).
            print(f"  month {month + 1}/{k}: {months[-1]:.1f} s", file=sys.stderr, flush=True)
    with storage(tmp / "floor", args.pg) as url:
        floor = baseline(url, tmp / "floor", n)
    print(f"import {n:,} customers with 2 meters each ({describe(url, 1)}, {rows:,} records)")
    print(f"  import, first time:   {first:7.2f} s  {rows / first:9,.0f} records/s  ({said})")
    print(f"  import, same file:    {again:7.2f} s  {rows / again:9,.0f} records/s"
          f"  ({said_again})")
    print(f"  baseline executemany: {floor:7.2f} s  {rows / floor:9,.0f} records/s")
    print(f"  ratio import / executemany: {first / floor:.1f}x")
    if k:
        with storage(tmp / "floor-readings", args.pg) as url:
            reading_floor = reading_baseline(url, tmp / "floor-readings", n, k)
        count = 2 * n * k
        print(f"then {k} readings per meter ({count:,} readings)")
        took = sum(months)
        print(f"  import readings:      {took:7.2f} s  {count / took:9,.0f} readings/s"
              f"  ({k} files of {2 * n:,})")
        print(f"  first month {months[0]:.2f} s, last month {months[-1]:.2f} s")
        print(f"  baseline executemany: {reading_floor:7.2f} s"
              f"  {count / reading_floor:9,.0f} readings/s")
        print(f"  ratio import / executemany: {took / reading_floor:.1f}x")


def _done(kept: Path | None, n: int, k: int) -> dict[str, Any]:
    """The steps an interrupted run with ``--keep`` finished, with their times."""
    state = kept / "state.json" if kept else None
    if state is None or not state.exists():
        return {"customers": n, "readings": k}
    done: dict[str, Any] = json.loads(state.read_text())
    if (done["customers"], done["readings"]) != (n, k):
        sys.exit(f"{kept} holds a run of {done['customers']} customers and {done['readings']}"
                 " readings per meter: give the same figures, or another folder")
    return done


def _save(kept: Path | None, done: dict[str, Any]) -> None:
    if kept:  # written once the step's transaction has committed
        (kept / "state.json").write_text(json.dumps(done))


if __name__ == "__main__":
    main()

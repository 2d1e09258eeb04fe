"""Every kind of file the utility can bring in, in the order they build on each other:
customers and meters first (the others name them), then contracts, readings, bills and
payments. The command line and the office's import page both go through this list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sync_server.services.imports import bills, contracts, customers, payments, readings
from sync_server.services.imports.mapping import CUSTOMER_FIELDS, Field
from sync_server.services.imports.rows import Checked
from sync_server.services.imports.table_file import Table
from sync_server.storage.db import Connection


@dataclass(frozen=True)
class Kind:
    name: str
    zh: str
    fields: dict[str, Field]
    check: Callable[[Connection, Table, dict[str, str]], Checked]
    apply: Callable[..., str]  # (conn, plan, by_user=...) → what was written, in words
    needs: str = ""  # what must be imported first, said on the import page


def _customers_said(conn: Connection, plan: Any, *, by_user: str) -> str:
    done = customers.apply(conn, plan, by_user=by_user)
    return (f"新客户 {done.customers_added}，更新 {done.customers_updated}；新表具"
            f" {done.meters_added}，更新 {done.meters_updated}；未变 {done.unchanged}")


KINDS: dict[str, Kind] = {k.name: k for k in [
    Kind("customers", "客户和表具", CUSTOMER_FIELDS, customers.check, _customers_said),
    Kind("contracts", "合同", contracts.FIELDS, contracts.check, contracts.apply, "客户"),
    Kind("readings", "抄表读数", readings.FIELDS, readings.check, readings.apply, "表具"),
    Kind("bills", "账单和欠费", bills.FIELDS, bills.check, bills.apply, "客户"),
    Kind("payments", "缴费记录", payments.FIELDS, payments.check, payments.apply, "客户"),
]}

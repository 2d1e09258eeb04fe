"""Which column of the utility's file holds which field: guessed from the headers Chinese
billing systems use, overridden by the operator, and saved per source (``--source``), so the
next month's export of the same system imports with the same mapping."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sync_server.storage import server_state
from sync_server.storage.db import Connection

SAVED = "import.mapping."  # + the source's name, in server_state


@dataclass(frozen=True)
class Field:
    zh: str  # how the field is named in reports
    aliases: tuple[str, ...]  # headers that mean it, compared without spaces and case
    required: bool = False


CUSTOMER_FIELDS: dict[str, Field] = {
    "account_no": Field("户号", ("户号", "用户编号", "用户号", "账号", "客户编号", "account_no",
                                 "account"), required=True),
    "name": Field("户名", ("户名", "用户名称", "客户名称", "姓名", "name"), required=True),
    "phone": Field("电话", ("电话", "联系电话", "手机", "手机号", "phone")),
    "address": Field("地址", ("地址", "用气地址", "安装地址", "address"), required=True),
    "district": Field("区域", ("区域", "营业区域", "所属区域", "片区", "district"),
                      required=True),
    "household_size": Field("人口", ("人口", "家庭人数", "户人口", "household_size")),
    "tags": Field("标签", ("标签", "客户标签", "tags")),
    "kind": Field("用户类型", ("用户类型", "类型", "客户类型", "kind")),
    "meter_barcode": Field("表条码", ("表条码", "条码", "表号", "燃气表条码", "barcode")),
    "meter_serial": Field("表钢号", ("表钢号", "出厂编号", "表身号", "serial")),
    "meter_model": Field("表型号", ("表型号", "型号", "表具型号", "model")),
    "meter_installed_on": Field("安装日期", ("安装日期", "装表日期", "installed_on")),
}


def _key(header: str) -> str:
    return "".join(header.split()).lower()


def guess(headers: list[str], fields: dict[str, Field] = CUSTOMER_FIELDS) -> dict[str, str]:
    """field → header, for every field whose usual header is in the file."""
    by_key = {_key(h): h for h in headers if h}
    found = {}
    for name, spec in fields.items():
        for alias in spec.aliases:
            if _key(alias) in by_key:
                found[name] = by_key[_key(alias)]
                break
    return found


def resolve(headers: list[str], given: dict[str, str], saved: dict[str, str] | None = None,
            fields: dict[str, Field] = CUSTOMER_FIELDS,
            whole: bool = False) -> tuple[dict[str, str], list[str]]:
    """The mapping to use (guessed, then saved, then given by the operator; only the given
    one when it is ``whole``, as the office's form sends every field) and what is wrong
    with it: an unknown field, a header not in the file, a required field unmapped."""
    mapping = given if whole else {**guess(headers, fields), **(saved or {}), **given}
    problems = []
    for name, header in mapping.items():
        if name not in fields:
            problems.append(f"没有叫 {name} 的字段（可用：{', '.join(fields)}）")
        elif header not in headers:
            problems.append(f"文件里没有「{header}」这一列（{fields[name].zh}）")
    for name, spec in fields.items():
        if spec.required and name not in mapping:
            problems.append(f"找不到{spec.zh}列：请用 --map {name}=列名 指定")
    return {k: v for k, v in mapping.items() if k in fields}, problems


def saved_mapping(conn: Connection, source: str) -> dict[str, str]:
    text = server_state.read(conn, SAVED + source)
    return dict(json.loads(text)) if text else {}


def save_mapping(conn: Connection, source: str, mapping: dict[str, str]) -> None:
    server_state.write(conn, SAVED + source, json.dumps(mapping, ensure_ascii=False))

"""Forms published from the office: an XLSForm translated (fieldapp/forms/xlsform.py), its
problems listed by sheet, row and column, previewed, then published as the next version of
its form; and which form each kind of job (and kind of customer) is done on.

A published version is a new ``form_definitions`` record, never an old one edited: every
submission names the version it was filled on, and the server checks and prints it against
that version for as long as it is kept. Publishing goes through the change log, so tablets
pull the new version (and the choice of forms, an org setting) with their next sync.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from fieldapp.domain import form_choice
from fieldapp.domain.kinds import FORM_FOR_KIND
from fieldapp.forms.loader import FormDefinitionError, load_definition
from fieldapp.forms.xlsform import import_xlsform
from fieldapp.forms.xlsform_sheets import XLSFormError
from fieldapp.local_time import now_iso
from sync_server.errors import ApiError
from sync_server.services.records import insert_records, publish_setting
from sync_server.storage import server_state
from sync_server.storage.db import Connection

CODE = re.compile(r"[a-z][a-z0-9_]{2,47}")
TOKEN = re.compile(r"[0-9a-f]{24}")
MAX_XLSFORM_BYTES = 5 * 1024 * 1024  # the workbook, and its attached files together
MAX_ATTACHED = 10


@dataclass
class Pending:
    token: str
    filename: str
    definition: dict[str, Any]
    problems: list[str]
    by_user: str
    at: str


def check_upload(conn: Connection, data: bytes, filename: str, by_user: str,
                 attached: dict[str, bytes] | None = None) -> Pending:
    """Translate an uploaded XLSForm (with the CSV files it reads) and keep it for the
    preview; ApiError (422) with the reason when it cannot become a form at all."""
    attached = attached or {}
    if len(attached) > MAX_ATTACHED:
        raise ApiError(422, "too_many_files", f"附带的文件最多 {MAX_ATTACHED} 个")
    if sum(len(b) for b in attached.values()) > MAX_XLSFORM_BYTES:
        raise ApiError(413, "xlsform_too_large",
                       f"附带的文件合计超过 {MAX_XLSFORM_BYTES // 1024 // 1024} MB")
    if not data:
        raise ApiError(422, "empty_file", "文件是空的")
    if len(data) > MAX_XLSFORM_BYTES:
        raise ApiError(413, "xlsform_too_large",
                       f"表单文件超过 {MAX_XLSFORM_BYTES // 1024 // 1024} MB")
    if not filename.lower().endswith((".xlsx", ".xlsm", ".xls")):
        raise ApiError(422, "not_xlsx", "表单请用 Excel .xlsx 或 .xls（XLSForm 格式）")
    try:
        result = import_xlsform(data, files=attached)
    except XLSFormError as exc:
        raise ApiError(422, "bad_xlsform", f"这个 XLSForm 无法导入：{_zh(str(exc))}") from exc
    problems = [_said(p.sheet, p.row, p.column, p.message) for p in result.problems]
    pending = Pending(secrets.token_hex(12), filename[-120:], result.definition, problems,
                      by_user, now_iso())
    server_state.write(conn, server_state.FORM_PENDING + pending.token,
                       json.dumps(pending.__dict__, ensure_ascii=False))
    return pending


def _zh(problem: str) -> str:
    """pyxform's refusal framed in Chinese (its reason stays as ODK's tools word it, which
    is what a form designer searches for): "[row : 3] …" as 第 3 行."""
    problem = problem.replace("pyxform refuses this XLSForm: ",
                              "ODK 的标准实现 pyxform 不接受这个表单：")
    return re.sub(r"\[row : (\d+)\]\s*", r"第 \1 行：", problem)


def _said(sheet: str, row: int, column: str | None, message: str) -> str:
    where = f"工作表 {sheet} 第 {row} 行" + (f"「{column}」" if column else "")
    return f"{where}：{message}"


def pending(conn: Connection, token: str) -> Pending:
    text = server_state.read(conn, server_state.FORM_PENDING + token) \
        if TOKEN.fullmatch(token) else None
    if text is None:
        raise ApiError(404, "no_such_upload", "没有这份上传的表单（或已发布）")
    return Pending(**json.loads(text))


def versions(conn: Connection) -> dict[str, list[dict[str, Any]]]:
    """Every published form's versions, newest first, with how many submissions each has."""
    used = {(r[0], r[1]): r[2] for r in conn.execute(
        "SELECT form_code, form_version, count(*) FROM submissions"
        " GROUP BY form_code, form_version")}
    out: dict[str, list[dict[str, Any]]] = {}
    for r in conn.execute("SELECT code, form_version, title FROM form_definitions"
                          " ORDER BY code, form_version DESC"):
        out.setdefault(r[0], []).append({"version": r[1], "title": r[2],
                                         "submissions": used.get((r[0], r[1]), 0)})
    return out


def definition(conn: Connection, code: str, version: int) -> dict[str, Any]:
    row = conn.execute("SELECT definition FROM form_definitions WHERE code = ?"
                       " AND form_version = ?", [code, version]).fetchone()
    if row is None:
        raise ApiError(404, "unknown_form", f"没有表单 {code} 第 {version} 版")
    found: dict[str, Any] = json.loads(row[0])
    return found


def publish(conn: Connection, token: str, code: str, by_user: str) -> int:
    """Publish a checked upload as the next version of form ``code``; returns the version.
    The upload is used up: publishing it twice makes one version."""
    upload = pending(conn, token)
    if not CODE.fullmatch(code):
        raise ApiError(422, "bad_form_code", "表单代码应为 3–48 位小写字母、数字或下划线，"
                                             "以字母开头")
    top = conn.execute("SELECT max(form_version) FROM form_definitions WHERE code = ?",
                       [code]).fetchone()[0]
    version = int(top or 0) + 1
    chosen = {**upload.definition, "code": code, "version": version}
    try:
        load_definition(chosen)
    except FormDefinitionError as exc:  # the translation guarantees it loads; say so if not
        raise ApiError(422, "bad_form", f"表单无法发布：{exc}") from exc
    title = chosen["title"].get("zh") or next(iter(chosen["title"].values()), code)
    insert_records(conn, "form_definitions", [{
        "id": f"form-{code}-v{version}", "code": code, "form_version": version,
        "title": title, "definition": json.dumps(chosen, ensure_ascii=False)}], by_user)
    conn.execute("DELETE FROM server_state WHERE key = ?",
                 [server_state.FORM_PENDING + token])
    return version


def choice(conn: Connection) -> dict[str, str]:
    row = conn.execute("SELECT value FROM org_settings WHERE id = ?",
                       [form_choice.SETTING]).fetchone()
    return form_choice.chosen(row[0] if row else None)


def choose(conn: Connection, kind: str, customer_kind: str, code: str, by_user: str) -> bool:
    """Which form a kind of job (for one kind of customer, or all) starts on from now;
    ``code`` empty goes back to the standard form. False when nothing changed."""
    if kind not in FORM_FOR_KIND:
        raise ApiError(422, "no_form_for_kind", f"工单类型 {kind} 不用表单")
    if customer_kind and customer_kind not in form_choice.CUSTOMER_KINDS:
        raise ApiError(422, "bad_customer_kind", f"未知的用户类型 {customer_kind}")
    if code and conn.execute("SELECT 1 FROM form_definitions WHERE code = ?",
                             [code]).fetchone() is None:
        raise ApiError(422, "unknown_form", f"没有已发布的表单 {code}")
    current = choice(conn)
    slot = form_choice.key(kind, customer_kind or None)
    if code:
        current[slot] = code
    else:
        current.pop(slot, None)
    return publish_setting(conn, form_choice.SETTING,
                           json.dumps(current, ensure_ascii=False, sort_keys=True), by_user)

"""数据导入 (admin only): the billing system's exports brought in from the browser. Upload a
file, see how its columns were read and every bad row by row and column (a dry run: nothing
is written), correct the column mapping, then import all or nothing or only the good rows,
with a progress bar. The command line (``python -m sync_server import``) does the same for
files too big to upload."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from fieldapp.domain.roles import ADMINS
from sync_server.config import MAX_IMPORT_BODY
from sync_server.deps import server_of
from sync_server.errors import ApiError
from sync_server.office.auth import check_csrf
from sync_server.office.web import Office, pages_router, render_page, require
from sync_server.services.imports.kinds import KINDS
from sync_server.services.imports.runs import RUN_ID, Run, Runs, parse_mapping
from sync_server.services.imports.table_file import MAX_FILE_BYTES

router = pages_router()
SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
STATE_ZH = {"checking": "检查中", "checked": "已检查，待导入", "running": "导入中",
            "done": "已导入", "failed": "未导入", "interrupted": "已中断（未写入）"}
assert MAX_IMPORT_BODY > MAX_FILE_BYTES  # the form around the file fits


def _admin(who: Office) -> None:
    require(who, ADMINS, "只有管理员可以导入数据")


def _runs(request: Request) -> Runs:
    """One per worker process, over the data folder every worker shares."""
    state = request.app.state
    if getattr(state, "import_runs", None) is None:
        server = server_of(request)
        state.import_runs = Runs(server.settings.data_dir, server.db)
    runs: Runs = state.import_runs
    return runs


def _run(request: Request, run_id: str) -> Run:
    run = _runs(request).load(run_id) if re.fullmatch(RUN_ID, run_id) else None
    if run is None:
        raise ApiError(404, "no_such_import", "没有这次导入")
    return run


def _list(request: Request, who: Office, error: str = "",
          status_code: int = 200) -> HTMLResponse:
    return render_page(request, who, "imports.html", {
        "kinds": KINDS.values(), "runs": _runs(request).recent(), "state_zh": STATE_ZH,
        "kind_zh": {k.name: k.zh for k in KINDS.values()},
        "error": error, "max_mb": MAX_FILE_BYTES // (1024 * 1024)}, status_code=status_code)


@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, who: Office) -> HTMLResponse:
    _admin(who)
    return _list(request, who)


@router.post("/imports", response_model=None)
async def upload(request: Request, who: Office) -> HTMLResponse | RedirectResponse:
    # The body is read only once the sender is known to be an admin: the 200 MB this
    # address takes is not open to anyone who can reach the server.
    _admin(who)
    form = await request.form(max_files=1, max_fields=10)
    check_csrf(request, str(form.get("csrf", "")))
    kind, source, file = str(form.get("kind", "")), str(form.get("source", "")).strip(), \
        form.get("file")
    if kind not in KINDS:
        return _list(request, who, "请选择要导入的数据", 422)
    if not isinstance(file, UploadFile) or not file.filename:
        return _list(request, who, "请选择文件", 422)
    suffix = Path(file.filename).suffix.lower()
    if suffix not in SUFFIXES:
        return _list(request, who, f"不认识的文件类型「{suffix or '无扩展名'}」：请用 CSV"
                                   "（UTF-8 或 GBK）或 Excel .xlsx", 422)
    if source and not re.fullmatch(r"[\w\u4e00-\u9fff .-]{1,40}", source):
        return _list(request, who, "来源系统的名字只能用中文、字母、数字和空格", 422)
    runs = _runs(request)
    run = runs.new(kind, Path(file.filename).name[-120:], who.username, source)
    await run_in_threadpool(_keep, file, runs.file(run))
    size = runs.file(run).stat().st_size
    if size > MAX_FILE_BYTES:
        runs.file(run).unlink()
        run.state, run.error = "failed", (f"文件太大（{size // (1024 * 1024)} MB），一次最多"
                                          f" {MAX_FILE_BYTES // (1024 * 1024)} MB：请分成几个"
                                          "文件，或在服务器上用命令行导入")
        runs.save(run)
    else:
        runs.check(run)
    return RedirectResponse(f"/office/imports/{run.id}", status_code=303)


@router.get("/imports/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, who: Office, run_id: str) -> HTMLResponse:
    _admin(who)
    run = _run(request, run_id)
    kind = KINDS[run.kind]
    state = "interrupted" if run.interrupted else run.state
    return render_page(request, who, "import.html", {
        "run": run, "kind": kind, "state": state, "state_zh": STATE_ZH,
        "working": state in ("checking", "running"),
        "error": request.query_params.get("error", "")})


@router.post("/imports/{run_id}/mapping", response_model=None)
async def remap(request: Request, who: Office, run_id: str) -> RedirectResponse:
    _admin(who)
    form = await request.form(max_files=0, max_fields=60)
    check_csrf(request, str(form.get("csrf", "")))
    run = _run(request, run_id)
    if run.state != "checked" or run.interrupted:
        return _back(run, "这次导入现在不能改列")
    fields = list(KINDS[run.kind].fields)
    _runs(request).check(run, parse_mapping(dict(form), fields))
    return RedirectResponse(f"/office/imports/{run.id}", status_code=303)


@router.post("/imports/{run_id}/run", response_model=None)
def start(request: Request, who: Office, run_id: str,
          mode: Annotated[str, Form(max_length=8)] = "",
          csrf: Annotated[str, Form(max_length=128)] = "") -> RedirectResponse:
    check_csrf(request, csrf)
    _admin(who)
    run = _run(request, run_id)
    if mode not in ("all", "good"):
        return _back(run, "请选择导入方式")
    if run.state != "checked" or run.interrupted:
        return _back(run, f"这次导入{STATE_ZH.get(run.state, run.state)}，不能再次开始")
    if run.mapping_problems:
        return _back(run, "请先把列对应好")
    _runs(request).run(run, mode)
    return RedirectResponse(f"/office/imports/{run.id}", status_code=303)


def _keep(file: UploadFile, path: Path) -> None:
    with path.open("wb") as out:
        shutil.copyfileobj(file.file, out, 1024 * 1024)  # spooled to disk by the parser


def _back(run: Run, error: str) -> RedirectResponse:
    return RedirectResponse(f"/office/imports/{run.id}?error={quote(error)}", status_code=303)

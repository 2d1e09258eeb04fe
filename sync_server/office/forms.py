"""表单 (forms): every published form with its versions and how many submissions each holds;
an XLSForm uploaded, its problems listed by sheet, row and column, previewed as the tablet
lays it out, then published as the next version (admins only); and which form each kind of
job, for each kind of customer, starts on."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from fieldapp.domain import form_choice
from fieldapp.domain.kinds import FORM_FOR_KIND, KIND_ZH
from fieldapp.domain.roles import ADMINS
from fieldapp.forms.xlsform_export import export_files, export_xlsform
from sync_server.deps import server_of
from sync_server.errors import ApiError
from sync_server.office.auth import check_csrf
from sync_server.office.web import Office, pages_router, render_page, require
from sync_server.services import form_publishing

router = pages_router()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TYPE_ZH = {"text": "文字", "integer": "整数", "decimal": "数字", "select_one": "单选",
           "select_multiple": "多选", "yes_no": "是/否", "pass_fail_na": "合格/不合格/不适用",
           "date": "日期", "time": "时间", "datetime": "日期时间", "photo": "照片", "audio": "录音",
           "video": "录像", "signature": "签名", "barcode": "扫码", "gps": "定位",
           "geotrace": "轨迹", "geoshape": "区域", "meter_reading": "表读数", "note": "说明",
           "group": "分组", "repeat": "可重复", "calculate": "计算", "hidden": "自动填写"}


def _admin(who: Office) -> None:
    require(who, ADMINS, "只有管理员可以发布表单")


def _list(request: Request, who: Office, error: str = "", done: str = "",
          status_code: int = 200) -> HTMLResponse:
    with server_of(request).db.read() as conn:
        forms = form_publishing.versions(conn)
        chosen = form_publishing.choice(conn)
    slots = [{"kind": kind, "customer_kind": ck, "key": form_choice.key(kind, ck or None),
              "label": KIND_ZH[kind] + (f" · {form_choice.CUSTOMER_KIND_ZH[ck]}" if ck else
                                        "（所有用户）"),
              "standard": FORM_FOR_KIND[kind] if not ck else ""}
             for kind in FORM_FOR_KIND for ck in ("", *form_choice.CUSTOMER_KINDS)]
    return render_page(request, who, "forms.html", {
        "forms": forms, "chosen": chosen, "slots": slots, "error": error, "done": done,
        "is_admin": who.role in ADMINS}, status_code=status_code)


@router.get("/forms", response_class=HTMLResponse)
def forms_page(request: Request, who: Office, done: str = "", error: str = "") -> HTMLResponse:
    return _list(request, who, error[:300], done[:300])


@router.post("/forms", response_model=None)
async def upload(request: Request, who: Office) -> HTMLResponse | RedirectResponse:
    _admin(who)  # before the body is read
    # Room for a few too many, so the page says how many are allowed (not a bare 400).
    form = await request.form(max_files=2 * form_publishing.MAX_ATTACHED, max_fields=5)
    check_csrf(request, str(form.get("csrf", "")))
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return _list(request, who, "请选择 XLSForm 文件（.xlsx 或 .xls）", status_code=422)
    data = await file.read(form_publishing.MAX_XLSFORM_BYTES + 1)
    attached: dict[str, bytes] = {}
    for extra in form.getlist("attachments"):
        if isinstance(extra, UploadFile) and extra.filename:  # an empty picker sends one blank
            name = extra.filename.replace("\\", "/").rsplit("/", 1)[-1]
            attached[name] = await extra.read(form_publishing.MAX_XLSFORM_BYTES + 1)
    try:
        with server_of(request).db.write() as conn:
            upload = form_publishing.check_upload(conn, data, file.filename, who.username,
                                                  attached)
    except ApiError as exc:
        return _list(request, who, exc.message, status_code=exc.status)
    return RedirectResponse(f"/office/forms/uploads/{upload.token}", status_code=303)


@router.get("/forms/uploads/{token}", response_class=HTMLResponse)
def upload_page(request: Request, who: Office, token: str, error: str = "") -> HTMLResponse:
    _admin(who)
    with server_of(request).db.read() as conn:
        upload = form_publishing.pending(conn, token)
        taken = form_publishing.versions(conn)
    code = upload.definition["code"]
    return render_page(request, who, "form_preview.html", {
        "upload": upload, "definition": upload.definition, "code": code,
        "next_version": (taken[code][0]["version"] + 1) if code in taken else 1,
        "existing": code in taken, "error": error[:300], **_shown(upload.definition)})


@router.post("/forms/uploads/{token}/publish", response_model=None)
def publish(request: Request, who: Office, token: str,
            code: Annotated[str, Form(max_length=60)] = "",
            csrf: Annotated[str, Form(max_length=128)] = "") -> RedirectResponse:
    check_csrf(request, csrf)
    _admin(who)
    try:
        with server_of(request).db.write() as conn:
            version = form_publishing.publish(conn, token, code.strip(), who.username)
    except ApiError as exc:
        if exc.status == 404:
            raise
        return RedirectResponse(f"/office/forms/uploads/{token}?error={quote(exc.message)}",
                                status_code=303)
    said = f"已发布 {code} 第 {version} 版，平板下次同步时收到"
    return RedirectResponse(f"/office/forms/{code}/{version}?done={quote(said)}",
                            status_code=303)


@router.get("/forms/{code}/{version}", response_class=HTMLResponse)
def version_page(request: Request, who: Office, code: str, version: int,
                 done: str = "") -> HTMLResponse:
    with server_of(request).db.read() as conn:
        definition = form_publishing.definition(conn, code, version)
        listed = form_publishing.versions(conn).get(code, [])
    shown = next((v for v in listed if v["version"] == version), {"submissions": 0})
    return render_page(request, who, "form_preview.html", {
        "upload": None, "definition": definition, "code": code, "version": version,
        "submissions": shown["submissions"], "done": done[:300], **_shown(definition)})


@router.get("/forms/{code}/{version}/xlsform", response_model=None)
def xlsform(request: Request, who: Office, code: str, version: int) -> Response:
    """The version as an XLSForm, to edit in Excel and upload as the next version."""
    with server_of(request).db.read() as conn:
        definition = form_publishing.definition(conn, code, version)
    try:
        data = export_xlsform(definition)
    except ValueError as exc:  # its own lists bear FieldApp's names (a JSON-seeded form)
        raise ApiError(409, "not_exportable", f"这个表单无法导出为 XLSForm：{exc}") from exc
    name = f"{code}.v{version}.xlsx"
    return Response(data, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"{name}\""})


@router.get("/forms/{code}/{version}/files/{name}", response_model=None)
def attached_file(request: Request, who: Office, code: str, version: int, name: str) -> Response:
    """A CSV the version reads with pulldata(), to upload again with the edited XLSForm."""
    with server_of(request).db.read() as conn:
        definition = form_publishing.definition(conn, code, version)
    files = export_files(definition)
    if name not in files:
        raise ApiError(404, "unknown_file", f"{code} 第 {version} 版没有附带文件 {name}")
    return Response(files[name], media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f"attachment; filename=\"{quote(name)}\""})


@router.post("/forms/choice", response_model=None)
def choose(request: Request, who: Office,
           kind: Annotated[str, Form(max_length=30)] = "",
           customer_kind: Annotated[str, Form(max_length=20)] = "",
           code: Annotated[str, Form(max_length=60)] = "",
           csrf: Annotated[str, Form(max_length=128)] = "") -> RedirectResponse | HTMLResponse:
    check_csrf(request, csrf)
    _admin(who)
    try:
        with server_of(request).db.write() as conn:
            changed = form_publishing.choose(conn, kind, customer_kind, code, who.username)
    except ApiError as exc:
        return _list(request, who, exc.message, status_code=exc.status)
    said = "已保存：新开始的表单从此使用所选的表单，已开始的不变" if changed else "没有变化"
    return RedirectResponse(f"/office/forms?done={quote(said)}", status_code=303)


def _shown(definition: dict[str, Any]) -> dict[str, Any]:
    """What the preview template needs besides the definition."""
    return {"type_zh": TYPE_ZH, "lists": definition.get("choice_lists", {}),
            "zh": _zh}


def _zh(text: Any) -> str:
    """A label as the tablet shows it by default: Chinese, else English, else any."""
    if isinstance(text, dict):
        return str(text.get("zh") or text.get("en") or next(iter(text.values()), ""))
    return str(text or "")

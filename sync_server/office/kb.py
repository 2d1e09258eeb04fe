"""知识库 in the office: every office viewer lists, searches and reads articles and their
published versions; a supervisor or admin writes drafts (with figures), publishes them to
the tablets and the portal, and withdraws them (services/kb_authoring.py).

No script runs on office pages, so each action is a plain form; an editing form carries the
revision it was opened at, and a save or publish over a newer one is answered with both:
the editor's text still in the form, the article as it is now beside it."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from fieldapp.ids import new_id
from sync_server.deps import server_of
from sync_server.errors import MAX_INT, ApiError
from sync_server.http.kb_figures import OFFICE, figure_response
from sync_server.office.auth import check_csrf
from sync_server.office.web import Office, pages_router, render_page
from sync_server.portal.uploads import MAX_BYTES, BadUpload, check_photo
from sync_server.services import kb_authoring as kb
from sync_server.services import kb_content as content
from sync_server.services.auth import Principal

router = pages_router()


def _writer(who: Office) -> Principal:
    """Checked before the form is read, so a refusal never depends on what was sent."""
    kb.check_writer(who)
    return who


Writer = Annotated[Principal, Depends(_writer)]
ArticleId = Annotated[str, PathParam(max_length=64)]
Number = Annotated[int, PathParam(ge=1, le=MAX_INT)]


@router.get("/kb", response_class=HTMLResponse)
def kb_list(request: Request, who: Office, q: str = "", category: str = "",
            state: str = "", note: str = "") -> HTMLResponse:
    q, category = q[:100], category[:content.CATEGORY_MAX]
    state = state if state in kb.STATE_ZH else ""
    with server_of(request).db.read() as conn:
        rows = kb.listing(conn, q, category, state)
        cats = kb.categories(conn)
    return render_page(request, who, "kb.html", {
        "rows": rows, "q": q, "category": category, "state": state, "cats": cats,
        "states": kb.STATE_ZH, "note": note[:200], "writer": kb.may_write(who)})


@router.get("/kb/new", response_class=HTMLResponse)
def kb_new(request: Request, who: Writer) -> HTMLResponse:
    empty = kb.Draft("", "", "", [], [], "", [], 0, None, 0)
    return _editor(request, who, empty, None)


def _editor(request: Request, who: Principal, draft: kb.Draft, shown: content.Edit | None,
            error: str = "", current: kb.Draft | None = None,
            status_code: int = 200, note: str = "") -> HTMLResponse:
    """The article page: the editing form (with ``shown``, what the editor sent, when it
    was refused), the article as published, its history."""
    with server_of(request).db.read() as conn:
        cats = kb.categories(conn)
        history = kb.versions(conn, draft.article_id) if draft.article_id else []
    form = shown or content.Edit(draft.title, draft.category, draft.tags, draft.fault_codes,
                            draft.body)
    return render_page(request, who, "kb_article.html", {
        "d": draft, "form": form, "cats": cats, "history": history, "error": error,
        "current": current, "writer": kb.may_write(who), "note": note[:200],
        "preview": content.page_blocks(content.composed_body(draft.body, draft.figures)),
        "limits": kb, "max_mb": MAX_BYTES // (1024 * 1024)}, status_code=status_code)


@router.get("/kb/figures/{name}")
def kb_figure(request: Request, who: Office, name: Annotated[str, PathParam(max_length=80)]
              ) -> Response:
    """A figure some article uses: an uploaded one from the attachment store, or one
    bundled with the app (the demo articles'), always served as the image its bytes are."""
    return figure_response(request, name, OFFICE)




@router.get("/kb/{article_id}", response_class=HTMLResponse)
def kb_article(request: Request, who: Office, article_id: ArticleId,
               note: str = "", saved: str = "") -> HTMLResponse:
    with server_of(request).db.read() as conn:
        draft = kb.load(conn, article_id)
    if draft is None:
        raise ApiError(404, "unknown_article", "没有这篇知识库文章")
    saved_note = "草稿已保存（平板看不到草稿，发布后才同步）" if saved else ""
    return _editor(request, who, draft, None, note=note or saved_note)


@router.get("/kb/{article_id}/versions/{number}", response_class=HTMLResponse)
def kb_version(request: Request, who: Office, article_id: ArticleId,
               number: Number) -> HTMLResponse:
    with server_of(request).db.read() as conn:
        found = kb.version(conn, article_id, number)
        draft = kb.load(conn, article_id)
    if found is None or draft is None:
        raise ApiError(404, "unknown_version", "没有这篇文章的这个版本")
    return render_page(request, who, "kb_version.html", {
        "v": found, "d": draft, "blocks": content.page_blocks(found["body"])})


async def _form(request: Request) -> FormData:
    try:
        return await request.form(max_files=2, max_fields=80)
    except HTTPException as exc:  # not a form, too many parts
        raise ApiError(400, "bad_form", "提交的内容格式不对，没有保存；请返回刷新后重试") from exc


def _edit(form: FormData) -> content.Edit:
    def text(key: str, limit: int = 100_000) -> str:
        value = form.get(key, "")
        return value[:limit] if isinstance(value, str) else ""

    new_category = text("new_category", 200).strip()
    figures = [k.removeprefix("caption_") for k in form if k.startswith("caption_")]
    return content.Edit(
        title=text("title", 10_000), category=new_category or text("category", 200),
        tags=content.words(text("tags", 2_000)),
        fault_codes=content.words(text("fault_codes", 2_000)),
        body=text("body", 200_000),
        captions={sha[:64]: text(f"caption_{sha}", 1_000)
                  for sha in figures[:content.FIGURES_MAX]},
        remove={str(v)[:64] for v in form.getlist("remove")})


async def _figure(form: FormData, edit: content.Edit) -> content.Edit:
    """The uploaded figure, checked whole (an image Pillow decodes, at most 5 MB, PNG or
    JPEG) before anything is stored; BadUpload says what is wrong in words."""
    upload = form.get("figure")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return edit
    data = await upload.read(MAX_BYTES + 1)
    photo = check_photo("figure", "插图", data)
    if photo.mime not in content.FIGURE_TYPES:
        raise BadUpload("插图请用 JPG 或 PNG 格式（平板只显示这两种）")
    caption = form.get("figure_caption", "")
    edit.new_figure = {"sha256": photo.sha256, "ext": content.FIGURE_TYPES[photo.mime],
                       "mime": photo.mime, "width": photo.width, "height": photo.height,
                       "size": len(data), "caption": (caption if isinstance(caption, str)
                                                      else "")[:1000].strip(),
                       "_data": data}
    return edit


def _revision(form: FormData) -> int:
    value = form.get("revision", "")
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 12 else -1


@router.post("/kb", response_model=None)
async def kb_create(request: Request, who: Writer) -> Response:
    # The body is read only once the sender is known to be a writer.
    return await _save(request, who, None)


@router.post("/kb/{article_id}", response_model=None)
async def kb_save(request: Request, who: Writer, article_id: ArticleId) -> Response:
    return await _save(request, who, article_id)


async def _save(request: Request, who: Principal, article_id: str | None) -> Response:
    form = await _form(request)
    check_csrf(request, str(form.get("csrf", "")))
    server = server_of(request)
    with server.db.read() as conn:
        draft = kb.load(conn, article_id) if article_id else \
            kb.Draft("", "", "", [], [], "", [], 0, None, 0)
    if draft is None:
        raise ApiError(404, "unknown_article", "没有这篇知识库文章")
    edit = _edit(form)
    try:
        edit = await _figure(form, edit)
    except BadUpload as exc:
        return _editor(request, who, draft, edit, f"{exc}；文章的其他修改没有保存，"
                                                   "请重新选择图片后再保存", status_code=422)
    opened = _revision(form)

    def store() -> str:
        with server.db.write() as conn:
            figure = edit.new_figure
            if figure:
                data = figure.pop("_data")
                _, error = server.blobs.put_chunk(conn, figure["sha256"], 0, len(data), data)
                if error:
                    raise error
            return kb.save(conn, who, article_id, edit, opened,
                           new_id=None if article_id else new_id())

    try:
        saved = await run_in_threadpool(store)
    except kb.Stale as exc:
        return _editor(request, who, draft, edit, _stale_note(exc, edit), exc.current,
                       status_code=409)
    except content.Invalid as exc:
        if edit.new_figure:
            edit.new_figure.pop("_data", None)
        return _editor(request, who, draft, edit, exc.message + "；没有保存，请修改后再保存",
                       status_code=422)
    return RedirectResponse(f"/office/kb/{saved}?saved=1", status_code=303)


def _stale_note(exc: kb.Stale, edit: content.Edit) -> str:
    lost = "；新选择的插图没有保存，请重新选择" if edit.new_figure else ""
    return (f"{exc.message}。您的修改没有保存，仍在下面的表单里；请对照右侧的当前内容，"
            f"确认后再次保存（将以当前内容为准继续编辑）{lost}")


async def _action(request: Request, who: Principal, article_id: str, act: Any,
                  done: str) -> Response:
    form = await _form(request)
    check_csrf(request, str(form.get("csrf", "")))
    server = server_of(request)
    opened = _revision(form)

    def run() -> None:
        with server.db.write() as conn:
            act(conn, who, server.clock, article_id, opened)

    try:
        await run_in_threadpool(run)
    except kb.Stale as exc:
        with server.db.read() as conn:
            draft = kb.load(conn, article_id)
        assert draft is not None
        return _editor(request, who, draft, None,
                       f"{exc.message}，未执行：请查看当前内容后再操作", status_code=409)
    except ApiError as exc:
        if exc.status == 404:
            raise
        return RedirectResponse(f"/office/kb/{article_id}?note={quote(exc.message)}",
                                status_code=303)
    return RedirectResponse(f"/office/kb/{article_id}?note={quote(done)}", status_code=303)


@router.post("/kb/{article_id}/publish", response_model=None)
async def kb_publish(request: Request, who: Writer, article_id: ArticleId) -> Response:
    return await _action(request, who, article_id, kb.publish,
                         "已发布：平板下次同步时收到新版本")


@router.post("/kb/{article_id}/withdraw", response_model=None)
async def kb_withdraw(request: Request, who: Writer, article_id: ArticleId) -> Response:
    return await _action(request, who, article_id, kb.withdraw,
                         "已撤回：平板下次同步时删除，网上营业厅不再显示")

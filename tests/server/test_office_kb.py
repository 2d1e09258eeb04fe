"""知识库 in the office, over HTTP against a real server (SQLite, or PostgreSQL with
FIELDAPP_TEST_PG): a draft no tablet sees, published to a real tablet replica that finds it
by its fault code, a second version, the history, a withdrawal that takes it off the tablet
and the portal; and the same door as an attacker or two editors at once would use it."""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import requests
from PIL import Image

from fieldapp.kb.article import IMAGE_DIR, article_html, fetched_dir
from fieldapp.replica import Replica
from fieldapp.sync.client import SyncClient
from sync_server.services.auth import add_user
from sync_server.services.records import insert_records
from sync_server.storage.db import open_database
from tests.conftest import ServerProcess, synced_tablet
from tests.server.test_conflict_review import csrf, office_session
from tests.server.test_sync_api import login
from tests.world import PASSWORD

TITLE = "智能燃气表故障代码 E1、E03 处理"
BODY = "表具显示故障代码时先看屏幕。\n\n[图1]\n\nE03 为强磁干扰：拍照后上报稽查。"


def png(color: str = "red", size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def fields(**changes: str) -> dict[str, str]:
    return {"title": TITLE, "category": "", "new_category": "故障代码",
            "tags": "表具故障 公开", "fault_codes": "e1, E03", "body": BODY, **changes}


def page(office: requests.Session, server: ServerProcess, path: str) -> str:
    got = office.get(server.url + path, timeout=10)
    assert got.status_code == 200, got.text
    return got.text


def revision(html: str) -> str:
    return re.search(r'name="revision" value="(\d+)"', html)[1]  # type: ignore[index]


def create(office: requests.Session, server: ServerProcess, data: dict[str, str],
           figure: bytes | None = None, **kwargs: object) -> requests.Response:
    token = csrf(page(office, server, "/office/kb/new"))
    files = {"figure": ("屏幕.png", figure, "image/png")} if figure else None
    return office.post(server.url + "/office/kb", timeout=30, data={
        **data, "csrf": token, "revision": "0", "figure_caption": "屏幕显示 E03"},
        files=files or {"figure": ("", b"", "application/octet-stream")}, **kwargs)


def article_id(resp: requests.Response) -> str:
    found = re.search(r"/office/kb/([0-9A-Za-z-]+)\?saved=1$", resp.url)
    assert resp.status_code == 200 and found, (resp.status_code, resp.url, resp.text[:2000])
    return found[1]


def save(office: requests.Session, server: ServerProcess, aid: str, data: dict[str, str],
         rev: str) -> requests.Response:
    token = csrf(page(office, server, f"/office/kb/{aid}"))
    return office.post(f"{server.url}/office/kb/{aid}", timeout=30, files={
        "figure": ("", b"", "application/octet-stream")},
        data={**data, "csrf": token, "revision": rev})


def act(office: requests.Session, server: ServerProcess, aid: str, action: str,
        rev: str | None = None) -> requests.Response:
    html = page(office, server, f"/office/kb/{aid}")
    return office.post(f"{server.url}/office/kb/{aid}/{action}", timeout=30, data={
        "csrf": csrf(html), "revision": rev or revision(html)})


def counts(server: ServerProcess) -> tuple[int, int, int]:
    return (server.scalar("SELECT count(*) FROM kb_drafts"),
            server.scalar("SELECT count(*) FROM kb_articles"),
            server.scalar("SELECT count(*) FROM blobs"))


def test_draft_publish_edit_history_withdraw_reach_the_tablet_and_portal(
        server: ServerProcess, tmp_path: Path) -> None:
    office = office_session(server, "supervisor")
    made = create(office, server, fields(), figure=png())
    aid = article_id(made)
    assert "草稿已保存" in made.text and "草稿（未发布）" in made.text
    listed = page(office, server, "/office/kb?q=e03")  # a fault code, whatever its case
    assert TITLE in listed and "草稿（未发布）" in listed
    assert TITLE not in page(office, server, "/office/kb?state=published")

    replica, client = synced_tablet(server, tmp_path / "pad")
    try:
        assert replica.kb.search("E03") == [] and replica.db["kb_articles"].count == 0
        assert TITLE not in requests.get(server.url + "/portal/help", params={"q": "E03"},
                                         timeout=10).text

        published = act(office, server, aid, "publish")
        assert "已发布：平板下次同步时收到新版本" in published.text
        report = client.sync()
        assert (report.figures, report.figures_missing) == (1, 0)
        hits = replica.kb.search("E03")
        assert [h["id"] for h in hits] == [aid] and hits[0]["title"] == TITLE
        assert [h["id"] for h in replica.kb.search("E1")] == [aid]  # a short code: substring
        shown = replica.kb.article(aid)
        sha = re.search(r"\(([0-9a-f]{64})\.png\)", shown["body"])[1]  # type: ignore[index]
        assert shown["body"].split("\n\n")[1] == f"![屏幕显示 E03]({sha}.png)"  # at [图1]
        # The uploaded figure was fetched with the sync: the article shows it offline, from
        # the tablet's own folder, as the bytes the office received.
        kept = fetched_dir(replica.data_dir) / f"{sha}.png"
        assert kept.read_bytes() == png()
        assert f'<img src="{kept.as_uri()}"' in article_html(shown, [IMAGE_DIR, kept.parent])
        assert "屏幕显示 E03 （图片缺失）" in article_html(shown)  # not in the bundled ones
        assert client.sync().figures == 0  # kept: not fetched again
        assert json.loads(shown["tags"]) == ["表具故障", "公开", "E1", "E03"]

        help_page = requests.get(server.url + "/portal/help", params={"q": "E03"}, timeout=10)
        assert TITLE in help_page.text and sha not in help_page.text  # caption, not markup
        portal_article = requests.get(f"{server.url}/portal/help/{aid}", timeout=10).text
        assert f'src="/portal/help/figures/{sha}.png"' in portal_article
        image = requests.get(f"{server.url}/portal/help/figures/{sha}.png", timeout=10)
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        assert image.content == png()
        office_image = office.get(f"{server.url}/office/kb/figures/{sha}.png", timeout=10)
        assert office_image.status_code == 200 and office_image.content == png()

        html = page(office, server, f"/office/kb/{aid}")
        saved = save(office, server, aid, fields(body="第二版：E03 强磁干扰须拍照上报。\n\n[图1]",
                                                 **{f"caption_{sha}": "第二版的图"}),
                     revision(html))
        assert saved.status_code == 200 and "已发布，有未发布的修改" in saved.text
        client.sync()
        assert replica.kb.article(aid)["body"].startswith("表具显示")  # the draft stays here
        act(office, server, aid, "publish")
        client.sync()
        assert replica.kb.article(aid)["body"] == (
            f"第二版：E03 强磁干扰须拍照上报。\n\n![第二版的图]({sha}.png)")
        assert [h["id"] for h in replica.kb.search("强磁干扰")] == [aid]

        html = page(office, server, f"/office/kb/{aid}")
        assert html.count('class="version-row"') == 2
        assert "第 1 版" in html and "第 2 版" in html and "马国栋" in html
        v1 = page(office, server, f"/office/kb/{aid}/versions/1")
        assert "表具显示故障代码时先看屏幕" in v1 and "已被第 2 版取代" in v1
        assert f'src="/office/kb/figures/{sha}.png"' in v1

        withdrawn = act(office, server, aid, "withdraw")
        assert "已撤回" in withdrawn.text
        client.sync()
        assert replica.db["kb_articles"].count == 0 and replica.kb.search("E03") == []
        assert requests.get(f"{server.url}/portal/help/{aid}", timeout=10).status_code == 404
        assert TITLE not in requests.get(server.url + "/portal/help", params={"q": "E03"},
                                         timeout=10).text
        assert requests.get(f"{server.url}/portal/help/figures/{sha}.png",
                            timeout=10).status_code == 404
        listed = page(office, server, "/office/kb?state=withdrawn")
        assert TITLE in listed  # the draft and its versions stay in the office

        # Published again: back on the tablet as version 3.
        act(office, server, aid, "publish")
        client.sync()
        assert [h["id"] for h in replica.kb.search("E03")] == [aid]
    finally:
        replica.close()

    who = server.query("SELECT op, by_user, fields FROM changes WHERE record_id = ?"
                       " ORDER BY seq", [aid])
    assert [(w["op"], w["by_user"]) for w in who] == [
        ("insert", "supervisor"), ("kb_published", "supervisor"),
        ("update", "supervisor"), ("kb_published", "supervisor"),
        ("delete", "supervisor"), ("kb_withdrawn", "supervisor"),
        ("insert", "supervisor"), ("kb_published", "supervisor")]
    assert json.loads(who[-1]["fields"]) == {"title": TITLE, "version": 3}
    audit_page = page(office, server, "/office/audit?table=security")
    assert "发布知识库文章" in audit_page and "撤回知识库文章" in audit_page
    assert server.scalar("SELECT count(*) FROM conflicts") == 0  # nothing for review


def test_an_imported_article_is_adopted_at_its_first_save(server: ServerProcess) -> None:
    db = open_database(server.data_dir, server.database_url)
    with db.write() as conn:
        insert_records(conn, "kb_articles", [{
            "id": "kb-seed-1", "title": "燃气软管更换标准", "category": "操作指南",
            "tags": json.dumps(["软管"], ensure_ascii=False),
            "body": "第一段\n\n![卡箍](hose_clamp.png)"}])
    db.close()
    office = office_session(server, "admin")
    listed = page(office, server, "/office/kb?category=操作指南")
    assert "燃气软管更换标准" in listed and "已发布" in listed and "导入" in listed
    html = page(office, server, "/office/kb/kb-seed-1")
    assert 'src="/office/kb/figures/hose_clamp.png"' in html  # the bundled figure
    bundled = office.get(server.url + "/office/kb/figures/hose_clamp.png", timeout=10)
    assert bundled.status_code == 200 and bundled.headers["content-type"] == "image/png"
    saved = save(office, server, "kb-seed-1", {
        "title": "燃气软管更换标准", "category": "操作指南", "tags": "软管 更换",
        "fault_codes": "", "body": "第一段（修订）\n\n![卡箍](hose_clamp.png)"}, revision(html))
    assert "已发布，有未发布的修改" in saved.text
    act(office, server, "kb-seed-1", "publish")
    html = page(office, server, "/office/kb/kb-seed-1")
    assert html.count('class="version-row"') == 2  # the imported row kept as version 1
    assert "第一段" in page(office, server, "/office/kb/kb-seed-1/versions/1")
    assert server.scalar("SELECT body FROM kb_articles WHERE id = 'kb-seed-1'").startswith(
        "第一段（修订）")


def test_two_editors_at_once_the_second_is_told_and_loses_nothing(
        server: ServerProcess) -> None:
    first, second = office_session(server, "supervisor"), office_session(server, "admin")
    aid = article_id(create(first, server, fields()))
    opened_by_first = revision(page(first, server, f"/office/kb/{aid}"))
    opened_by_second = revision(page(second, server, f"/office/kb/{aid}"))
    assert save(first, server, aid, fields(body="主管写的第二稿"),
                opened_by_first).status_code == 200
    late = save(second, server, aid, fields(body="管理员同时写的内容"), opened_by_second)
    assert late.status_code == 409
    assert "这篇文章在您打开后已被 supervisor" in late.text
    assert "管理员同时写的内容</textarea>" in late.text  # the second editor's text kept
    assert "主管写的第二稿" in late.text  # beside the article as it is now
    assert server.scalar("SELECT body FROM kb_drafts WHERE article_id = ?",
                         [aid]) == "主管写的第二稿"
    # A publish from the page opened before the first save is refused as well.
    stale = act(second, server, aid, "publish", rev=opened_by_second)
    assert stale.status_code == 409 and server.scalar(
        "SELECT count(*) FROM kb_articles WHERE id = ?", [aid]) == 0
    # Having seen both, the second editor saves again from the refused page: now it holds.
    again = save(second, server, aid, fields(body="管理员合并后的内容"), revision(late.text))
    assert again.status_code == 200 and server.scalar(
        "SELECT body FROM kb_drafts WHERE article_id = ?", [aid]) == "管理员合并后的内容"


def test_only_writers_write_and_every_bad_request_is_refused_in_words(
        server: ServerProcess, tmp_path: Path) -> None:
    office = office_session(server, "supervisor")
    aid = article_id(create(office, server, fields()))
    before = counts(server)

    anonymous = requests.post(server.url + "/office/kb", data=fields(), timeout=10,
                              allow_redirects=False)
    assert anonymous.status_code in (303, 401, 403)
    assert requests.get(server.url + "/office/kb", timeout=10,
                        allow_redirects=False).status_code in (302, 303, 307)
    tech = requests.Session()
    tech.cookies.set("fieldapp_office", login(server, "tech01", "pad-9")["Authorization"][7:])
    assert tech.get(server.url + "/office/kb", timeout=10,
                    allow_redirects=False).status_code in (302, 303, 401, 403)
    dispatcher = office_session(server, "dispatcher")
    listed = page(dispatcher, server, "/office/kb")  # every office viewer reads
    assert TITLE in listed and "写新文章" not in listed
    assert "只有主管和管理员" in page(dispatcher, server, f"/office/kb/{aid}")
    for path in ("/office/kb", f"/office/kb/{aid}", f"/office/kb/{aid}/publish",
                 f"/office/kb/{aid}/withdraw"):
        refused = dispatcher.post(server.url + path, timeout=10, headers={
            "Accept": "text/html"}, data={**fields(), "csrf": csrf(listed), "revision": "1"})
        assert refused.status_code == 403 and "主管或管理员" in refused.text, path

    db = open_database(server.data_dir, server.database_url)
    with db.write() as conn:  # the knowledge base is the whole utility's, not a district's
        add_user(conn, "supervisor-qh", "秦淮主管", "supervisor", PASSWORD, "秦淮区")
    db.close()
    district = office_session(server, "supervisor-qh")
    assert "写新文章" not in page(district, server, "/office/kb")
    refused = district.post(server.url + "/office/kb", timeout=10, headers={
        "Accept": "text/html"}, data={**fields(), "csrf": csrf(listed), "revision": "0"})
    assert refused.status_code == 403 and "限定区域的账号不能修改" in refused.text

    wrong = office.post(server.url + "/office/kb", timeout=10, data={
        **fields(), "csrf": "0" * 64, "revision": "0"}, files={"figure": ("", b"")})
    assert wrong.status_code == 403

    long_title = create(office, server, fields(title="长" * 121))
    assert long_title.status_code == 422 and "标题最多 120 个字（现有 121 个）" in long_title.text
    assert "长" * 121 in long_title.text  # what was typed stays in the form
    long_body = create(office, server, fields(body="字" * 20_001))
    assert long_body.status_code == 422 and "正文最多 20000 个字" in long_body.text
    bad_code = create(office, server, fields(fault_codes="E03 <script>"))
    assert bad_code.status_code == 422 and "&lt;script&gt;" in bad_code.text
    not_image = create(office, server, fields(), figure=b"<html><script>alert(1)</script>")
    assert not_image.status_code == 422 and "插图不是图片或已损坏" in not_image.text
    cut = create(office, server, fields(), figure=png()[:60])
    assert cut.status_code == 422
    webp = io.BytesIO()
    Image.new("RGB", (8, 8)).save(webp, "WEBP")
    assert "插图请用 JPG 或 PNG" in create(office, server, fields(), figure=webp.getvalue()).text
    huge = create(office, server, fields(), figure=b"\x89PNG\r\n\x1a\n" + b"0" * 9_000_000)
    assert huge.status_code == 413
    big = create(office, server, fields(), figure=b"\x89PNG\r\n\x1a\n" + b"0" * 6_000_000)
    assert big.status_code == 422 and "超过 5 MB" in big.text
    assert counts(server) == before  # nothing of any refused request was kept

    html = page(office, server, f"/office/kb/{aid}")
    for method, path in [("GET", "/office/kb/no-such-article"),
                         ("GET", f"/office/kb/{aid}/versions/99"),
                         ("GET", "/office/kb/no-such-article/versions/1"),
                         ("GET", "/office/kb/figures/" + "0" * 64 + ".png"),
                         ("GET", "/office/kb/figures/..%2F..%2Fserver.sqlite3"),
                         ("GET", "/office/kb/figures/server.log"),
                         ("POST", "/office/kb/no-such-article"),
                         ("POST", "/office/kb/no-such-article/publish"),
                         ("POST", "/office/kb/no-such-article/withdraw"),
                         ("GET", "/portal/help/figures/hose_clamp.png"),  # no public article
                         ("GET", "/portal/help/figures/" + "0" * 64 + ".png")]:
        resp = office.request(method, server.url + path, timeout=10, headers={
            "Accept": "text/html"}, data={**fields(), "csrf": csrf(html), "revision": "1"}
            if method == "POST" else None)
        assert resp.status_code == 404, (path, resp.status_code)
    for path in ("/office/kb/" + "x" * 65, f"/office/kb/{aid}/versions/0",
                 f"/office/kb/{aid}/versions/abc"):
        assert office.get(server.url + path, timeout=10).status_code in (404, 422), path
    nothing = act(office, server, aid, "withdraw")  # a draft never published
    assert "这篇文章没有发布，无需撤回" in nothing.text
    act(office, server, aid, "publish")
    again = act(office, server, aid, "publish")
    assert "没有需要发布的修改" in again.text
    assert counts(server)[1] == before[1] + 1


def test_a_supervisor_writes_and_publishes_by_clicking(server: ServerProcess, browser,
                                                       tmp_path: Path) -> None:
    figure = tmp_path / "屏幕.png"
    figure.write_bytes(png("#0b5cab", (320, 180)))
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    web = context.new_page()
    web.goto(server.url + "/office/kb")
    from tests.server.test_office_browser import sign_in as browser_sign_in

    browser_sign_in(web, "supervisor")
    assert web.title().startswith("知识库")
    web.click("#kb-new")
    web.fill("#title", TITLE)
    web.fill("#new_category", "故障代码")
    web.fill("#tags", "表具故障 公开")
    web.fill("#fault_codes", "E1 E03")
    web.fill("#body", BODY)
    web.set_input_files("#figure", str(figure))
    web.fill("#figure_caption", "屏幕显示 E03")
    web.click("#save")
    web.wait_for_load_state("networkidle")
    assert "草稿已保存" in web.inner_text("#note")
    assert web.eval_on_selector_all("#preview img", "imgs => imgs.map(i => i.naturalWidth)") \
        == [320]
    web.click("#publish")
    web.wait_for_load_state("networkidle")
    assert "已发布" in web.inner_text("#state") and web.locator(".version-row").count() == 1
    web.screenshot(path=str(tmp_path / "kb.png"), full_page=True)
    assert (tmp_path / "kb.png").stat().st_size > 20_000
    replica = Replica.open(tmp_path / "pad")
    try:
        client = SyncClient(replica, server.url)
        client.login("tech01", PASSWORD)
        client.sync()
        assert [h["title"] for h in replica.kb.search("E03")] == [TITLE]
    finally:
        replica.close()
    context.close()


def test_a_tablet_fetches_only_published_figures_and_keeps_only_the_named_bytes(
        server: ServerProcess, tmp_path: Path) -> None:
    """The tablets' figure door as a plain HTTP client would use it: signed in only, a
    draft's figure and any other stored file refused, a name that is not a figure refused;
    and a tablet handed bytes that are not the ones a figure's name promises keeps none."""
    from fieldapp.sync import kb_figures

    office = office_session(server, "supervisor")
    aid = article_id(create(office, server, fields(), figure=png("blue")))
    sha = hashlib.sha256(png("blue")).hexdigest()
    door = f"{server.url}/api/v1/kb/figures/{sha}.png"
    headers = login(server, "tech01", "figures-pad")
    assert requests.get(door, timeout=10).status_code == 401
    assert requests.get(door, headers=headers, timeout=10).status_code == 404  # a draft's
    act(office, server, aid, "publish")
    got = requests.get(door, headers=headers, timeout=10)
    assert got.status_code == 200 and got.content == png("blue")
    assert got.headers["content-type"] == "image/png"
    for name in ("../server.sqlite3", f"{sha}.gif", "x" * 64 + ".png", f"{sha}.png.exe"):
        bad = requests.get(f"{server.url}/api/v1/kb/figures/{name}", headers=headers,
                           timeout=10)
        assert bad.status_code == 404, (name, bad.status_code)
        assert bad.json()["error"] in ("unknown_figure", "not_found"), bad.text
    pad = tmp_path / "pad"
    assert not kb_figures.keep(pad, f"{sha}.png", png("red"))  # not the named bytes
    assert not kb_figures.keep(pad, "屏幕.png", png("blue"))  # not a figure's name
    assert not (pad / "kb_figures" / f"{sha}.png").exists()
    assert kb_figures.keep(pad, f"{sha}.png", png("blue"))
    assert list((pad / "kb_figures").iterdir()) == [pad / "kb_figures" / f"{sha}.png"]

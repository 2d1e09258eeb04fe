"""表单 in the office: an XLSForm uploaded, previewed with its problems, published as a new
version that tablets pull, and chosen per kind of job and customer; every submission keeps
the version it was filled on. A real server over HTTP and a real tablet replica."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import requests
from openpyxl import load_workbook

from fieldapp.forms.xlsform import import_xlsform
from fieldapp.replica import Replica
from fieldapp.sync.client import SyncClient
from tests.conftest import ServerProcess
from tests.forms.test_xlsform_export import keys
from tests.forms.test_xlsform_import import (
    KITCHEN_CHOICES,
    KITCHEN_SETTINGS,
    KITCHEN_SURVEY,
    xlsx,
)
from tests.forms.xlsform_corpus import CORPUS, pyxform_questions
from tests.server.test_conflict_review import csrf, office_session
from tests.world import PASSWORD, inspect_household

KITCHEN = xlsx(KITCHEN_SURVEY, KITCHEN_CHOICES, KITCHEN_SETTINGS)


def upload(office: requests.Session, server: ServerProcess, data: bytes,
           name: str = "后厨检查.xlsx") -> requests.Response:
    token = csrf(office.get(server.url + "/office/forms", timeout=10).text)
    return office.post(server.url + "/office/forms", data={"csrf": token},
                       files={"file": (name, data)}, timeout=30)


def publish(office: requests.Session, preview: requests.Response,
            code: str) -> requests.Response:
    return office.post(preview.url + "/publish", timeout=30,
                       data={"code": code, "csrf": csrf(preview.text)})


def choose(office: requests.Session, server: ServerProcess, kind: str, customer_kind: str,
           code: str) -> requests.Response:
    token = csrf(office.get(server.url + "/office/forms", timeout=10).text)
    return office.post(server.url + "/office/forms/choice", timeout=10, data={
        "kind": kind, "customer_kind": customer_kind, "code": code, "csrf": token})


def test_a_form_is_previewed_published_chosen_and_started_on_the_tablet(
        server: ServerProcess, tmp_path: Path) -> None:
    office = office_session(server, "admin")
    preview = upload(office, server, KITCHEN)
    assert preview.status_code == 200 and "/office/forms/uploads/" in preview.url
    page = preview.text
    assert "预览：工商业后厨燃气检查" in page and "每一行都已导入" in page
    assert "商户名称" in page and "炒灶" in page and "可重复" in page  # laid out as on the tablet
    assert "发布为第 1 版" in page
    assert server.scalar("SELECT count(*) FROM form_definitions WHERE code ="
                         " 'commercial_kitchen'") == 0  # a preview publishes nothing

    published = publish(office, preview, "commercial_kitchen")
    assert published.status_code == 200 and "已发布 commercial_kitchen 第 1 版" in published.text
    again = publish(office, preview, "commercial_kitchen")
    assert again.status_code == 404  # an upload is published once

    replica = Replica.open(tmp_path / "tablet")
    client = SyncClient(replica, server.url)
    client.login("tech01", PASSWORD)
    client.sync()
    for job in ("job-1", "job-2"):
        replica.jobs.transition(job, "accepted")
        replica.jobs.transition(job, "in_service")
    draft = replica.forms.start("job-1")  # started before the office's choice
    client.sync()

    chosen = choose(office, server, "inspection", "residential", "commercial_kitchen")
    assert chosen.status_code == 200 and "已保存" in chosen.text
    client.sync()
    assert replica.forms.form_code("job-2") == "commercial_kitchen"
    kitchen = replica.forms.start("job-2")
    assert replica.get("submissions", kitchen)["form_code"] == "commercial_kitchen"
    assert replica.forms.for_job("job-1")["id"] == draft  # a started draft keeps its form
    assert replica.get("submissions", draft)["form_code"] == "household_inspection"
    replica.forms.answer(kitchen, "shop_name", "老王面馆")
    client.sync()
    assert json.loads(server.scalar("SELECT value FROM answers WHERE submission_id = ?"
                                    " AND question = 'shop_name'", [kitchen])) == "老王面馆"

    back = choose(office, server, "inspection", "residential", "")
    assert "已保存" in back.text
    client.sync()
    assert replica.forms.form_code("job-2") == "household_inspection"
    replica.close()


def test_a_new_version_leaves_what_was_filled_on_the_old_one_as_it_was(
        server: ServerProcess, tmp_path: Path) -> None:
    replica = Replica.open(tmp_path / "tablet")
    client = SyncClient(replica, server.url)
    client.login("tech01", PASSWORD)
    client.sync()
    sub_id = inspect_household(replica, "job-1", tmp_path)
    client.sync()
    old_version = replica.get("submissions", sub_id)["form_version"]

    office = office_session(server, "admin")
    preview = upload(office, server, KITCHEN)
    assert f"发布为 household_inspection 的第 {old_version + 1} 版" not in preview.text
    published = publish(office, preview, "household_inspection")
    assert f"household_inspection 第 {old_version + 1} 版" in published.text
    versions = server.query("SELECT form_version FROM form_definitions"
                            " WHERE code = 'household_inspection' ORDER BY form_version")
    assert [v["form_version"] for v in versions] == list(range(1, old_version + 2))
    listing = office.get(server.url + "/office/forms", timeout=10).text
    assert f"第 {old_version} 版</a>（1 份记录）" in listing

    report = office.get(f"{server.url}/office/reports/{sub_id}", timeout=30)
    assert report.status_code == 200 and "户主" in report.text  # still shown on its version
    pdf = office.get(f"{server.url}/office/reports/{sub_id}/report.pdf", timeout=60)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    old = office.get(f"{server.url}/office/forms/household_inspection/{old_version}",
                     timeout=10)
    assert old.status_code == 200 and "1 份记录按此版本填写" in old.text

    client.sync()  # the tablet has the new version; new drafts start on it
    assert replica.submissions.definition("household_inspection")["version"] == old_version + 1
    replica.close()


def test_a_published_form_is_downloaded_edited_in_excel_and_published_again(
        server: ServerProcess) -> None:
    """The standard inspection as an XLSForm: a viewer downloads it, an admin changes one
    label in it and publishes it as the next version, which differs in that label only."""
    viewer = office_session(server, "dispatcher")
    page = viewer.get(server.url + "/office/forms/household_inspection/2", timeout=10).text
    assert 'href="/office/forms/household_inspection/2/xlsform"' in page
    got = viewer.get(server.url + "/office/forms/household_inspection/2/xlsform", timeout=30)
    assert got.status_code == 200 and got.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert 'filename="household_inspection.v2.xlsx"' in got.headers["content-disposition"]
    stored = json.loads(server.scalar("SELECT definition FROM form_definitions WHERE code ="
                                      " 'household_inspection' AND form_version = 2"))
    book = load_workbook(io.BytesIO(got.content))
    header = [c.value for c in book["survey"][1]]
    row = next(r for r in book["survey"].iter_rows(min_row=2)
               if r[header.index("name")].value == "refusal_reason")
    row[header.index("label::Chinese (zh)")].value = "拒绝入户的原因（请问清楚）"
    edited = io.BytesIO()
    book.save(edited)

    office = office_session(server, "admin")
    preview = upload(office, server, edited.getvalue(), "household_inspection.v2.xlsx")
    assert "每一行都已导入" in preview.text
    assert "发布为 household_inspection 的第 3 版" in preview.text
    assert "已发布 household_inspection 第 3 版" in publish(office, preview,
                                                        "household_inspection").text
    third = json.loads(server.scalar("SELECT definition FROM form_definitions WHERE code ="
                                     " 'household_inspection' AND form_version = 3"))
    reason = next(i for g in third["items"] for i in g.get("items", [])
                  if i["key"] == "refusal_reason")
    assert reason["label"]["zh"] == "拒绝入户的原因（请问清楚）"
    reason["label"] = next(i for g in stored["items"] for i in g.get("items", [])
                          if i["key"] == "refusal_reason")["label"]
    assert {**third, "version": 2} == stored  # nothing else changed on the way

    assert viewer.get(server.url + "/office/forms/no_such/1/xlsform",
                      timeout=10).status_code == 404
    assert viewer.get(server.url + "/office/forms/household_inspection/x/xlsform",
                      timeout=10).status_code == 422
    assert requests.get(server.url + "/office/forms/household_inspection/2/xlsform",
                        timeout=10, allow_redirects=False).status_code in (303, 401)


def test_an_excel_97_form_is_published_as_it_came(server: ServerProcess) -> None:
    """ODK's tutorial form as published, a .xls: previewed with every row kept, published,
    and handed back as .xlsx with the same questions."""
    office = office_session(server, "admin")
    preview = upload(office, server, CORPUS.joinpath("tutorial.xls").read_bytes(), "tutorial.xls")
    assert preview.status_code == 200 and "每一行都已导入" in preview.text, preview.text[:400]
    assert "已发布 tutorial 第 1 版" in publish(office, preview, "tutorial").text
    stored = json.loads(server.scalar("SELECT definition FROM form_definitions WHERE code ="
                                      " 'tutorial' AND form_version = 1"))
    assert keys(stored["items"]) == pyxform_questions(CORPUS / "tutorial.xls")
    got = office.get(server.url + "/office/forms/tutorial/1/xlsform", timeout=30)
    assert import_xlsform(got.content).definition == stored


def test_the_forms_door_refuses_in_words_and_changes_nothing(server: ServerProcess) -> None:
    office = office_session(server, "admin")
    before = server.scalar("SELECT count(*) FROM form_definitions")
    for data, name, said in [(b"", "空.xlsx", "文件是空的"),
                             (b"PK\x03\x04 not really", "坏.xlsx", "无法导入"),
                             (b"a,b\n1,2\n", "表.csv", "请用 Excel .xlsx 或 .xls"),
                             (CORPUS.joinpath("tutorial.xls").read_bytes()[:3000], "断.xls",
                              "not a readable .xls file"),
                             (b"x" * (5 * 1024 * 1024 + 10), "大.xlsx", "超过 5 MB"),
                             # pyxform's refusal, framed in Chinese, its row as 第 N 行
                             (xlsx([["type", "name", "label"], ["text", "a", "A"],
                                    ["text", "a", "B"]]), "重名.xlsx",
                              "ODK 的标准实现 pyxform 不接受这个表单：第 3 行：On the"
                              " &#39;survey&#39; sheet, the &#39;name&#39; value &#39;a&#39;")]:
        resp = upload(office, server, data, name)
        assert resp.status_code in (413, 422) and said in resp.text, (name, resp.text[:400])
    no_file = office.post(server.url + "/office/forms", timeout=10, data={
        "csrf": csrf(office.get(server.url + "/office/forms", timeout=10).text)})
    assert no_file.status_code == 422 and "请选择 XLSForm 文件" in no_file.text

    preview = upload(office, server, KITCHEN)
    for code in ("", "X", "1abc", "has space", "a" * 60, "../../etc"):
        bad = publish(office, preview, code)
        assert bad.status_code == 200 and "表单代码应为" in bad.text, code
    forged = office.post(preview.url + "/publish", data={"code": "good_code",
                                                          "csrf": "forged"}, timeout=10)
    assert forged.status_code == 403
    for token in ("0" * 24, "nothex", "..%2F..%2Fetc%2Fpasswd"):
        assert office.get(f"{server.url}/office/forms/uploads/{token}",
                          timeout=10).status_code == 404
    assert office.get(server.url + "/office/forms/no_such/1", timeout=10).status_code == 404
    assert office.get(server.url + "/office/forms/household_inspection/x",
                      timeout=10).status_code == 422
    for kind, ck, code, said in [("inspection", "", "no_such_form", "没有已发布的表单"),
                                 ("dunning", "", "meter_reading", "不用表单"),
                                 ("inspection", "martian", "meter_reading", "未知的用户类型")]:
        resp = choose(office, server, kind, ck, code)
        assert resp.status_code == 422 and said in resp.text, (kind, resp.text[:300])
    assert server.scalar("SELECT count(*) FROM form_definitions") == before
    assert server.scalar("SELECT count(*) FROM org_settings WHERE id = 'forms.by_kind'") == 0

    dispatcher = office_session(server, "dispatcher")
    token = csrf(dispatcher.get(server.url + "/office/forms", timeout=10).text)
    refused = dispatcher.post(server.url + "/office/forms", data={"csrf": token},
                              files={"file": ("a.xlsx", KITCHEN)}, timeout=10)
    assert refused.status_code == 403
    assert re.search(r"标准表单（household_inspection）", dispatcher.get(
        server.url + "/office/forms", timeout=10).text) is None  # viewers see, not choose


def test_an_admin_publishes_a_form_by_clicking_in_chromium(server: ServerProcess, browser,
                                                          tmp_path: Path) -> None:
    from tests.server.test_office_browser import sign_in

    path = tmp_path / "后厨检查.xlsx"
    path.write_bytes(KITCHEN)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server.url + "/office/forms")
    sign_in(page, "admin")
    page.set_input_files("#xlsform", str(path))
    page.click("#check-form")
    page.wait_for_selector("#preview")
    assert page.locator("#preview .q").count() >= 10
    page.screenshot(path=str(tmp_path / "preview.png"), full_page=True)
    page.fill("#code", "commercial_kitchen")
    page.click("#publish")
    page.wait_for_selector("#done")
    assert "第 1 版" in page.inner_text("#done")
    page.click("text=← 表单")
    page.select_option("#choice-inspection\\.commercial select", "commercial_kitchen")
    page.click("#choice-inspection\\.commercial button")
    page.wait_for_selector("#done")
    page.screenshot(path=str(tmp_path / "forms.png"), full_page=True)
    assert server.scalar("SELECT value FROM org_settings WHERE id = 'forms.by_kind'") == \
        '{"inspection.commercial": "commercial_kitchen"}'


def test_a_form_with_its_csv_files_is_published_and_reaches_the_tablet(
        server: ServerProcess, tmp_path: Path) -> None:
    """A metered-billing form reading a price list (pulldata) and a station register
    (select_one_from_file), uploaded with its two CSVs: the tablet computes the fee offline
    from the list it received inside the form; the office hands the CSV back to edit."""
    from fieldapp.forms import engine
    from tests.forms.test_xlsform_files import CHOICES, FILES, PRICES, SURVEY

    office = office_session(server, "admin")

    def send(*attached: tuple[str, bytes]) -> requests.Response:
        token = csrf(office.get(server.url + "/office/forms", timeout=10).text)
        return office.post(server.url + "/office/forms", data={"csrf": token}, timeout=30,
                           files=[("file", ("抄表计费.xlsx", xlsx(SURVEY, CHOICES))),
                                  *(("attachments", a) for a in attached)])

    before = server.scalar("SELECT count(*) FROM form_definitions")
    bad = send(("prices.csv", b"district,district\na,b\n"))
    assert bad.status_code == 422 and "prices.csv: column &#39;district&#39; is named twice" \
        in bad.text
    many = send(*((f"t{i}.csv", b"a\n1\n") for i in range(11)))
    assert many.status_code == 422 and "附带的文件最多 10 个" in many.text
    missing = send(("prices.csv", FILES["prices.csv"]))
    assert missing.status_code == 200 and "stations.csv is not attached to the form" \
        in missing.text
    assert server.scalar("SELECT count(*) FROM form_definitions") == before

    preview = send(("stations.csv", FILES["stations.csv"]),
                   ("../../prices.csv", FILES["prices.csv"]))  # a path is only its name
    assert "每一行都已导入" in preview.text, preview.text[:2000]
    assert "已发布 metered_bill 第 1 版" in publish(office, preview, "metered_bill").text
    page = office.get(server.url + "/office/forms/metered_bill/1", timeout=10).text
    assert 'href="/office/forms/metered_bill/1/files/prices.csv"' in page
    got = office.get(server.url + "/office/forms/metered_bill/1/files/prices.csv", timeout=10)
    assert got.status_code == 200 and got.content.decode("utf-8-sig") == PRICES
    assert office.get(server.url + "/office/forms/metered_bill/1/files/other.csv",
                      timeout=10).status_code == 404

    replica = Replica.open(tmp_path / "tablet")
    client = SyncClient(replica, server.url)
    client.login("tech01", PASSWORD)
    client.sync()
    definition = replica.submissions.definition("metered_bill")
    assert definition["data"]["prices"][1] == {"district": "jianye", "price": "2.90"}
    assert engine.calculations(definition, {"district": "jianye", "volume": 10})["fee"] == 29.0
    replica.close()

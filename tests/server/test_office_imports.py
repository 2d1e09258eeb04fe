"""数据导入 in the office: a billing system's export uploaded from the browser, checked (a dry
run that writes nothing), its columns corrected, then imported with a progress page; and the
same door as an attacker would use it. A real server over HTTP, SQLite or PostgreSQL."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import ServerProcess
from tests.server.operator import ADMIN_PASSWORD
from tests.server.test_conflict_review import csrf, sign_in
from tests.server.test_customer_import import BAD, HEADER, counts, good_rows, write_csv


@pytest.fixture
def office(utility: ServerProcess) -> Iterator[requests.Session]:
    utility.start()
    session = requests.Session()
    assert sign_in(session, utility.url, "admin", ADMIN_PASSWORD,
                   "/office/imports").status_code == 200
    yield session
    utility.stop()


def token(office: requests.Session, server: ServerProcess) -> str:
    return csrf(office.get(server.url + "/office/imports", timeout=10).text)


def upload(office: requests.Session, server: ServerProcess, path: Path, kind: str = "customers",
           source: str = "") -> requests.Response:
    with path.open("rb") as fh:
        return office.post(server.url + "/office/imports", timeout=60, files={
            "file": (path.name, fh)}, data={"kind": kind, "source": source,
                                           "csrf": token(office, server)})


def settled(office: requests.Session, url: str, wait: float = 60) -> str:
    """The run's page once it is no longer working (it refreshes itself every second)."""
    deadline = time.monotonic() + wait
    while True:
        page = office.get(url, timeout=10)
        assert page.status_code == 200, page.text
        if 'http-equiv="refresh"' not in page.text:
            return page.text
        assert time.monotonic() < deadline, "the import never finished"
        time.sleep(0.05)


def run(office: requests.Session, url: str, mode: str) -> requests.Response:
    return office.post(url + "/run", timeout=10, data={
        "mode": mode, "csrf": csrf(office.get(url, timeout=10).text)})


def test_a_file_is_checked_then_its_good_rows_imported_and_again_changes_nothing(
        utility: ServerProcess, office: requests.Session, tmp_path: Path) -> None:
    file = write_csv(tmp_path / "客户.csv", good_rows(1200) + BAD)  # GBK, as CIS exports are
    before = counts(utility)
    sent = upload(office, utility, file)
    assert sent.status_code == 200 and re.search(r"/office/imports/[0-9a-f]{16}$", sent.url)
    url = sent.url
    page = settled(office, url)
    assert "共 1205 行：<b>1200</b> 行可以导入（1200 个客户，1200 块表）" in page
    assert "第 1202 行「户号」：缺少户号" in page
    assert "第 1203 行「营业区域」：未知区域「雨花台区」" in page
    assert "320100000000" in page  # the preview shows the file's first rows
    assert counts(utility) == before  # the check wrote nothing

    refused = run(office, url, "all")  # all or nothing: one bad row, nothing written
    page = settled(office, refused.url.split("?")[0])
    assert "5 行有问题，什么都没有写入" in page and counts(utility) == before

    done = run(office, url, "good")
    assert done.status_code == 200
    page = settled(office, url)
    assert "新客户 1200，更新 0；新表具 1200" in page, page
    customers, meters, changes = counts(utility)
    assert (customers, meters) == (1200, 1200) and changes == before[2] + 2400
    by = utility.query("SELECT DISTINCT by_user FROM changes WHERE tbl = 'customers'")
    assert by == [{"by_user": "admin"}]  # the change log names who imported
    again = run(office, url, "good")
    assert "不能再次开始" in again.text  # one run runs once
    run_folder = utility.data_dir / "imports" / url.rsplit("/", 1)[1]
    assert [p.name for p in run_folder.iterdir()] == ["run.json"]  # the upload is not kept

    second = upload(office, utility, file)
    settled(office, second.url)
    run(office, second.url, "good")
    assert "新客户 0，更新 0；新表具 0，更新 0；未变 2400" in settled(office, second.url)
    assert counts(utility) == (customers, meters, changes)
    listed = office.get(utility.url + "/office/imports", timeout=10).text
    assert listed.count("客户.csv") == 2 and "已导入" in listed


def test_columns_are_corrected_on_the_page_and_kept_for_their_source(
        utility: ServerProcess, office: requests.Session, tmp_path: Path) -> None:
    header = ["用户编码", *HEADER[1:]]
    file = write_csv(tmp_path / "营收.csv", good_rows(5), header=header, encoding="utf-8-sig")
    url = upload(office, utility, file, source="营收系统").url
    page = settled(office, url)
    assert "找不到户号列" in page and 'id="run-good"' not in page and 'id="run-all"' not in page
    form = {"csrf": csrf(page), "map.account_no": "用户编码", "map.name": "户名",
            "map.address": "用气地址", "map.district": "营业区域", "map.phone": "",
            "map.meter_barcode": "表条码"}
    remapped = office.post(url + "/mapping", data=form, timeout=10)
    page = settled(office, remapped.url)
    assert "共 5 行：<b>5</b> 行可以导入" in page, page
    run(office, url, "all")
    assert "新客户 5" in settled(office, url)
    stored = utility.query("SELECT phone, household_size FROM customers ORDER BY account_no")
    assert stored[1] == {"phone": None, "household_size": None}  # unmapped: not imported

    later = write_csv(tmp_path / "营收2.csv", good_rows(7), header=header)
    page = settled(office, upload(office, utility, later, source="营收系统").url)
    assert "共 7 行：<b>7</b> 行可以导入" in page  # the saved mapping, no questions asked


def test_history_comes_in_from_the_page_too(utility: ServerProcess, office: requests.Session,
                                            tmp_path: Path) -> None:
    url = upload(office, utility, write_csv(tmp_path / "客户.csv", good_rows(3))).url
    settled(office, url)
    run(office, url, "all")
    settled(office, url)
    readings = write_csv(tmp_path / "抄表.csv", [["GM0000000001", "2026-11-01", "10"],
                                               ["GM0000000001", "2026-11-20", "9"]],
                         header=["表条码", "抄表日期", "本期读数"])
    page = settled(office, upload(office, utility, readings, "readings").url)
    assert "第 3 行「本期读数」：读数 9 小于前一次（第 2 行，2026-11-01 00:00）的 10" in page


def test_the_door_refuses_bad_uploads_in_words_and_keeps_nothing(
        utility: ServerProcess, office: requests.Session, tmp_path: Path) -> None:
    url = utility.url + "/office/imports"
    good = write_csv(tmp_path / "客户.csv", good_rows(2))
    cases = [({"kind": "customers"}, None, "请选择文件"),
             ({"kind": "dogs"}, good, "请选择要导入的数据"),
             ({"kind": "customers", "source": "<script>"}, good, "来源系统的名字"),
             ({"kind": "customers"}, tmp_path / "x.exe", "不认识的文件类型「.exe」")]
    (tmp_path / "x.exe").write_bytes(b"MZ")
    for data, path, said in cases:
        files = {"file": (path.name, path.read_bytes())} if path else None
        resp = office.post(url, data={**data, "csrf": token(office, utility)}, files=files,
                           timeout=10)
        assert resp.status_code == 422 and said in resp.text, (data, resp.text[:300])
    forged = office.post(url, data={"kind": "customers", "csrf": "forged"},
                         files={"file": ("a.csv", b"x")}, timeout=10)
    assert forged.status_code == 403

    for name, body, said in [("空.csv", b"", "文件是空的"),
                             ("坏.xlsx", b"not a zip", "这个 Excel 文件打不开"),
                             ("表头.csv", "户号,户名\n".encode(), "文件只有表头"),
                             ("乱码.csv", b"\xff\xfe\x00\x81\x00" * 50, "文件")]:
        path = tmp_path / name
        path.write_bytes(body)
        page = settled(office, upload(office, utility, path).url)
        assert "未导入" in page and said in page, (name, page[:500])
        assert 'id="run-all"' not in page and 'id="run-good"' not in page

    for bad_id in ("..%2F..%2Fetc", "0123456789abcdef", "ZZ", "a" * 300):
        resp = office.get(f"{url}/{bad_id}", timeout=10)
        assert resp.status_code == 404, bad_id
        resp = office.post(f"{url}/{bad_id}/run", data={"mode": "all",
                                                        "csrf": token(office, utility)})
        assert resp.status_code == 404, bad_id
    run_url = upload(office, utility, good).url
    settled(office, run_url)
    odd = office.post(run_url + "/run", data={"mode": "whatever",
                                              "csrf": token(office, utility)})
    assert "请选择导入方式" in odd.text
    assert utility.scalar("SELECT count(*) FROM customers") == 0

    anonymous = requests.post(url, files={"file": ("a.csv", b"x" * 1000)}, timeout=10,
                              allow_redirects=False)
    assert anonymous.status_code in (303, 401, 403)


def test_an_upload_over_the_limit_is_refused_before_it_is_read(
        utility: ServerProcess, office: requests.Session) -> None:
    with socket.create_connection(("127.0.0.1", utility.port), timeout=10) as sock:
        sock.sendall(b"POST /office/imports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: multipart/form-data; boundary=x\r\n"
                     b"Content-Length: 314572800\r\n\r\n")  # 300 MB announced, none sent
        received = b""
        while chunk := sock.recv(65536):  # the server answers and closes
            received += chunk
        answer = received.decode("utf-8", "replace")
    assert answer.startswith("HTTP/1.1 413") and "文件过大" in answer and "200 MB" in answer


def test_a_run_whose_server_died_says_nothing_was_written(
        utility: ServerProcess, office: requests.Session, tmp_path: Path) -> None:
    url = upload(office, utility, write_csv(tmp_path / "客户.csv", good_rows(3))).url
    settled(office, url)
    state = next((utility.data_dir / "imports").glob("*/run.json"))
    text = state.read_text("utf-8")
    state.write_text(re.sub(r'"beat": [0-9.]+', '"beat": 1000.0',
                            text.replace('"state": "checked"', '"state": "running"')), "utf-8")
    page = office.get(url, timeout=10).text
    assert "中断" in page and "没有写入任何内容" in page and 'http-equiv="refresh"' not in page
    refused = run(office, url, "all")
    assert "不能再次开始" in refused.text


def test_an_admin_imports_by_clicking_in_chromium(utility: ServerProcess, browser,
                                                  tmp_path: Path) -> None:
    file = write_csv(tmp_path / "客户.csv", good_rows(3000) + BAD)
    utility.start()
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(utility.url + "/office/imports")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", ADMIN_PASSWORD)
        page.click("#login")
        page.wait_for_selector("#upload-form")
        page.select_option("#kind", "customers")
        page.fill("#source", "营收系统")
        page.set_input_files("#file", str(file))
        page.click("#upload")
        page.wait_for_selector("#summary", timeout=60_000)  # refreshed until checked
        assert "3000 个客户" in page.inner_text("#summary")
        assert page.locator("#problems li").count() == 5
        assert page.locator("#sample tr").count() == 1 + 8
        page.screenshot(path=str(tmp_path / "preview.png"), full_page=True)
        page.click("#run-good")
        page.wait_for_selector("#said", timeout=120_000)
        assert "新客户 3000" in page.inner_text("#said")
        page.screenshot(path=str(tmp_path / "done.png"), full_page=True)
        page.click("text=← 数据导入")
        assert page.locator("#runs tr").count() == 2 and "已导入" in page.inner_text("#runs")
    finally:
        utility.stop()
    assert utility.scalar("SELECT count(*) FROM customers") == 3000

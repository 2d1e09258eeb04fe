"""CSV files attached to an XLSForm: pulldata() from a price list, select_one_from_file over a
station register, select_one_external over the workbook's external_choices sheet; the files
travel inside the definition, so the tablet has them offline."""

from __future__ import annotations

from typing import Any

import pytest
from openpyxl import Workbook

from fieldapp.forms import engine
from fieldapp.forms.loader import load_definition
from fieldapp.forms.xlsform import import_xlsform
from fieldapp.forms.xlsform_export import export_files, export_xlsform
from fieldapp.forms.xlsform_sheets import XLSFormError
from tests.forms.test_xlsform_import import check, xlsx

SURVEY = [
    ["type", "name", "label", "calculation", "choice_filter", "required"],
    ["select_one district", "district", "片区", None, None, "yes"],  # 2
    ["select_one_from_file stations.csv", "station", "调压站", None,
     "district = ${district}", "yes"],  # 3
    ["calculate", "price", None, "pulldata('prices', 'price', 'district', ${district})"],  # 4
    ["decimal", "volume", "用气量（m³）"],  # 5
    ["note", "cost", "应缴 ${fee} 元"],  # 6
    ["calculate", "fee", None, "round(${volume} * ${price}, 2)"],  # 7
]
CHOICES = [["list_name", "name", "label"], ["district", "gulou", "鼓楼"],
           ["district", "jianye", "建邺"]]
STATIONS = "name,label::Chinese (zh),label::English (en),district\n" \
           "s01,鼓楼一站,Gulou 1,gulou\ns02,建邺二站,Jianye 2,jianye\ns01,重复,dup,gulou\n"
PRICES = "district,price\ngulou,3.05\njianye,2.90\n"
FILES = {"stations.csv": STATIONS.encode("utf-8"), "prices.csv": PRICES.encode("gbk")}


@pytest.fixture(scope="module")
def metered() -> Any:
    return import_xlsform(xlsx(SURVEY, CHOICES), code="metered", files=FILES)


def test_the_files_travel_inside_the_definition(metered: Any) -> None:
    assert metered.problems == ()
    d = metered.definition
    assert d["data"] == {"prices": [{"district": "gulou", "price": "3.05"},
                                    {"district": "jianye", "price": "2.90"}]}
    assert d["choice_lists"]["file_stations"] == [  # a repeated name offers nothing new
        {"value": "s01", "label": {"zh": "鼓楼一站", "en": "Gulou 1"}, "district": "gulou"},
        {"value": "s02", "label": {"zh": "建邺二站", "en": "Jianye 2"}, "district": "jianye"}]
    assert d["items"][1] == {"key": "station", "type": "select_one", "choices": "file_stations",
                             "label": {"zh": "调压站"}, "required": True,
                             "choice_filter": "district = ${district}"}
    load_definition(d)


def test_pulldata_reads_the_attached_table_and_filters_follow_the_file(metered: Any) -> None:
    d = metered.definition
    assert engine.calculations(d, {"district": "jianye", "volume": 10})["fee"] == 29.0
    assert engine.calculations(d, {"district": "gulou", "volume": 10})["fee"] == 30.5
    assert check(d, {"district": "gulou", "station": "s01", "volume": 3}) == []
    assert check(d, {"district": "gulou", "station": "s02", "volume": 3}) == [
        ("station", "choice_not_offered")]


def test_the_form_and_its_files_come_back_from_the_export(metered: Any) -> None:
    d = metered.definition
    files = export_files(d)
    assert set(files) == {"prices.csv"} and files["prices.csv"].startswith(b"\xef\xbb\xbf")
    again = import_xlsform(export_xlsform(d), files=files)
    assert again.problems == () and again.definition == d


def test_a_file_not_attached_is_named_and_its_rows_left_out() -> None:
    result = import_xlsform(xlsx(SURVEY, CHOICES), code="metered")
    said = {p.row: p.message for p in result.problems}
    assert "stations.csv is not attached to the form" in said[3]
    assert "pulldata() reads 'prices', which is not attached to the form" in said[4]
    assert "fee" in said[7] or "price" in said[7]  # it reads a row left out
    assert [i["key"] for i in result.definition["items"]] == ["district", "volume", "cost"]


def test_a_column_pulldata_reads_must_be_in_the_file() -> None:
    survey = [["type", "name", "label", "calculation"],
              ["text", "who", "户主"],
              ["calculate", "tariff", None, "pulldata('prices', 'tariff', 'district', ${who})"]]
    result = import_xlsform(xlsx(survey), files={"prices.csv": PRICES.encode()})
    assert [(p.row, p.column) for p in result.problems] == [(3, "calculation")]
    assert "the column 'tariff', which prices.csv does not have" in result.problems[0].message
    assert "data" not in result.definition


def test_select_one_external_reads_the_external_choices_sheet() -> None:
    book = Workbook()
    book.active.title = "survey"
    for row in [["type", "name", "label", "choice_filter"],
                ["select_one district", "district", "片区"],
                ["select_one_external street", "street", "街道", "district=${district}"]]:
        book["survey"].append(row)
    for title, rows in (("choices", CHOICES),
                        ("external_choices", [["list_name", "name", "label", "district"],
                                              ["street", "zhongshan", "中山路", "gulou"],
                                              ["street", "jiangdong", "江东路", "jianye"]])):
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    import io
    out = io.BytesIO()
    book.save(out)
    result = import_xlsform(out.getvalue())
    assert result.problems == ()
    street = result.definition["items"][1]
    assert (street["type"], street["choices"]) == ("select_one", "street")
    assert check(result.definition, {"district": "gulou", "street": "jiangdong"}) == [
        ("street", "choice_not_offered")]


@pytest.mark.parametrize(("files", "said"), [
    ({"prices.csv": b""}, "prices.csv: the first row must name the columns"),
    ({"prices.csv": b"district,district\na,b\n"}, "column 'district' is named twice"),
    ({"prices.csv": b"district,price\n"}, "prices.csv: no rows under its header"),
    ({"prices.csv": b"\xff\xfe\x00d\x00"}, "not UTF-8 or GBK"),
    ({"stations.xml": b"<root/>"}, "stations.xml: only CSV files are read"),
])
def test_a_bad_file_is_refused_by_name(files: dict[str, bytes], said: str) -> None:
    with pytest.raises(XLSFormError) as refused:
        import_xlsform(xlsx(SURVEY, CHOICES), files=files)
    assert said in str(refused.value)

"""XLSForm import: three forms a utility might already have, built here with openpyxl."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from fieldapp.forms import engine
from fieldapp.forms.definition import shown_text
from fieldapp.forms.loader import load_definition
from fieldapp.forms.state import FormState
from fieldapp.forms.xlsform import import_xlsform
from fieldapp.forms.xlsform_export import export_xlsform
from fieldapp.forms.xlsform_sheets import XLSFormError

TODAY = date(2025, 3, 1)
Rows = list[list[Any]]


def xlsx(survey: Rows, choices: Rows | None = None, settings: Rows | None = None) -> bytes:
    book = Workbook()
    book.active.title = "survey"
    for row in survey:
        book["survey"].append(row)
    for title, rows in (("choices", choices), ("settings", settings)):
        if rows:
            sheet = book.create_sheet(title)
            for row in rows:
                sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def check(definition: dict[str, Any], answers: dict[str, Any],
          files: dict[str, list[str]] | None = None,
          notes: dict[str, str] | None = None) -> list[tuple[str, str]]:
    found = engine.problems(definition, answers, files or {}, notes=notes, today=TODAY)
    return [(p.question_path, p.code) for p in found]


# -- 1. a bilingual commercial-kitchen safety check -----------------------------------------------

KITCHEN_SURVEY = [
    ["type", "name", "label::Chinese (zh)", "label::English (en)", "hint::Chinese (zh)",
     "required", "relevant", "constraint", "constraint_message::Chinese (zh)",
     "constraint_message::English (en)", "calculation", "appearance", "hazard_level", "default"],
    ["text", "shop_name", "商户名称", "Business name", "以营业执照为准", "yes"],
    ["select_one yes_no", "open", "是否营业", "Open for business", None, "yes"],
    ["begin_group", "kitchen", "后厨检查", "Kitchen", None, None, "${open} = 'yes'"],
    ["integer", "burners", "灶眼数量", "Number of burners", None, "yes", None,
     ". >= 1 and . <= 40", "灶眼数量应为1–40", "Between 1 and 40 burners"],
    ["select_one pfn", "leak_test", "管道接口检漏", "Leak test at joints", None, "yes",
     None, None, None, None, None, None, "critical"],
    ["select_one pfn", "alarm", "可燃气体报警器", "Gas alarm works", None, "yes",
     None, None, None, None, None, None, "serious"],
    ["select_one pfn", "exhaust", "排烟设施", "Exhaust hood works", None, "yes"],
    ["begin_repeat", "appliances", "燃具", "Appliances"],
    ["select_one appliance", "kind", "类型", "Kind", None, "yes"],
    ["decimal", "power", "额定热负荷", "Rated heat input (kW)", None, "no", None,
     ". > 0", "功率须大于0", "Must be above 0"],
    ["end_repeat"],
    ["calculate", "appliance_count", None, None, None, None, None, None, None, None,
     "count(${appliances})"],
    ["end_group"],
    ["geopoint", "location", "位置", "Location"],
    ["image", "photo", "现场照片", "Photo on site", None, "yes"],
    ["image", "signature", "负责人签字", "Manager's signature", None,
     "${open} = 'yes'", None, None, None, None, None, "signature"],
    ["date", "next_check", "下次检查日期", "Next check", None, None, None, ". > today()",
     "须晚于今天", "Must be after today"],
]
KITCHEN_CHOICES = [
    ["list_name", "name", "label::Chinese (zh)", "label::English (en)"],
    ["yes_no", "yes", "是", "Yes"], ["yes_no", "no", "否", "No"],
    ["pfn", "pass", "合格", "Pass"], ["pfn", "fail", "不合格", "Fail"],
    ["pfn", "na", "不适用", "N/A"],
    ["appliance", "wok", "炒灶", "Wok burner"], ["appliance", "steamer", "蒸箱", "Steamer"],
    ["appliance", "oven", "烤箱", "Oven"],
]
KITCHEN_SETTINGS = [["form_id", "version", "form_title::Chinese (zh)",
                     "form_title::English (en)", "default_language"],
                    ["Commercial-Kitchen Check", "2024061201", "工商业后厨燃气检查",
                     "Commercial kitchen gas check", "Chinese (zh)"]]
KITCHEN_OK = {"shop_name": "老王面馆", "open": "yes", "burners": 6, "leak_test": "pass",
              "alarm": "pass", "exhaust": "na",
              "appliances": [{"kind": "wok", "power": 28.0}, {"kind": "steamer"}],
              "next_check": "2026-03-01"}
KITCHEN_FILES = {"photo": ["att-1"], "signature": ["att-sig"]}


@pytest.fixture(scope="module")
def kitchen() -> dict[str, Any]:
    result = import_xlsform(xlsx(KITCHEN_SURVEY, KITCHEN_CHOICES, KITCHEN_SETTINGS))
    assert result.problems == ()
    return result.definition


def test_kitchen_form_translates_types_labels_and_settings(kitchen: dict[str, Any]) -> None:
    d = load_definition(kitchen)
    assert (d.code, d.version) == ("commercial_kitchen_check", 2024061201)
    assert d.title == {"zh": "工商业后厨燃气检查", "en": "Commercial kitchen gas check"}
    types = {key: q.type for key, q in d.by_key.items()}
    assert types == {"shop_name": "text", "open": "yes_no", "kitchen": "group",
                     "burners": "integer", "leak_test": "pass_fail_na", "alarm": "pass_fail_na",
                     "exhaust": "pass_fail_na", "appliances": "repeat", "kind": "select_one",
                     "power": "decimal", "appliance_count": "calculate", "location": "gps",
                     "photo": "photo", "signature": "signature", "next_check": "date"}
    assert d.by_key["leak_test"].hazard_level_on_fail == "critical"
    assert d.by_key["exhaust"].hazard_level_on_fail is None
    assert d.by_key["burners"].raw["constraint_message"] == {
        "zh": "灶眼数量应为1–40", "en": "Between 1 and 40 burners"}
    assert d.by_key["shop_name"].raw["hint"] == {"zh": "以营业执照为准"}
    assert d.by_key["photo"].max_count == 1


@pytest.mark.parametrize(("case", "answers", "files", "expected"), [
    ("valid", KITCHEN_OK, KITCHEN_FILES, []),
    ("closed: the kitchen is not checked, no signature", {"shop_name": "老王面馆", "open": "no"},
     {"photo": ["att-1"]}, []),
    ("too many burners", {**KITCHEN_OK, "burners": 60}, KITCHEN_FILES,
     [("burners", "constraint")]),
    ("a repeat instance without its kind",
     {**KITCHEN_OK, "appliances": [{"power": -1.0}]}, KITCHEN_FILES,
     [("appliances[0].kind", "required"), ("appliances[0].power", "constraint")]),
    ("failed critical item needs photo and note", {**KITCHEN_OK, "leak_test": "fail"},
     KITCHEN_FILES, [("leak_test", "note_required"), ("leak_test", "photo_required")]),
    ("next check in the past, no photo", {**KITCHEN_OK, "next_check": "2024-01-01"},
     {"signature": ["att-sig"]}, [("photo", "required"), ("next_check", "constraint")]),
])
def test_kitchen_submissions(kitchen: dict[str, Any], case: str, answers: dict[str, Any],
                             files: dict[str, list[str]],
                             expected: list[tuple[str, str]]) -> None:
    assert check(kitchen, answers, files) == expected


def test_kitchen_calculation(kitchen: dict[str, Any]) -> None:
    assert engine.calculations(kitchen, KITCHEN_OK)["appliance_count"] == 2


# -- 2. an English follow-up call with metadata rows -----------------------------------------------

CALL_SURVEY = [
    ["type", "name", "label", "required", "relevant", "constraint", "constraint_message",
     "calculation", "default"],
    ["start", "started"],
    ["end", "ended"],
    ["deviceid", "device"],
    ["date", "call_date", "Date of the call", "yes", None, ". <= today()", "Not in the future"],
    ["select_one rating", "rating", "How satisfied are you with the repair?", "yes"],
    ["select_multiple issues", "issues", "What went wrong?", "${rating} <= 2", None,
     "count-selected(.) <= 3", "Pick at most three"],
    ["text", "issue_other", "Describe the other issue", "yes", "selected(${issues}, 'other')"],
    ["integer", "callbacks", "Number of call attempts", "yes", None, ". >= 1", "At least one",
     None, 1],
    ["note", "summary", "Summary", None, None, None, None,
     "concat('Rating ', ${rating}, ' after ', ${callbacks}, ' attempts')"],
]
CALL_CHOICES = [
    ["list_name", "name", "label"],
    *[["rating", n, str(n)] for n in range(1, 6)],
    ["issues", "late", "Technician was late"], ["issues", "mess", "Left a mess"],
    ["issues", "not_fixed", "Not fixed"], ["issues", "rude", "Impolite"],
    ["issues", "other", "Something else"],
]


@pytest.fixture(scope="module")
def call() -> tuple[dict[str, Any], list[tuple[int, str]]]:
    result = import_xlsform(xlsx(CALL_SURVEY, CALL_CHOICES), code="follow_up_call")
    return result.definition, [(p.row, p.message.split(" ")[1]) for p in result.problems]


def test_call_metadata_rows_are_reported_with_their_row(
        call: tuple[dict[str, Any], list[tuple[int, str]]]) -> None:
    definition, problems = call
    assert problems == [(3, "'end'")]  # the submission's own time
    d = load_definition(definition)
    assert [(q.type, q.raw["source"]) for q in d.by_key.values() if q.type == "hidden"] == [
        ("hidden", "odk.start"), ("hidden", "odk.deviceid")]  # the tablet fills them
    assert d.code == "follow_up_call" and d.version == 1
    assert d.by_key["rating"].choice_values == ("1", "2", "3", "4", "5")
    assert d.by_key["call_date"].label == {"en": "Date of the call"}  # plain English label
    assert d.by_key["callbacks"].default == 1


@pytest.mark.parametrize(("case", "answers", "expected"), [
    ("happy", {"call_date": "2025-02-27", "rating": "5"}, []),
    ("unhappy without issues", {"call_date": "2025-02-27", "rating": "2"},
     [("issues", "required")]),
    ("unhappy, other issue undescribed",
     {"call_date": "2025-02-27", "rating": "1", "issues": ["late", "other"]},
     [("issue_other", "required")]),
    ("too many issues",
     {"call_date": "2025-02-27", "rating": "1", "issues": ["late", "mess", "rude", "not_fixed"]},
     [("issues", "constraint")]),
    ("a rating not on the list", {"call_date": "2025-02-27", "rating": "9"},
     [("rating", "invalid_choice")]),
    ("call in the future, zero attempts", {"call_date": "2025-03-05", "rating": "4",
                                           "callbacks": 0},
     [("call_date", "constraint"), ("callbacks", "constraint")]),
])
def test_call_submissions(call: tuple[dict[str, Any], list[tuple[int, str]]], case: str,
                          answers: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert check(call[0], answers) == expected


def test_call_note_calculation(call: tuple[dict[str, Any], list[tuple[int, str]]]) -> None:
    values = engine.calculations(call[0], {"rating": "4"})
    assert values["summary"] == "Rating 4 after 1 attempts"


# -- 3. a legacy installation survey full of things FieldApp does not do --------------------------

LEGACY_SURVEY = [
    ["type", "name", "label", "relevant", "constraint", "calculation", "default",
     "choice_filter", "repeat_count"],
    ["select_one district", "district", "片区"],  # 2
    ["select_one station", "station", "调压站", None, None, None, None,
     "district = ${district}"],  # 3
    ["file", "pipe_drawing", "管线图"],  # 4
    ["text", "station_name", "站名", None, None, "jr:choice-name(${station}, '${station}')"],  # 5
    ["decimal", "tariff", "气价", None, None, "pulldata('prices', 'price', 'id', ${district})"],
    ["integer", "floors", "楼层数", "/data/district = 'gulou'"],  # 7
    ["text", "floor_note", "楼层说明", "${floors} > 6"],  # 8: depends on a row left out
    ["select_one material or_other", "material", "管材"],  # 9
    ["date", "installed_on", "安装日期", None, None, None, "${last-saved#installed_on}"],  # 10
    ["text", "bad.name", "坏名字"],  # 11
    ["deviceid", "device"],  # 12: the tablet fills it
    ["begin repeat", "risers", "立管", None, None, None, None, None, 3],  # 13
    ["decimal", "riser_diameter", "管径（mm）", None, ". > 0"],  # 14
    ["end repeat"],  # 15
    ["begin group", "extras", "附加", "${tariff} > 3"],  # 16: depends on a row left out
    ["text", "extra_note", "备注"],  # 17
    ["end group"],  # 18
    ["start", "started"],  # 19: the tablet fills it
    ["text", "remarks", "备注"],  # 20
]
LEGACY_CHOICES = [
    ["list_name", "name", "label", "district"],
    ["district", "gulou", "鼓楼"], ["district", "jianye", "建邺"],
    ["station", "s01", "鼓楼一站", "gulou"], ["station", "s02", "建邺二站", "jianye"],
    ["material", "steel", "钢管"], ["material", "pe", "PE管"],
]


@pytest.fixture(scope="module")
def legacy() -> Any:
    return import_xlsform(xlsx(LEGACY_SURVEY, LEGACY_CHOICES), code="legacy_survey")


def test_legacy_report_names_every_row_it_could_not_translate(legacy: Any) -> None:
    report = {p.row: (p.column, p.message) for p in legacy.problems}
    assert sorted(report) == [4, 5, 6, 7, 8, 10, 11, 16, 17]  # 13: its repeat_count
    assert "type 'file' is not supported" in report[4][1]
    assert report[5] == ("calculation", report[5][1])
    assert "function jr:choice-name()" in report[5][1]
    assert "pulldata() reads 'prices', which is not attached to the form" in report[6][1]
    assert "XPath path" in report[7][1]
    assert report[8][0] == "relevant" and "${floors}" in report[8][1]  # it read a row left out
    assert "dynamic default" in report[10][1]
    assert "bad.name" in report[11][1]
    assert "${tariff}" in report[16][1]
    assert "inside a group or repeat that was left out" in report[17][1]


def test_legacy_keeps_what_it_can_and_validates(legacy: Any) -> None:
    d = load_definition(legacy.definition)
    assert list(d.by_key) == ["district", "station", "material", "material_other", "device",
                              "risers", "riser_diameter", "started", "remarks"]
    assert d.by_key["risers"].raw["repeat_count"] == "3"
    answers = {"district": "gulou", "station": "s01", "material": "pe",
               "risers": [{"riser_diameter": 25.0}] * 3}  # its repeat_count
    assert check(legacy.definition, answers) == []
    assert check(legacy.definition, {**answers, "station": "s02"}) == [
        ("station", "choice_not_offered")]
    assert check(legacy.definition, {**answers, "risers": [{"riser_diameter": 0}] * 3}) == [
        (f"risers[{i}].riser_diameter", "constraint") for i in range(3)]
    assert check(legacy.definition, {**answers, "risers": answers["risers"][:1]}) == [
        ("risers", "too_few_repeats")]


# -- files that are not XLSForms ------------------------------------------------------------


def test_path_input(tmp_path: Path) -> None:
    path = tmp_path / "call.xlsx"
    path.write_bytes(xlsx(CALL_SURVEY, CALL_CHOICES))
    assert import_xlsform(path).definition["code"] == "imported_form"


@pytest.mark.parametrize(("content", "problem"), [
    (b"not a spreadsheet", "not a readable .xlsx file"),
    (xlsx([["type", "label"], ["text", "Name"]]),
     r"pyxform refuses this XLSForm: \[row : 2\] Question or group with no name"),
    # What pyxform refuses is refused with its reason, not taken in part.
    (xlsx([["type", "name", "label", "label"], ["text", "a", "A", "B"]]),
     "pyxform refuses this XLSForm: Duplicate column header: label"),
    (xlsx([["type", "name", "label"], ["text", "a", "A"], ["text", "a", "B"]]),
     r"\[row : 3\] On the 'survey' sheet, the 'name' value 'a' is invalid"),
    (xlsx([["type", "name", "label"], ["text", "a", "A"], ["end group"]]),
     r"pyxform refuses this XLSForm: \[row : 3\] Unmatched 'end_group'"),
    (xlsx([["type", "name", "label"], ["file", "plan", "Plan"]]), "cannot build a form"),
])
def test_unusable_files(content: bytes, problem: str) -> None:
    with pytest.raises(XLSFormError, match=problem):
        import_xlsform(content)


def test_no_survey_sheet() -> None:
    book = Workbook()
    book.active.title = "questions"
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(XLSFormError, match="You must have a sheet named 'survey'"):
        import_xlsform(out.getvalue())


def test_a_sheet_is_read_to_its_content_not_its_declared_size() -> None:
    """A sheet once touched at row 1,000,000 and column 300 declares that size; it is read
    to its content, as pyxform reads: blank rows inside it keep Excel's row numbers, and
    after a run of more than 60 blank rows the content has ended."""
    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    sheet.append(["type", "name", "label::Chinese (zh)"])
    sheet.append(["text", "shop", "商户名称"])
    for _ in range(10):
        sheet.append([])
    sheet.append(["end", "ended", ""])  # row 13: reported as row 13
    sheet.append(["integer", "burners", "灶眼数量"])
    sheet.cell(row=14 + 62, column=1).value = "text"  # after 61 blank rows: not content
    sheet.cell(row=14 + 62, column=2).value = "after_the_end"
    sheet.cell(row=1_000_000, column=300).value = ""
    out = io.BytesIO()
    book.save(out)
    result = import_xlsform(out.getvalue(), code="sized")
    assert [i["key"] for i in result.definition["items"]] == ["shop", "burners"]
    assert [(p.row, p.message.split(" ")[1]) for p in result.problems] == [(13, "'end'")]


def test_the_way_real_forms_are_written_is_read_as_pyxform_reads_it() -> None:
    """What field teams' forms do and pyxform accepts: ``list name`` with a space,
    ``select one from LIST``, typographic quotes in an expression (and the rows in the
    group after it), single-colon language headers, Excel TRUE/FALSE cells, ``and(`` and
    ``mod(`` as operators, and the settings sheet's ``title``, ``id_string`` and ``version``."""
    survey = [
        ["type", "name", "label:English", "label:Chinese (zh)", "required", "relevant",
         "constraint"],
        ["select one from yn", "open", "Open?", "营业吗", True],
        ["begin group", "shop", "Shop", "商户", None, "${open} = “yes”"],
        ["integer", "burners", "Burners", "灶眼", False, None,
         ". > 0 and(. mod(2) = 0 or(. < 3))"],
        ["select_multiple faults", "faults", "Faults", "故障", None, "${burners} > 1"],
        ["end group"],
        ["text", "never", "Never", "从不", None, False],
    ]
    choices = [["list name", "name", "label:English", "label:Chinese (zh)"],
               ["yn", "yes", "Yes", "是"], ["yn", "no", "No", "否"],
               ["faults", "leak", "Leak", "漏气"], ["faults", "rust", "Rust", "锈蚀"]]
    settings = [["title", "id_string", "version"], ["Shop check", "shop_check", "2024061501"]]
    result = import_xlsform(xlsx(survey, choices, settings))
    assert result.problems == ()
    d = result.definition
    assert (d["code"], d["version"], d["title"]["en"]) == ("shop_check", 2024061501,
                                                           "Shop check")
    opened, shop, never = d["items"]
    assert opened["type"] == "yes_no" and opened["required"] is True
    assert opened["label"] == {"en": "Open?", "zh": "营业吗"}
    assert shop["relevant"] == "${open} = \"yes\""
    burners, faults = shop["items"]
    assert burners["constraint"] == ". > 0 and(. mod(2) = 0 or(. < 3))"
    assert burners["required"] is False
    assert faults["type"] == "select_multiple" and d["choice_lists"]["faults"][0]["label"] == {
        "en": "Leak", "zh": "漏气"}
    assert never["relevant"] == "false()"
    answers = {"open": "yes", "burners": 4, "faults": ["leak"]}
    assert check(d, answers) == []
    assert check(d, {**answers, "burners": 5}) == [("burners", "constraint")]


def test_every_language_the_form_carries_is_kept_and_one_without_a_code_is_named() -> None:
    """Languages as ODK writes them (``label::Français (fr)``) are kept under their codes;
    the tablet shows its own language, else Chinese, else English, else the first written.
    A language column with no code to keep it under is named on the header row."""
    result = import_xlsform(xlsx(
        [["type", "name", "label::English (en)", "label::Français (fr)", "hint::Español (es)",
          "label::Deutsch"],
         ["text", "shop", "Shop", "Boutique", "Tienda", "Laden"],
         ["select_one yn", "open", "Open?", "Ouvert ?", None, "Offen?"]],
        [["list_name", "name", "label::English (en)", "label::العربية (ar)"],
         ["yn", "yes", "Yes", "نعم"], ["yn", "no", "No", "لا"]]))
    shop, opened = result.definition["items"]
    assert shop["label"] == {"en": "Shop", "fr": "Boutique"} and shop["hint"] == {"es": "Tienda"}
    assert opened["type"] == "yes_no"
    assert result.definition["choice_lists"]["yn"][0]["label"] == {"en": "Yes", "ar": "نعم"}
    assert [(p.sheet, p.row, p.column) for p in result.problems] == [
        ("survey", 1, "label::deutsch")]
    assert "'deutsch' has no language code" in result.problems[0].message
    d = load_definition(result.definition)
    assert shown_text(d.by_key["shop"].label, "fr") == "Boutique"
    assert shown_text(d.by_key["shop"].label, "zh") == "Shop"  # no Chinese: English
    assert shown_text(d.by_key["shop"].raw["hint"], "zh") == "Tienda"  # the only one


def test_a_label_shows_the_answers_it_names_and_a_name_it_cannot_show_is_reported() -> None:
    """Label and hint piping: ``${name}`` is shown with the answer (inside a repeat, the
    same instance's); a name left out of the form is reported (one never in it is refused
    by pyxform)."""
    result = import_xlsform(xlsx([
        ["type", "name", "label::Chinese (zh)", "hint::Chinese (zh)"],
        ["text", "shop", "商户名称"],
        ["integer", "burners", "${shop} 的灶眼数", "共 ${burners} 个"],
        ["file", "route", "管线图"],  # left out: FieldApp takes no arbitrary files
        ["begin repeat", "stoves", "灶具"],
        ["text", "brand", "品牌"],
        ["note", "seen", "已记录 ${brand}（${route}）"],
        ["end repeat"],
    ]))
    reported = [(p.row, p.column, p.message) for p in result.problems if "${" in p.message]
    assert reported == [
        (7, "label", "${route} is not a question of this form (or was left out): shown as"
                     " written")]
    state = FormState(result.definition, {"shop": "老王面馆", "burners": 4,
                                          "stoves": [{"brand": "方太"}, {}]})
    d = state.definition
    burners, seen = d.by_key["burners"], d.by_key["seen"]
    assert state.piped(burners.label["zh"], burners, ()) == "老王面馆 的灶眼数"
    assert state.piped(burners.raw["hint"]["zh"], burners, ()) == "共 4 个"
    assert state.piped(seen.label["zh"], seen, (0,)) == "已记录 方太（${route}）"
    assert state.piped(seen.label["zh"], seen, (1,)) == "已记录 （${route}）"  # unanswered


def test_or_other_adds_the_other_choice_and_asks_what_it_is() -> None:
    result = import_xlsform(xlsx(
        [["type", "name", "label::Chinese (zh)"],
         ["select_one material or_other", "material", "管材"],
         ["select_multiple material or_other", "faults", "问题"],
         ["select_one material", "riser", "立管管材"]],
        [["list_name", "name", "label::Chinese (zh)"], ["material", "steel", "钢管"],
         ["material", "pe", "PE管"]]))
    assert result.problems == ()
    d = result.definition
    assert [i["key"] for i in d["items"]] == ["material", "material_other", "faults",
                                              "faults_other", "riser"]
    assert [c["value"] for c in d["choice_lists"]["material_or_other"]] == [
        "steel", "pe", "other"]
    assert d["items"][4]["choices"] == "material"  # without "other": as the sheet says
    assert check(d, {"material": "pe", "faults": ["steel"], "riser": "pe"}) == []
    assert check(d, {"material": "other", "faults": ["other"], "riser": "pe"}) == [
        ("material_other", "required"), ("faults_other", "required")]
    assert check(d, {"material": "other", "material_other": "铸铁", "faults": ["other"],
                     "faults_other": "锈", "riser": "pe"}) == []
    assert check(d, {"material": "pe", "faults": [], "riser": "other"}) == [
        ("riser", "invalid_choice")]


def test_a_range_is_a_number_held_to_its_bounds_and_step() -> None:
    result = import_xlsform(xlsx(
        [["type", "name", "label::Chinese (zh)", "parameters", "constraint"],
         ["range", "pressure", "压力（kPa）", "start=0 end=5 step=0.5"],
         ["range", "rating", "评分", None, ". != 7"],
         ["range", "floors", "楼层", "start=2 end=30 step=2"]]))
    d = result.definition
    assert [(i["key"], i["type"]) for i in d["items"]] == [
        ("pressure", "decimal"), ("rating", "integer"), ("floors", "integer")]
    assert result.problems == ()
    assert check(d, {"pressure": 2.5, "rating": 10, "floors": 30}) == []
    assert check(d, {"pressure": 5.5, "rating": 7, "floors": 7}) == [
        ("pressure", "constraint"), ("rating", "constraint"), ("floors", "constraint")]
    assert check(d, {"pressure": -1, "rating": 0, "floors": 32}) == [
        ("pressure", "constraint"), ("rating", "constraint"), ("floors", "constraint")]


def test_repeat_count_asks_for_exactly_as_many_entries() -> None:
    """ODK's repeat_count, read from an answer: the form is complete with exactly that many
    entries, and says so either way; until the count is answered nothing is asked."""
    result = import_xlsform(xlsx(
        [["type", "name", "label", "repeat_count", "required"],
         ["integer", "burners", "灶眼数量", None, "yes"],
         ["begin repeat", "burner", "灶眼", "${burners}"],
         ["select_one pfn", "flame", "火焰"],
         ["end repeat"],
         ["text", "note", "备注", "2"]],
        [["list_name", "name", "label"], ["pfn", "pass", "合格"], ["pfn", "fail", "不合格"],
         ["pfn", "na", "不适用"]]))
    assert [(p.row, p.column) for p in result.problems] == [(6, "repeat_count")]
    d = result.definition
    assert d["items"][1]["repeat_count"] == "${burners}" and "repeat_count" not in d["items"][2]
    entry = {"flame": "pass"}
    assert check(d, {"burners": 2, "burner": [entry]}) == [("burner", "too_few_repeats")]
    assert check(d, {"burners": 2, "burner": [entry] * 3}) == [("burner", "too_many_repeats")]
    assert check(d, {"burners": 2, "burner": [entry] * 2}) == []
    assert check(d, {"burners": 0, "burner": []}) == []
    assert check(d, {"burner": [entry]}) == [("burners", "required")]


def test_the_settings_default_language_is_shown_where_the_tablets_is_missing() -> None:
    """A form in English and French whose settings sheet says French: a Chinese tablet shows
    French, an English one English; a default language with no code is named."""
    survey = [["type", "name", "label::English (en)", "label::Français (fr)"],
              ["text", "shop", "Shop", "Boutique"]]
    result = import_xlsform(xlsx(survey, None, [["default_language"], ["Français (fr)"]]))
    d = result.definition
    assert d["default_language"] == "fr" and result.problems == ()
    label = d["items"][0]["label"]
    assert shown_text(label, "zh", d["default_language"]) == "Boutique"
    assert shown_text(label, "en", d["default_language"]) == "Shop"
    assert shown_text(label, "zh") == "Shop"  # a form without one: English before the rest
    unknown = import_xlsform(xlsx(survey, None, [["default_language"], ["Klingon"]]))
    assert "default_language" not in unknown.definition
    assert [(p.sheet, p.column) for p in unknown.problems] == [("settings", "default_language")]


def test_audio_and_video_are_kept_as_one_recording_each() -> None:
    result = import_xlsform(xlsx([["type", "name", "label", "required"],
                                  ["audio", "statement", "用户陈述录音", "yes"],
                                  ["video", "closing", "关阀过程录像"]]))
    assert result.problems == ()
    statement, closing = result.definition["items"]
    assert (statement["type"], statement["max_count"], statement["required"]) == (
        "audio", 1, True)
    assert (closing["type"], closing["max_count"]) == ("video", 1)
    d = result.definition
    assert engine.problems(d, {}, {"statement": ["a", "b"]}, today=TODAY)[0].code == \
        "too_many_recordings"


def test_odk_s_other_names_for_types_are_read_as_odk_reads_them() -> None:
    """pyxform's aliases and older spellings: a typed phone number and a percentage keep
    the rule pyxform gives them; acknowledge is one tick recorded as 'OK'; 'select all that
    apply from … or specify other'; dateTime; a note without a name, named after its row."""
    result = import_xlsform(xlsx(
        [["type", "name", "label::Chinese (zh)", "constraint"],
         ["phone number", "phone", "电话", None],
         ["percentage", "share", "比例", ". != 50"],
         ["acknowledge", "told", "已告知安全事项", None],
         ["select all that apply from material or specify other", "faults", "问题", None],
         ["dateTime", "shut_at", "关阀时间", None],
         ["location", "where", "位置", None],
         ["photo", "shot", "照片", None],
         ["note", None, "请注意安全", None],
         ["get start time", "began", None, None],
         ["uri:phonenumber", "sim_phone", None, None],
         ["end", "ended", None, None]],
        [["list name", "name", "label::Chinese (zh)"], ["material", "steel", "钢管"]]))
    d = result.definition
    assert [(i["key"], i["type"]) for i in d["items"]] == [
        ("phone", "text"), ("share", "integer"), ("told", "select_one"),
        ("faults", "select_multiple"), ("faults_other", "text"), ("shut_at", "datetime"),
        ("where", "gps"), ("shot", "photo"), ("generated_note_name_9", "note"),
        ("began", "hidden"), ("sim_phone", "hidden")]
    # ODK's metadata as hidden answers the tablet fills (an ODK name for a type is no
    # problem); one it has no value for, said so; end is the submission's own time.
    assert [d["items"][i]["source"] for i in (9, 10)] == ["odk.start", "odk.phonenumber"]
    assert [(p.row, p.column, p.message.split(":")[0].split(";")[0])
            for p in result.problems] == [
        (11, "type", "metadata 'phonenumber'"),
        (12, "type", "metadata 'end' is recorded by FieldApp itself (time, device, user)")]
    assert d["choice_lists"]["fieldapp_ok"] == [{"value": "OK",
                                                 "label": {"zh": "确认", "en": "OK"}}]
    good = {"phone": "02584001234", "share": 30, "told": "OK", "faults": ["steel"],
            "shut_at": "2026-11-24 09:30"}
    assert check(d, good) == []
    assert check(d, {**good, "phone": "025-8400", "share": 50, "shut_at": "09:30"}) == [
        ("phone", "constraint"), ("share", "constraint"), ("shut_at", "expected_datetime")]
    assert check(d, {**good, "share": 101}) == [("share", "constraint")]
    assert check(d, {**good, "told": "yes"}) == [("told", "invalid_choice")]
    assert import_xlsform(export_xlsform(d)).definition == d  # and back from Excel


def test_a_line_and_an_area_are_walked_point_by_point() -> None:
    """geotrace and geoshape: ODK's default text ("lat lon alt acc; …") read as points,
    held to 2 and 3 distinct points, and measured by distance() and area()."""
    result = import_xlsform(xlsx(
        [["type", "name", "label::Chinese (zh)", "default", "constraint"],
         ["geotrace", "route", "管线走向", "32.05 118.78 10 5; 32.06 118.78 10 5", None],
         ["geoshape", "dig", "开挖范围", None, "area(.) <= 400"],
         ["geopoint", "valve", "阀门", "32.05 118.78", None],
         ["geotrace", "bad", "坏的", "north of the river", None]]))
    assert [(p.row, p.column) for p in result.problems] == [(5, "default")]
    d = result.definition
    assert d["items"][0]["default"] == [
        {"lat": 32.05, "lon": 118.78, "altitude": 10.0, "accuracy": 5.0},
        {"lat": 32.06, "lon": 118.78, "altitude": 10.0, "accuracy": 5.0}]
    assert d["items"][2]["default"] == {"lat": 32.05, "lon": 118.78}
    square = [{"lat": 32.0, "lon": 118.78}, {"lat": 32.0002, "lon": 118.78},
              {"lat": 32.0002, "lon": 118.78024}, {"lat": 32.0, "lon": 118.78024}]
    good = {"route": d["items"][0]["default"], "dig": square[:3], "valve": d["items"][2]["default"]}
    assert check(d, good) == []  # half of a 22 m square: about 250 m²
    assert check(d, {**good, "dig": square}) == [("dig", "constraint")]  # about 500 m²
    assert check(d, {**good, "route": good["route"][:1]}) == [("route", "too_few_points")]

"""A FieldApp form written as an XLSForm: pyxform accepts it, and importing it gives back the
same definition, so a utility's designer edits its standard forms in Excel."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from fieldapp.forms.loader import FormDefinitionError
from fieldapp.forms.xlsform import import_xlsform
from fieldapp.forms.xlsform_export import export_xlsform
from tests.forms.test_xlsform_import import xlsx

FORMS = sorted((Path(__file__).resolve().parents[2] / "resources" / "forms").glob("*.json"))

# Every FieldApp type and the properties ODK has no word for, in three languages.
EVERYTHING: dict[str, Any] = {
    "code": "everything", "version": 4,
    "title": {"zh": "全部题型", "en": "Every type", "fr": "Tous les types"},
    "description": {"zh": "导出往返测试", "en": "Round trip"}, "default_language": "fr",
    "hazard_levels": {"minor": {"zh": "轻微", "en": "Minor", "deadline_days": 60},
                      "urgent": {"zh": "紧急", "en": "Urgent", "deadline_days": 2}},
    "answers": {"pass": {"zh": "正常", "en": "OK"}, "fail": {"zh": "异常", "en": "Faulty"},
                "na": {"zh": "无此项", "en": "None"}},
    "choice_lists": {
        "agree": [{"value": "yes", "label": {"zh": "同意", "en": "Agree"}},
                  {"value": "no", "label": {"zh": "不同意", "en": "Disagree"}}],
        "rooms": [{"value": "kitchen", "label": {"zh": "厨房", "en": "Kitchen"}, "floor": "1"},
                  {"value": "attic", "label": {"zh": "阁楼", "en": "Attic"}, "floor": "2"}],
    },
    "items": [
        {"key": "previous_reading", "type": "hidden", "source": "meter.last_reading"},
        {"key": "reading", "type": "meter_reading", "unit": "m³", "required": True,
         "previous": "${previous_reading}", "default": 0,
         "constraint": ". >= coalesce(${previous_reading}, 0)",
         "constraint_message": {"zh": "读数不能变小", "en": "Cannot go down",
                                "fr": "Ne peut pas baisser"},
         "label": {"zh": "本次读数", "en": "Reading", "fr": "Relevé"}},
        {"key": "floor", "type": "integer", "unit": "层", "default": 1,
         "label": {"zh": "楼层", "en": "Floor"}, "hint": {"zh": "地下室填 0", "en": "0 if below"}},
        {"key": "consent", "type": "select_one", "choices": "agree", "required": False,
         "label": {"zh": "是否同意入户", "en": "Consent"}},
        {"key": "notice", "type": "yes_no", "default": "no",
         "label": {"zh": "已告知", "en": "Told"}},
        {"key": "rooms", "type": "select_multiple", "choices": "rooms", "default": ["kitchen"],
         "choice_filter": "floor = ${floor} or ${floor} = 0",
         "label": {"zh": "检查的房间", "en": "Rooms"}},
        {"key": "appliances", "type": "repeat", "min_repeat": 1, "max_repeat": 5,
         "relevant": "${consent} = 'yes'", "repeat_count": "${floor} + 1",
         "label": {"zh": "燃气具", "en": "Appliances"},
         "items": [
             {"key": "flue", "type": "pass_fail_na", "required": True,
              "hazard_level_on_fail": "urgent", "photo_required_on_fail": True,
              "note_required_on_fail": True, "label": {"zh": "烟道", "en": "Flue"}},
             {"key": "hose", "type": "pass_fail_na", "hazard_level_on_fail": "minor",
              "note_required_on_fail": True, "label": {"zh": "软管", "en": "Hose"}},
             {"key": "shots", "type": "photo", "min_count": 2, "max_count": 6,
              "required": "${flue} = 'fail'", "label": {"zh": "照片", "en": "Photos"}},
             {"key": "hiss", "type": "audio", "max_count": 2,
              "label": {"zh": "漏气声", "en": "Hiss"}},
             {"key": "closing", "type": "video", "label": {"zh": "关阀录像", "en": "Closing"}},
         ]},
        {"key": "details", "type": "group", "appearance": "field-list",
         "label": {"zh": "其他", "en": "Other"}, "items": [
             {"key": "when", "type": "date", "dynamic_default": "today()",
              "label": {"zh": "日期", "en": "Date"}},
             {"key": "at", "type": "time", "label": {"zh": "时间", "en": "Time"}},
             {"key": "shut_at", "type": "datetime", "label": {"zh": "关阀时间", "en": "Shut at"}},
             {"key": "where", "type": "gps", "label": {"zh": "位置", "en": "Location"}},
             {"key": "route", "type": "geotrace", "label": {"zh": "管线走向", "en": "Route"},
              "default": [{"lat": 32.05, "lon": 118.78, "altitude": 12.0, "accuracy": 3.5},
                          {"lat": 32.06, "lon": 118.78, "altitude": 0.0, "accuracy": 0.0}]},
             {"key": "plot", "type": "geoshape", "label": {"zh": "开挖范围", "en": "Dig"},
              "constraint": "area(.) < 500"},
             {"key": "tag", "type": "barcode", "label": {"zh": "扫码", "en": "Scan"}},
             {"key": "weight", "type": "decimal", "unit": "kg",
              "label": {"zh": "重量", "en": "Weight"}},
             {"key": "remark", "type": "text", "appearance": "multiline",
              "label": {"zh": "备注", "en": "Remark"}},
             {"key": "total", "type": "calculate", "calculation": "${floor} + 1"},
             {"key": "said", "type": "note", "calculation": "${total}",
              "label": {"zh": "合计", "en": "Total"}},
             {"key": "customer_sign", "type": "signature", "appearance": "full",
              "label": {"zh": "用户签名", "en": "Signature"}},
         ]},
    ],
}


def plain(definition: dict[str, Any]) -> dict[str, Any]:
    """A definition as an XLSForm can hold it: an empty choice column is no column."""
    out = copy.deepcopy(definition)
    for entries in out.get("choice_lists", {}).values():
        for entry in entries:
            for key in [k for k, v in entry.items() if v == ""]:
                del entry[key]
    return out


def questions(json_form: dict[str, Any]) -> list[str]:
    found = []
    for child in json_form.get("children", []):
        if child.get("children") and child["name"] != "meta":
            found += [child["name"], *questions(child)]
        elif child["name"] != "meta":
            found.append(child["name"])
    return found


def keys(items: list[dict[str, Any]]) -> list[str]:
    return [k for i in items for k in (i["key"], *keys(i.get("items", [])))]


@pytest.mark.parametrize("path", FORMS, ids=[p.stem for p in FORMS])
def test_every_standard_form_comes_back_from_excel_as_it_was(path: Path) -> None:
    definition = json.loads(path.read_text(encoding="utf-8"))
    result = import_xlsform(export_xlsform(definition))
    assert result.problems == ()
    assert result.definition == plain(definition)


def test_every_type_and_fieldapps_own_properties_come_back() -> None:
    result = import_xlsform(export_xlsform(EVERYTHING))
    assert result.problems == ()
    assert result.definition == EVERYTHING
    # kept a select over a yes/no list, not turned into FieldApp's yes/no item
    assert result.definition["items"][3]["type"] == "select_one"


def test_pyxform_reads_the_export_as_an_ordinary_xlsform() -> None:
    from pyxform.xls2json import workbook_to_json  # type: ignore[import-untyped]
    from pyxform.xls2json_backends import get_xlsform  # type: ignore[import-untyped]

    data = export_xlsform(EVERYTHING)
    warnings: list[str] = []
    tree = workbook_to_json(get_xlsform(io.BytesIO(data), file_type=".xlsx"),
                            form_name="data", default_language="default", warnings=warnings)
    assert tree["id_string"] == "everything" and tree["version"] == "4"
    found = questions(tree)
    found.remove("appliances_count")  # pyxform's own calculation for a repeat_count
    assert found == keys(EVERYTHING["items"])
    assert tree["title"]["Chinese (zh)"] == "全部题型"
    assert set(tree["title"]) == {"Chinese (zh)", "English (en)", "Français (fr)"}


def test_a_designer_edits_labels_and_rules_in_excel() -> None:
    """Open the export, change a label, a rule and a choice, save: the import has exactly
    those changes."""
    book = load_workbook(io.BytesIO(export_xlsform(EVERYTHING)))
    survey = book["survey"]
    header = [c.value for c in survey[1]]
    assert header[:2] == ["type", "name"] and "label::Chinese (zh)" in header
    rows = {r[header.index("name")].value: r for r in survey.iter_rows(min_row=2)}
    rows["floor"][header.index("label::Chinese (zh)")].value = "所在楼层"
    rows["appliances"][header.index("relevant")].value = "${consent} = 'yes' and ${floor} > 0"
    choices = book["choices"]
    added = {"list_name": "rooms", "name": "basement", "label::Chinese (zh)": "地下室",
             "label::English (en)": "Basement", "floor": "0"}
    choices.append([added.get(c.value) for c in choices[1]])
    out = io.BytesIO()
    book.save(out)
    result = import_xlsform(out.getvalue())
    assert result.problems == ()
    expected = copy.deepcopy(EVERYTHING)
    expected["items"][2]["label"]["zh"] = "所在楼层"
    expected["items"][6]["relevant"] = "${consent} = 'yes' and ${floor} > 0"
    basement = {"value": "basement", "label": {"zh": "地下室", "en": "Basement"}, "floor": "0"}
    expected["choice_lists"]["rooms"].append(basement)
    assert result.definition == expected


def test_fieldapps_columns_written_wrong_are_said_and_ignored() -> None:
    result = import_xlsform(xlsx(
        [["type", "name", "label", "fieldapp_type", "min_count", "unit", "source",
          "photo_required_on_fail"],
         ["text", "shop", "Shop", "meter_reading"],
         ["image", "shots", "Photos", "photo", "many"],
         ["date", "when", "When", None, None, "m³", "meter.barcode"]]))
    shop, shots, when = result.definition["items"]
    assert shop["type"] == "text" and shots == {"key": "shots", "type": "photo",
                                                 "label": {"en": "Photos"}}
    assert "unit" not in when and "source" not in when
    assert [(p.row, p.column) for p in result.problems] == [
        (2, "fieldapp_type"), (3, "min_count"), (4, "unit"), (4, "source")]
    assert "does not fit" in result.problems[0].message
    assert "'many' is not a whole number" in result.problems[1].message


def test_hazard_levels_without_days_are_named() -> None:
    result = import_xlsform(xlsx(
        [["type", "name", "label", "hazard_level"],
         ["select_one fieldapp_pass_fail_na", "flue", "Flue", "minor"]],
        [["list_name", "name", "label", "deadline_days"],
         ["fieldapp_pass_fail_na", "pass", "Pass"], ["fieldapp_pass_fail_na", "fail", "Fail"],
         ["fieldapp_pass_fail_na", "na", "N/A"],
         ["fieldapp_hazard_levels", "minor", "Minor", "soon"],
         ["fieldapp_hazard_levels", "major", "Major", 3]]))
    assert result.definition["hazard_levels"] == {"major": {"en": "Major", "deadline_days": 3}}
    assert "choice_lists" not in result.definition  # FieldApp's own lists are not choices
    said = [(p.sheet, p.column, p.message) for p in result.problems]
    assert ("choices", "deadline_days", "hazard level 'minor' needs deadline_days, a whole"
            " number of days") in said
    assert ("survey", "hazard_level", "unknown hazard level 'minor'") in said


def test_a_form_that_cannot_be_written_is_refused() -> None:
    with pytest.raises(FormDefinitionError):
        export_xlsform({"code": "x", "version": 1, "title": {"zh": "x"}, "items": []})
    clash = copy.deepcopy(EVERYTHING)
    clash["choice_lists"]["fieldapp_yes_no"] = clash["choice_lists"].pop("agree")
    clash["items"][3]["choices"] = "fieldapp_yes_no"
    with pytest.raises(ValueError, match="FieldApp's own"):
        export_xlsform(clash)

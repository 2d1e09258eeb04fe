"""Form definitions: the JSON format and the loaded form (questions, choices, hazard levels).

A definition lives in ``resources/forms/<code>.v<version>.json`` (and, once synced, in the
``form_definitions`` table). A started submission keeps its version, so a definition is never
edited after release: a change is a new version.

    {"code": "meter_reading", "version": 1, "title": {"zh": "抄表", "en": "Meter reading"},
     "hazard_levels": {"general": {"zh": "一般隐患", "en": "General", "deadline_days": 30}},
     "choice_lists": {"reasons": [{"value": "away", "label": {"zh": "外出", "en": "Away"}}]},
     "items": [{"key": "reading", "type": "meter_reading", "label": {…}, "required": true,
                "previous": "${previous_reading}", "constraint": ". >= ${previous_reading}",
                "constraint_message": {"zh": "…", "en": "…"}}, …]}

Keys are unique in the whole form (as ODK names are), so ``${key}`` needs no path; groups
only arrange questions, repeats hold one answer dict per instance. :mod:`fieldapp.forms.loader`
checks and compiles a definition into the dataclasses here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fieldapp.forms.expr import Expression

QUESTION_TYPES = frozenset({
    "text", "integer", "decimal", "select_one", "select_multiple", "yes_no", "pass_fail_na",
    "date", "time", "datetime", "photo", "audio", "video", "signature", "barcode", "gps",
    "geotrace", "geoshape", "meter_reading", "note",
    "group", "repeat", "calculate", "hidden",
})
_COMMON = {"key", "type", "label", "hint", "relevant", "appearance"}
# dynamic_default: an expression the tablet evaluates once, when the form starts (ODK's
# dynamic default, e.g. today() or ${username}); the technician may change what it gives.
_VALUED = _COMMON | {"required", "constraint", "constraint_message", "default",
                     "dynamic_default"}
PROPERTIES: dict[str, set[str]] = {
    **dict.fromkeys(("barcode", "yes_no", "signature", "gps", "geotrace", "geoshape"), _VALUED),
    "text": _VALUED | {"calculation"},
    "integer": _VALUED | {"calculation", "unit"},
    "decimal": _VALUED | {"calculation", "unit"},
    "date": _VALUED | {"calculation"},
    "time": _VALUED | {"calculation"},
    "datetime": _VALUED | {"calculation"},
    "select_one": _VALUED | {"choices", "choice_filter"},
    "select_multiple": _VALUED | {"choices", "choice_filter"},
    "pass_fail_na": _VALUED | {"hazard_level_on_fail", "photo_required_on_fail",
                               "note_required_on_fail"},
    **dict.fromkeys(("photo", "audio", "video"), _COMMON | {"required", "min_count",
                                                           "max_count"}),
    "meter_reading": _VALUED | {"previous", "unit"},
    "note": _COMMON | {"calculation"},
    "calculate": {"key", "type", "label", "calculation", "relevant"},
    "hidden": {"key", "type", "label", "required", "source"},
    "group": _COMMON | {"items"},
    "repeat": _COMMON | {"items", "min_repeat", "max_repeat", "repeat_count"},
}
UNLABELLED = {"calculate", "hidden"}
# ODK's metadata questions (an XLSForm's start, deviceid…) are hidden answers with the source
# "odk.<type>": the tablet fills these when the form starts, and has no value for the
# others, as ODK Collect has none on current phones. (``end`` is the submission's own
# submitted_at: an answer written at submission would void the customer's signature.)
FILLED_METADATA = ("start", "today", "deviceid", "username")
EMPTY_METADATA = ("phonenumber", "simserial", "subscriberid", "imei", "email")
METADATA_SOURCE = "odk."
# Questions answered by files captured on the tablet, counted per question (min/max_count).
ATTACHED_TYPES = frozenset({"photo", "audio", "video"})
DEFAULT_MAX_PHOTOS = 10  # a generous cap; a definition sets its own


@dataclass(frozen=True)
class Choice:
    value: str
    label: dict[str, str]
    attrs: dict[str, Any] = field(default_factory=dict)  # extra columns, for choice filters


@dataclass(frozen=True)
class HazardLevel:
    name: str
    label: dict[str, str]
    deadline_days: int


@dataclass(frozen=True, eq=False)
class Question:
    key: str
    type: str
    raw: dict[str, Any]
    label: dict[str, str]
    parent: str | None  # enclosing group or repeat
    repeats: tuple[str, ...]  # enclosing repeats, outermost first
    children: tuple[Question, ...] = ()
    required: bool | Expression = False
    relevant: Expression | None = None
    constraint: Expression | None = None
    calculation: Expression | None = None
    choice_filter: Expression | None = None
    previous: Expression | None = None
    hazard_level_on_fail: str | Expression | None = None
    choices: tuple[Choice, ...] = ()
    default: Any = None
    min_count: int = 0
    max_count: int = DEFAULT_MAX_PHOTOS
    min_repeat: int = 0
    max_repeat: int | None = None
    repeat_count: Expression | None = None  # ODK's: exactly this many instances
    dynamic_default: Expression | None = None  # evaluated once, when the form starts

    @property
    def choice_values(self) -> tuple[str, ...]:
        return tuple(c.value for c in self.choices)

    @property
    def has_value(self) -> bool:
        return self.type not in ("group", "note")

    def flag(self, name: str) -> bool:
        return bool(self.raw.get(name))


@dataclass(frozen=True, eq=False)
class FormDefinition:
    code: str
    version: int
    title: dict[str, str]
    raw: dict[str, Any]
    questions: tuple[Question, ...]  # top level, in order
    by_key: dict[str, Question]  # every question, in document order
    hazard_levels: dict[str, HazardLevel]

    @property
    def name(self) -> str:
        return f"{self.code}.v{self.version}"

    def question(self, key: str) -> Question | None:
        return self.by_key.get(key)


def shown_text(texts: Mapping[str, str] | None, lang: str, default: str | None = None) -> str:
    """A label in the tablet's language, else the form's default language (its settings
    sheet's), else Chinese, else English, else the first the form's author wrote (a form
    written only in French still shows its questions)."""
    texts = texts or {}
    return texts.get(lang) or (texts.get(default) if default else None) or texts.get("zh") \
        or texts.get("en") or next((t for t in texts.values() if t), "")

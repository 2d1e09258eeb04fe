"""pyxform's names for question types and what FieldApp keeps each as: the plain types, their
aliases (pyxform's question type dictionary), the types with a rule of their own, the
metadata types, and how a type cell is read (``type_kind``)."""

from __future__ import annotations

SIMPLE_TYPES = {"text": "text", "string": "text", "integer": "integer", "int": "integer",
                "decimal": "decimal", "date": "date", "time": "time", "note": "note",
                "calculate": "calculate", "hidden": "hidden", "barcode": "barcode",
                "geopoint": "gps", "image": "photo", "datetime": "datetime",
                "geotrace": "geotrace", "geoshape": "geoshape"}
# pyxform's other names for the types FieldApp keeps (its question type dictionary).
TYPE_ALIASES = {
    **dict.fromkeys(("photo", "q picture", "q image", "add image prompt"), "image"),
    **dict.fromkeys(("location", "gps", "q geopoint", "q location", "add location prompt"),
                    "geopoint"),
    **dict.fromkeys(("datetime", "date time", "q date time", "q datetime",
                     "add date time prompt", "add datetime prompt"), "datetime"),
    **dict.fromkeys(("q string", "add text prompt"), "text"),
    **dict.fromkeys(("q int", "add integer prompt"), "integer"),
    **dict.fromkeys(("q decimal", "add decimal prompt"), "decimal"),
    **dict.fromkeys(("q date", "add date prompt"), "date"),
    **dict.fromkeys(("q note", "add note prompt"), "note"),
    **dict.fromkeys(("q calculate", "add calculate prompt"), "calculate"),
    **dict.fromkeys(("q barcode", "add barcode prompt"), "barcode"),
    **dict.fromkeys(("q audio", "add audio prompt"), "audio"),
    **dict.fromkeys(("q video", "add video prompt"), "video"),
    **dict.fromkeys(("trigger", "q acknowledge", "add acknowledge prompt"), "acknowledge"),
    **dict.fromkeys(("start time", "get start time"), "start"),
    **dict.fromkeys(("end time", "get end time"), "end"),
    **dict.fromkeys(("get today",), "today"),
    **dict.fromkeys(("device id", "get device id", "uri:deviceid"), "deviceid"),
    **dict.fromkeys(("subscriber id", "get subscriber id", "uri:subscriberid"),
                    "subscriberid"),
    **dict.fromkeys(("sim id", "get sim id", "uri:simserial"), "simserial"),
    **dict.fromkeys(("get phone number", "uri:phonenumber"), "phonenumber"),
    **dict.fromkeys(("uri:username",), "username"),
    **dict.fromkeys(("uri:email",), "email"),
}
# Types pyxform gives a rule of their own: kept as the plain type with that rule.
RULED_TYPES = {
    "phone number": ("text", "regex(., '^\\d*$')"),
    "percentage": ("integer", "0 <= . and . <= 100"),
    "number of days in last month": ("integer", "0 <= . and . <= 31"),
    "number of days in last six months": ("integer", "0 <= . and . <= 186"),
    "number of days in last year": ("integer", "0 <= . and . <= 366"),
}
METADATA_TYPES = {"start", "end", "today", "deviceid", "username", "phonenumber", "simserial",
                  "subscriberid", "email", "audit", "start-geopoint", "imei"}


# How forms write a select (pyxform's aliases), longest first: "select one from LIST" too.
SELECTS = sorted([("select one from", "select one"), ("select_one", "select one"),
                   ("select one", "select one"), ("select1", "select one"),
                   ("select multiple from", "select multiple"),
                   ("select_multiple", "select multiple"),
                   ("select multiple", "select multiple"),
                   ("select all that apply from", "select multiple"),
                   ("select all that apply", "select multiple")],
                  key=lambda a: -len(a[0]))


def type_kind(type_text: str) -> str:
    """``begin_group``/``begin group`` → "begin group"; ``select_one my_list`` and
    ``select one from my_list`` → "select one my_list"."""
    words = type_text.split()
    if not words:
        return ""
    lowered = " ".join(words).lower()
    for alias, select in SELECTS:
        if lowered.startswith(alias + " "):
            return " ".join([select, *" ".join(words)[len(alias) + 1:].split()])
    head = words[0].lower().replace("_", " ")
    if head in ("begin", "end", "select") and len(words) > 1:
        head, words = f"{head} {words[1].lower()}", words[1:]
    kind = " ".join([head, *words[1:]])
    return TYPE_ALIASES.get(kind.lower(), kind)

"""The definition files: reading ``<code>.v<version>.json`` and the forms shipped in
``resources/forms/``."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from fieldapp.forms.definition import FormDefinition
from fieldapp.forms.loader import FormDefinitionError, load_definition
from fieldapp.resources import resource

FORMS_DIR = resource("forms")
FILE_NAME = re.compile(r"(?P<code>[a-z][a-z0-9_]*)\.v(?P<version>[1-9][0-9]*)\.json")


def load_file(path: Path | str) -> FormDefinition:
    """Load ``<code>.v<version>.json``; the name must match the code and version inside."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise FormDefinitionError(path.name, None, f"not valid JSON: {exc}") from exc
    definition = load_definition(data)
    m = FILE_NAME.fullmatch(path.name)
    if m is None or (m["code"], int(m["version"])) != (definition.code, definition.version):
        raise FormDefinitionError(path.name, None, f"file name should be {definition.name}.json")
    return definition


@cache
def bundled() -> dict[tuple[str, int], FormDefinition]:
    """The definitions shipped in ``resources/forms/``, keyed by (code, version)."""
    return {(d.code, d.version): d
            for d in (load_file(p) for p in sorted(FORMS_DIR.glob("*.json")))}

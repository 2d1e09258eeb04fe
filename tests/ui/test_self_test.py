"""--self-test: every check passes on a sound installation, and a missing part is named
(the packaged build runs the same checks in `make package-check`)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from fieldapp.forms import form_files
from fieldapp.ui import self_test

CHECKS = ("font", "database", "window", "forms", "barcode", "camera", "pdf", "map", "positioning")


def test_a_sound_installation_passes_every_check(qapp: QApplication) -> None:
    out = io.StringIO()
    assert self_test.run(out) == 0
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0].split()[-1] for line in lines[:-1]] == list(CHECKS)
    assert all(line.startswith("ok ") for line in lines[:-1]) and lines[-1] == "self-test passed"
    assert "CODE128" in lines[CHECKS.index("barcode")]


def test_a_missing_part_is_named_and_fails_the_run(qapp: QApplication, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(form_files, "FORMS_DIR", tmp_path)  # a build that lost its forms
    out = io.StringIO()
    assert self_test.run(out) == 1
    text = out.getvalue()
    assert "FAIL forms" in text and "no forms in" in text and text.endswith("1 failed\n")
    assert "ok   window" in text  # the other checks still ran

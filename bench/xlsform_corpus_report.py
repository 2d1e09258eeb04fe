"""Real XLSForms through FieldApp's importer: how many import whole, with losses, or are
refused, what share of pyxform's questions FieldApp keeps, and what the rest are.

Run by hand: ``PYTHONPATH=. .venv/bin/python bench/xlsform_corpus_report.py [FOLDER ...]``
(tests/forms/corpus/, pyxform's own example forms, by default; any folder of .xlsx/.xls
forms, e.g. a field team's published forms). Baseline in the same run: pyxform's own
XLSForm → JSON step on the same files, which the import includes, and the ratio.
"""

from __future__ import annotations

import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.forms.xlsform_corpus import CORPUS, account, corpus, pyxform_questions  # noqa: E402


def _reason(message: str) -> str:
    """A problem's kind, without the names and expressions in it."""
    message = re.sub(r"'[^']*'|\"[^\"]*\"|\$\{[^}]*\}|\S+\.csv", "…", message)
    return message.split(";")[0][:70]


def report(folder: Path) -> None:
    forms = corpus(folder)
    accounts, took, floor = [], 0.0, 0.0
    for path in forms:
        start = time.perf_counter()
        accounts.append(account(path))
        took += time.perf_counter() - start
        if accounts[-1].refused is None:
            start = time.perf_counter()
            pyxform_questions(path)
            floor += time.perf_counter() - start
    whole = sum(1 for a in accounts if a.refused is None and a.lost == 0)
    lossy = sum(1 for a in accounts if a.refused is None and a.lost)
    refused = [a for a in accounts if a.refused is not None]
    questions = sum(len(a.questions) for a in accounts)
    kept = sum(len(a.kept) for a in accounts)
    unnamed = sum(len(a.unnamed) for a in accounts)
    print(f"{folder}: {len(forms)} forms")
    print(f"  imported whole: {whole}, with questions left out: {lossy}, refused: {len(refused)}")
    for a in refused:
        print(f"    refused {a.form}: {a.refused[:100]}")
    if questions:
        print(f"  questions kept: {kept:,} of {questions:,} ({100 * kept / questions:.1f}%),"
              f" left out and named: {questions - kept - unnamed:,}, left out unnamed: {unnamed}")
    # Why each was left out (a question can also carry remarks on what it kept).
    why = Counter(_reason(next((m for m in words if "left out" in m), words[0]))
                  for a in accounts for words in a.named.values())
    for reason, count in why.most_common(12):
        print(f"    {count:4}  {reason}")
    # The account reads each form three times (import, pyxform, the sheet), the floor once.
    print(f"  account of every form: {took:.2f} s; pyxform's XLSForm → JSON alone:"
          f" {floor:.2f} s; ratio {took / floor if floor else 0:.1f}x")


def main() -> None:
    for folder in [Path(a) for a in sys.argv[1:]] or [CORPUS]:
        report(folder)


if __name__ == "__main__":
    main()

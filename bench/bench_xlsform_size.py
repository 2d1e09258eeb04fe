"""XLSForm import time against the sheet's declared size: the same 40-question form saved
with its survey sheet declared as 100 to 1,000,000 rows by 300 columns (a cell once touched, as
real forms are), imported as the office imports it (``import_xlsform``: pyxform reads and
checks the workbook, FieldApp translates it).

Run by hand: ``PYTHONPATH=. .venv/bin/python bench/bench_xlsform_size.py``. Baselines in the
same run: pyxform's own XLSForm → JSON step alone on the same file (the floor: the import is
that plus the translation), and the previous design's read (openpyxl's rows to the declared
size, which FieldApp read before pyxform did), with the ratios.
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from openpyxl import Workbook, load_workbook  # noqa: E402
from pyxform.xls2json import workbook_to_json  # type: ignore[import-untyped]  # noqa: E402
from pyxform.xls2json_backends import get_xlsform  # type: ignore[import-untyped]  # noqa: E402

from fieldapp.forms.xlsform import import_xlsform  # noqa: E402

SIZES = (100, 10_000, 100_000, 1_000_000)


def form(declared_rows: int) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    sheet.append(["type", "name", "label::Chinese (zh)", "required", "relevant"])
    for i in range(40):
        kind = ("text", "integer", "decimal", "date")[i % 4]
        sheet.append([kind, f"q{i}", f"问题 {i}", "yes" if i % 3 == 0 else None,
                      f"${{q{i - 1}}} != ''" if i % 5 == 4 else None])
    # Touched far down and far right, as real forms are: declares the size.
    sheet.cell(row=2, column=300).value = ""
    sheet.cell(row=declared_rows, column=1).value = ""
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def timed(step, data: bytes) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    step(data)
    return time.perf_counter() - start


def pyxform_only(data: bytes) -> None:
    workbook_to_json(get_xlsform(io.BytesIO(data), file_type=".xlsx"), form_name="data",
                     default_language="default", warnings=[])


def declared_read(data: bytes) -> None:
    """The previous reader: every row openpyxl yields, each made a record of its header."""
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        header = [str(h or "").lower() for h in rows[0]]
        for row in rows[1:]:
            record = {h: row[i] for i, h in enumerate(header) if h and i < len(row)}
            any(str(v or "").strip() for v in record.values())
    book.close()


def main() -> None:
    print("XLSForm import, 40 questions, survey sheet declared as N rows")
    print(f"  {'declared rows':>13}  {'import':>9}  {'pyxform alone':>13}  {'ratio':>6}"
          f"  {'read to declared size':>21}  {'ratio':>7}")
    for size in SIZES:
        data = form(size)
        kept = len(import_xlsform(data).definition["items"])
        assert kept == 40, kept
        ours = min(timed(import_xlsform, data) for _ in range(3))
        floor = min(timed(pyxform_only, data) for _ in range(3))
        old = timed(declared_read, data)
        print(f"  {size:>13,}  {ours * 1000:7.1f} ms  {floor * 1000:10.1f} ms  {ours / floor:5.2f}x"
              f"  {old * 1000:18.1f} ms  {old / ours:6.0f}x")


if __name__ == "__main__":
    main()

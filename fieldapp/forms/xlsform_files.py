"""CSV files attached to an XLSForm, as ODK forms carry them: the tables ``pulldata()`` reads
and the choices of ``select_one_from_file``. They travel inside the form's definition (its
``data`` and ``choice_lists``), so a tablet that has the form has its files, offline.

    tables = read_files({"prices.csv": b"id,price\\ngulou,3.05\\n"})
    tables["prices.csv"]   # [{"id": "gulou", "price": "3.05"}]
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping

from fieldapp.forms.xlsform_sheets import XLSFormError

MAX_ROWS = 100_000  # a price list or a street register; beyond that a form is the wrong place
# pulldata('prices', …) as a form writes it: the table it names (its file is prices.csv).
PULLED = re.compile(r"""pulldata\(\s*['"]([^'"]+)['"]""")


def _decoded(name: str, data: bytes) -> str:
    """UTF-8 (with or without its mark), else GBK, as Chinese spreadsheets save CSV."""
    for encoding in ("utf-8-sig", "gbk"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise XLSFormError(f"{name}: not UTF-8 or GBK text; save it as CSV UTF-8")


def read_csv(name: str, data: bytes) -> list[dict[str, str]]:
    """The file's rows by its header; a file without a header, with a header named twice or
    with more rows than a form should carry is refused, naming the file."""
    reader = csv.reader(io.StringIO(_decoded(name, data)))
    header = [h.strip() for h in next(reader, [])]
    if not any(header):
        raise XLSFormError(f"{name}: the first row must name the columns")
    named = [h for h in header if h]
    if len(set(named)) != len(named):
        twice = sorted({h for h in named if named.count(h) > 1})
        raise XLSFormError(f"{name}: column {twice[0]!r} is named twice")
    rows: list[dict[str, str]] = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if len(rows) == MAX_ROWS:
            raise XLSFormError(f"{name}: more than {MAX_ROWS:,} rows")
        rows.append({h: (cells[i].strip() if i < len(cells) else "")
                     for i, h in enumerate(header) if h})
    if not rows:
        raise XLSFormError(f"{name}: no rows under its header")
    return rows


def read_files(files: Mapping[str, bytes]) -> dict[str, list[dict[str, str]]]:
    """Every attached CSV's rows by its file name (other kinds of file are refused: ODK's
    .xml and .geojson choice files are not read)."""
    tables = {}
    for name, data in files.items():
        if not name.lower().endswith(".csv"):
            raise XLSFormError(f"{name}: only CSV files are read with a form")
        tables[name] = read_csv(name, data)
    return tables

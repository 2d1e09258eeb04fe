"""A billing system's export read as a header and numbered rows: CSV in UTF-8 or GBK (as
Chinese billing systems write it), or the first sheet of an Excel workbook (.xlsx).

Row numbers are the ones the operator sees in the file (the header is row 1), so every
problem can be pointed at. A sheet whose formatting reaches a million blank rows is read to
its last row with data, not to its declared size.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

MAX_FILE_BYTES = 200 * 1024 * 1024
# Stop reading a sheet after this many blank rows in a row: what follows is formatting.
BLANK_RUN_END = 1000


class FileRefused(Exception):
    """The file as a whole cannot be read; said in the operator's words."""


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (row number in the file, cells as text)


def read_table(path: Path, data: bytes | None = None) -> Table:
    """The file at ``path`` (or its ``data``, named by ``path``), header first."""
    size = len(data) if data is not None else path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise FileRefused(f"文件太大（{size // (1024 * 1024)} MB），一次最多 200 MB："
                          "请分成几个文件")
    if size == 0:
        raise FileRefused("文件是空的")
    raw = data if data is not None else path.read_bytes()
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        cells = _xlsx_rows(raw)
    elif suffix in (".csv", ".txt", ""):
        cells = _csv_rows(raw)
    else:
        raise FileRefused(f"不认识的文件类型 {suffix}：请用 CSV（UTF-8 或 GBK）或 Excel .xlsx")
    return _with_header(cells)


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRefused("文件编码无法识别：请另存为 UTF-8 或 GBK 编码的 CSV")


def _csv_rows(raw: bytes) -> Iterator[tuple[int, list[str]]]:
    text = _decode(raw)
    if "\x00" in text:
        raise FileRefused("这不是文本格式的 CSV 文件（含二进制内容）；Excel 文件请用 .xlsx")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192],
                                                                       delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    for number, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
        yield number, [cell.strip() for cell in row]


def _xlsx_rows(raw: bytes) -> Iterator[tuple[int, list[str]]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FileRefused(f"这个 Excel 文件打不开（{exc.__class__.__name__}）："
                          "请另存为 .xlsx 再试") from exc
    try:
        sheet = book.worksheets[0]
        blank_run = 0
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            if not any(cells):
                blank_run += 1
                if blank_run >= BLANK_RUN_END:
                    return
                continue
            blank_run = 0
            yield number, cells
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() \
            else value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps every number as a float: 3.0 is 3
    return str(value).strip()


def _with_header(cells: Iterator[tuple[int, list[str]]]) -> Table:
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for number, row in cells:
        if header is None:
            if not any(row):
                continue
            header = [h.strip() for h in row]
            while header and not header[-1]:
                header.pop()
            seen: set[str] = set()
            for name in header:
                if name and name in seen:
                    raise FileRefused(f"表头第 {number} 行有两列都叫「{name}」：请改名后再导入")
                seen.add(name)
            continue
        if any(row):
            rows.append((number, row + [""] * (len(header) - len(row))))
    if header is None:
        raise FileRefused("文件里没有表头（第一行应是列名，如 户号、户名、地址）")
    if not rows:
        raise FileRefused("文件只有表头，没有数据行")
    return Table(header, rows)

"""The repair report (维修工单报告) as an A4 PDF, from a ``repair_report`` submission.

    pdf_bytes = render(from_replica(replica, repair_submission_id))

Same data and same verification as the inspection report (the loaders fill an
:class:`InspectionReport` from any form); laid out for a repair: what was found and done,
the parts used with their quantities, before/after photos, a hazard table only when the
leak re-test failed, the customer's rating and signature.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Table

from fieldapp.forms.loader import as_definition
from fieldapp.reports import document_kinds
from fieldapp.reports.lines import AnswerLine
from fieldapp.reports.pdf_common import FRAME_WIDTH, grid_style, heading, para
from fieldapp.reports.report_data import InspectionReport
from fieldapp.reports.sections import (
    Roles,
    answers_section,
    hazard_section,
    header,
    history_section,
    photo_section,
    render_document,
    signature_section,
)

KIND = document_kinds.REPAIR
PARTS = "parts"  # the repeat of parts used, in the repair form
_INSTANCE = re.compile(rf"{PARTS}\[(\d+)\]\.(\w+)")
ROLES = Roles(technician="维修工", visit="维修时间")


def render(report: InspectionReport) -> bytes:
    """The repair report as PDF bytes; the same report gives the same bytes."""
    title = report.form_title
    lines = {line.path: line for line in report.answers}
    rating = lines.get("satisfaction")
    story = [*header(report, title, KIND, roles=ROLES, last=("用户评价", _stars(rating))),
             *answers_section(report, "一、维修记录", _record_lines(report), ("项目", "内容")),
             *_parts(report)]
    if report.hazards:  # only a failed leak re-test: the repair left a hazard behind
        story += hazard_section(report, "遗留安全隐患")
    story += [*photo_section(report.photos, "三、维修前后照片"),
              *signature_section(report.signature, "四、用户签字确认",
                                 f"以上维修情况经用户现场确认。用户评价：{_stars(rating)}"),
              *history_section(report, "五、工单状态记录")]
    return render_document(report, title, story)


def _stars(line: AnswerLine | None) -> str:
    if line is None or not isinstance(line.value, int):
        return "未评价"
    score = max(0, min(5, line.value))
    return f"{'★' * score}{'☆' * (5 - score)} {score} 分"


def _record_lines(report: InspectionReport) -> list[AnswerLine]:
    # Parts have their own table and photos their own section; the rest is the record.
    return [line for line in report.answers
            if not _INSTANCE.match(line.path) and line.type not in ("photo", "signature")]


def _parts(report: InspectionReport) -> Iterator[Flowable]:
    yield from heading("二、领用配件")
    instances: dict[int, dict[str, AnswerLine]] = {}
    for line in report.answers:
        m = _INSTANCE.match(line.path)
        if m:
            instances.setdefault(int(m[1]), {})[m[2]] = line
    if not instances:
        yield para("未使用配件。")
        return
    question = as_definition(report.definition).question("part")
    units = {c.value: c.attrs.get("unit", "") for c in question.choices} if question else {}
    rows: list[list[object]] = [[para(t, "head") for t in ("序号", "配件编号", "名称", "数量")]]
    for n, (_, fields) in enumerate(sorted(instances.items()), 1):
        part, other, quantity = (fields.get(k) for k in ("part", "part_other", "quantity"))
        code = part.value if part and isinstance(part.value, str) else ""
        name = other.text if code == "other" and other else (part.text if part else "")
        amount = f"{quantity.text} {units.get(code, '')}".strip() if quantity else ""
        rows.append([para(str(n), "cell"), para("—" if code == "other" else code, "cell"),
                     para(name, "cell"),
                     para(amount, "cell")])
    table = Table(rows, colWidths=[10 * mm, 35 * mm, FRAME_WIDTH - 75 * mm, 30 * mm],
                  repeatRows=1)
    table.setStyle(grid_style())
    yield table

"""The rectification notice (燃气安全隐患整改通知书) the customer signs, as an A4 PDF.

    if report.hazards:
        pdf_bytes = render(report)

Made from the same :class:`InspectionReport` as the inspection report, so it carries the
same content hash: a printed notice is verified against the inspection it came from. Its QR
code names the notice, so the two documents cannot be passed off as each other.
"""

from __future__ import annotations

from collections.abc import Iterator

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Table

from fieldapp.errors import InvalidInput
from fieldapp.local_time import local_text
from fieldapp.reports import document_kinds
from fieldapp.reports.pdf_common import (
    FRAME_WIDTH,
    grid_style,
    heading,
    para,
    spacer,
)
from fieldapp.reports.report_data import InspectionReport
from fieldapp.reports.sections import hazard_section, header, render_document, signature_section

KIND = document_kinds.NOTICE
TITLE = document_kinds.NOTICE_TITLE
# Standing advice printed on every notice: what to do until the hazard is fixed.
SAFETY_ADVICE = (
    "整改完成前，请保持用气场所通风，用气时不离人，不用时关闭灶前阀；",
    "如闻到燃气异味，请立即关闭表前阀、打开门窗，严禁开关电器、使用明火或拨打手机，"
    "并到室外拨打燃气公司抢修电话；",
    "整改须由具备资质的单位或本公司维修人员进行，请勿自行改装燃气管道及设施；",
    "整改完成后请告知本公司，期满后本公司将按上列期限上门复查。",
)


def render(report: InspectionReport) -> bytes:
    """The notice as PDF bytes; only an inspection that found hazards has one."""
    if not report.hazards:
        raise InvalidInput("no_hazards", f"report {report.report_id} found no hazards",
                           report_id=report.report_id)
    first_due = local_text(min(h.due_at for h in report.hazards))
    story = [*header(report, TITLE, KIND, last=("最早期限", first_due)), *_notice(report),
             *hazard_section(report, "一、隐患内容及整改期限"), *_checks(report),
             *_advice(),
             *signature_section(report.signature, "四、用户签收",
                                "本人已知悉上述安全隐患及整改期限，并收到本通知书。",
                                binding=False),
             *_issuer(report)]
    return render_document(report, TITLE, story)


def _notice(report: InspectionReport) -> Iterator[Flowable]:
    yield spacer(4)
    yield para(f"{report.customer.name} 用户：")
    yield spacer(1)
    yield para(f"我公司安检人员于 {local_text(report.inspected_at)} 对您户（户号 "
               f"{report.customer.account_no}）进行入户燃气安全检查，发现存在以下 "
               f"{len(report.hazards)} 项燃气安全隐患。为保障您和他人的生命财产安全，"
               "请在规定期限内完成整改。", "indented")


def _checks(report: InspectionReport) -> Iterator[Flowable]:
    """One re-inspection per deadline, as the rectification-check jobs are planned."""
    yield from heading("二、复查安排")
    by_due: dict[str, list[str]] = {}
    for h in report.hazards:
        by_due.setdefault(h.due_at, []).append(h.label)
    rows: list[list[object]] = [[para(t, "head") for t in ("复查日期", "复查项目")]]
    for due, labels in by_due.items():
        rows.append([para(local_text(due, "%Y-%m-%d"), "cell"), para("；".join(labels), "cell")])
    table = Table(rows, colWidths=[30 * mm, FRAME_WIDTH - 30 * mm],
                  repeatRows=1)
    table.setStyle(grid_style())
    yield table


def _advice() -> Iterator[Flowable]:
    yield from heading("三、安全提示")
    for n, line in enumerate(SAFETY_ADVICE, 1):
        yield para(f"{n}. {line}")


def _issuer(report: InspectionReport) -> Iterator[Flowable]:
    rows = [[para(f"安检员：{report.inspector_name}"), para(f"签发单位：{report.utility}"),
             para(f"签发时间：{local_text(report.inspected_at)}")]]
    table = Table(rows, colWidths=[50 * mm, 70 * mm, FRAME_WIDTH - 120 * mm])
    table.setStyle(grid_style(header=False, lines=False))
    yield KeepTogether([spacer(2), table])

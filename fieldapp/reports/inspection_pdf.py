"""The household inspection report (居民户内燃气安全检查报告) as an A4 PDF.

    pdf_bytes = render(from_replica(replica, submission_id))

Header with the utility, job and customer and a QR code to verify the printed copy; the
checklist answers (failed items highlighted); hazards with their rectification deadlines;
the watermarked photos; the customer's signature; the job's status history. Every page's
footer carries the report id, the content hash and "page n of N".
"""

from __future__ import annotations

from collections.abc import Iterator

from reportlab.platypus import Flowable

from fieldapp.reports.pdf_common import para, spacer
from fieldapp.reports.report_data import InspectionReport, local_time
from fieldapp.reports.sections import (
    answers_section,
    hazard_section,
    header,
    history_section,
    photo_section,
    render_document,
    signature_section,
)

KIND = "inspection"


def title_of(report: InspectionReport) -> str:
    return f"{report.form_title}报告"


def render(report: InspectionReport) -> bytes:
    """The report as PDF bytes; the same report gives the same bytes."""
    title = title_of(report)
    story = [*header(report, title, KIND), *_summary(report),
             *answers_section(report, "一、检查结果", report.answers),
             *hazard_section(report, "二、安全隐患及整改期限"),
             *photo_section(report.photos, "三、现场照片"),
             *signature_section(report.signature, "四、用户签字确认",
                                "以上检查结果经用户现场确认。"),
             *history_section(report, "五、工单状态记录")]
    return render_document(report, title, story)


def _summary(report: InspectionReport) -> Iterator[Flowable]:
    counts = report.counts()
    text = (f"检查项目共 {sum(counts.values())} 项：合格 {counts['pass']} 项，"
            f"不合格 {counts['fail']} 项，不适用 {counts['na']} 项")
    text += f"，未填 {counts['unanswered']} 项；" if counts["unanswered"] else "；"
    if report.hazards:
        first = min(report.hazards, key=lambda h: h.due_at)
        text += (f"发现安全隐患 {len(report.hazards)} 处，"
                 f"最早须于 {local_time(first.due_at)} 前整改。")
    else:
        text += "未发现安全隐患。"
    yield spacer(2)
    yield para(text)

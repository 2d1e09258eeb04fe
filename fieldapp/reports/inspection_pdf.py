"""The household inspection report (居民户内燃气安全检查报告) as an A4 PDF.

    pdf_bytes = render(from_replica(replica, submission_id))

Header with the utility, job and customer and a QR code to verify the printed copy; the
checklist answers (failed items highlighted); hazards with their rectification deadlines;
the watermarked photos; the customer's signature; the job's status history. A visit that could not
inspect (nobody home, entry refused) says so instead of counting items and hazards. Every page's
footer carries the report id, the content hash and "page n of N".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from reportlab.platypus import Flowable

from fieldapp.local_time import local_text
from fieldapp.reports import document_kinds
from fieldapp.reports.pdf_common import para, spacer
from fieldapp.reports.report_data import InspectionReport
from fieldapp.reports.sections import (
    answers_section,
    hazard_section,
    header,
    history_section,
    photo_section,
    render_document,
    signature_section,
)

KIND = document_kinds.INSPECTION
# The standard forms' visit outcome, and its answers when nobody could be seen.
VISIT_OUTCOME, NOT_ENTERED = "visit_outcome", frozenset({"nobody_home", "refused"})
NUMERALS = "一二三四五六七八九十"


def title_of(report: InspectionReport) -> str:
    return f"{report.form_title}报告"


def render(report: InspectionReport) -> bytes:
    """The report as PDF bytes; the same report gives the same bytes."""
    title = title_of(report)
    entered = _outcome(report) is None
    sections: list[tuple[str, Callable[[str], Iterable[Flowable]]]] = [
        ("检查结果", lambda t: answers_section(report, t, report.answers))]
    if entered:
        sections.append(("安全隐患及整改期限", lambda t: hazard_section(report, t)))
    sections.append(("现场照片", lambda t: photo_section(report.photos, t)))
    if entered or report.signature is not None:
        sections.append(("用户签字确认", lambda t: signature_section(
            report.signature, t, "以上检查结果经用户现场确认。")))
    sections.append(("工单状态记录", lambda t: history_section(report, t)))
    story = [*header(report, title, KIND), *_summary(report)]
    for number, (name, section) in zip(NUMERALS, sections, strict=False):
        story += section(f"{number}、{name}")
    return render_document(report, title, story)


def _outcome(report: InspectionReport) -> str | None:
    """How the visit ended when nobody could be inspected (到访不遇, 拒绝入户): the answer
    to the form's ``visit_outcome`` as printed; None when the household was inspected or
    checked, or the form does not ask (the flat checklist)."""
    line = next((a for a in report.answers if a.path == VISIT_OUTCOME), None)
    return line.text if line is not None and line.value in NOT_ENTERED else None


def _summary(report: InspectionReport) -> Iterator[Flowable]:
    outcome = _outcome(report)
    if outcome is not None:
        yield spacer(2)
        yield para(f"入户情况：{outcome}，未能入户检查，本次未检查燃气设施。")
        return
    counts = report.counts()
    text = (f"检查项目共 {sum(counts.values())} 项：合格 {counts['pass']} 项，"
            f"不合格 {counts['fail']} 项，不适用 {counts['na']} 项")
    text += f"，未填 {counts['unanswered']} 项；" if counts["unanswered"] else "；"
    if report.hazards:
        first = min(report.hazards, key=lambda h: h.due_at)
        text += (f"发现安全隐患 {len(report.hazards)} 处，"
                 f"最早须于 {local_text(first.due_at)} 前整改。")
    else:
        text += "未发现安全隐患。"
    yield spacer(2)
    yield para(text)

"""Sections the documents share: header, answers, hazards, photos, signature, history, footer.

Each returns flowables for a story; the documents (``inspection_pdf``, ``rectification_pdf``,
``repair_pdf``) choose which to use, in which order and under which headings.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial

from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, KeepTogether, Table

from fieldapp.domain.status import STATUS_ZH
from fieldapp.local_time import local_text
from fieldapp.reports.lines import AnswerLine
from fieldapp.reports.pdf_common import (
    FAIL_FILL,
    FAIL_INK,
    FRAME_WIDTH,
    LEVEL_INK,
    RULE,
    SECTION_FILL,
    PdfMeta,
    Placeholder,
    build_pdf,
    draw_footer,
    fitted_image,
    font,
    grid_style,
    heading,
    para,
    qr_code,
    spacer,
    verify_uri,
)
from fieldapp.reports.report_data import InspectionReport, Photo, Signature

QR_SIZE = 30 * mm
PHOTO_BOX = (84 * mm, 60 * mm)
SIGNATURE_BOX = (64 * mm, 24 * mm)
NOT_SIGNED = "未签名"


@dataclass(frozen=True)
class Roles:
    """How a document names the technician and the visit time in its header."""

    technician: str = "安检员"
    visit: str = "检查时间"


def render_document(report: InspectionReport, title: str, story: list[Flowable]) -> bytes:
    """The PDF of one document about a report: its metadata, the story, the page footer."""
    meta = PdfMeta(title=f"{title} {report.job.number}", author=report.utility,
                   subject=f"{report.customer.name} {report.customer.account_no}",
                   issued_at=report.inspected_at)
    return build_pdf(story, meta, footer(report, title))


def footer(report: InspectionReport, title: str) -> partial[None]:
    """Every page: report id, device, content hash, page n of N; a running head from page 2."""
    return partial(draw_footer,
                   left=f"报告编号 {report.report_id}    设备 {report.device_id or '—'}",
                   hash_line=f"内容校验码 SHA-256  {report.content_hash}",
                   running_head=f"{report.utility} · {title} · 工单 {report.job.number}")


def header(report: InspectionReport, title: str, kind: str, *,
           last: tuple[str, str] | None = None, roles: Roles = Roles()) -> Iterator[Flowable]:
    """Utility, title and QR code, then the job and customer in a labelled grid; ``last``
    is the label and value beside the technician (the record's state by default)."""
    cells = [[[para(report.utility, "utility"), para(title, "title")],
              [qr_code(verify_uri(kind, report.report_id, report.content_hash,
                                  report.verify_base), QR_SIZE),
               para("扫码核验", "caption")]]]
    top = Table(cells, colWidths=[FRAME_WIDTH - QR_SIZE - 4 * mm, QR_SIZE + 4 * mm])
    top.setStyle(grid_style(("VALIGN", (0, 0), (0, 0), "BOTTOM"),
                            ("ALIGN", (1, 0), (1, 0), "CENTER"), header=False, lines=False))
    yield top
    yield spacer(2)
    c, technician = report.customer, report.inspector_name
    if report.inspector and technician != report.inspector:
        technician = f"{technician}（{report.inspector}）"
    last = last or ("记录状态", "已提交" if report.state == "submitted" else "草稿（未提交）")
    grid = [
        ("工单号", report.job.number, roles.visit, local_text(report.inspected_at)),
        ("客户", c.name, "户号", c.account_no),
        ("地址", c.address or "—", None, None),
        (roles.technician, technician, *last),
    ]
    rows = [[para(a, "head"), para(b), para(x, "head") if x else "", para(y) if y else ""]
            for a, b, x, y in grid]
    info = Table(rows, colWidths=[18 * mm, 72 * mm, 20 * mm, FRAME_WIDTH - 110 * mm])
    info.setStyle(grid_style(("SPAN", (1, 2), (3, 2)), header=False))
    yield info


def answers_section(report: InspectionReport, title: str, lines: Sequence[AnswerLine],
                    columns: tuple[str, str] = ("检查项目", "结果")) -> Iterator[Flowable]:
    """The answers as a table: group headings as shaded rows, failed items highlighted."""
    yield from heading(title)
    rows: list[list[object]] = [[para(t, "head") for t in
                                 ("序号", *columns, "备注", "记录时间")]]
    style: list[tuple[object, ...]] = []
    section = ""
    for n, line in enumerate(lines, 1):
        if line.section != section:
            # Back at the top level after a group (a repair's shut-off, then its cause): a
            # row says so, or what follows would read as part of the group.
            shown = line.section or f"{title.split('、', 1)[-1]}（续）"
            section = line.section
            rows.append([para(shown, "head"), "", "", "", ""])
            style += [("SPAN", (0, len(rows) - 1), (-1, len(rows) - 1)),
                      ("BACKGROUND", (0, len(rows) - 1), (-1, len(rows) - 1), SECTION_FILL)]
        failed = line.outcome == "fail"
        when = local_text(line.answered_at, "%H:%M")
        if line.by_user and line.by_user != report.inspector:
            when += f" {line.by_user}"
        rows.append([para(str(n), "cell"), para(line.label, "cell"),
                     para(line.text, "cell_fail" if failed else "cell"),
                     para(line.note or "", "cell"), para(when, "cell")])
        if failed:
            style.append(("BACKGROUND", (0, len(rows) - 1), (-1, len(rows) - 1), FAIL_FILL))
    # As wide as the longest answer allows: a flat checklist only says 合格/不合格, while a
    # form with GPS points, barcodes and brands needs room for them.
    widest = max((stringWidth(line.text, font(), 9) for line in lines), default=0)
    result = min(max(widest + 10, 18 * mm), 46 * mm)
    table = Table(rows, colWidths=[10 * mm, 82 * mm - (result - 18 * mm) / 2, result,
                                   FRAME_WIDTH - 128 * mm - (result - 18 * mm) / 2, 18 * mm],
                  repeatRows=1)
    table.setStyle(grid_style(*style))
    yield table


def hazard_section(report: InspectionReport, title: str) -> Iterator[Flowable]:
    yield from heading(title)
    if not report.hazards:
        yield para("本次检查未发现安全隐患。")
        return
    rows: list[list[object]] = [[para(t, "head") for t in
                                 ("序号", "隐患项目", "等级", "整改期限", "现场说明")]]
    for n, h in enumerate(report.hazards, 1):
        rows.append([para(str(n), "cell"), para(h.label, "cell"),
                     para(h.level_label, "cell", LEVEL_INK.get(h.level, FAIL_INK)),
                     para(f"{local_text(h.due_at)} 前\n（{h.deadline_days} 天内）", "cell"),
                     para(h.note or "—", "cell")])
    table = Table(rows, colWidths=[10 * mm, 62 * mm, 20 * mm, 38 * mm, FRAME_WIDTH - 130 * mm],
                  repeatRows=1)
    table.setStyle(grid_style())
    yield table


def photo_section(photos: Sequence[Photo], title: str) -> Iterator[Flowable]:
    """Photos two to a row, each scaled into its box, captioned with what and when."""
    yield from heading(title, PHOTO_BOX[1] + 25 * mm)  # with the first row of photos
    if not photos:
        yield para("无现场照片。")
        return
    width, height = PHOTO_BOX
    cells = []
    for photo in photos:
        image = (fitted_image(photo.data, width, height) if photo.data
                 else Placeholder(width, height, f"照片文件缺失 {photo.sha256[:12]}"))
        cells.append([image, para(photo.caption, "caption")])
    rows = [cells[i:i + 2] + [""] * (2 - len(cells[i:i + 2])) for i in range(0, len(cells), 2)]
    table = Table(rows, colWidths=[FRAME_WIDTH / 2] * 2)
    table.setStyle(grid_style(("ALIGN", (0, 0), (-1, -1), "CENTER"),
                              ("VALIGN", (0, 0), (-1, -1), "TOP"), header=False, lines=False))
    yield table


def signature_section(signature: Signature | None, title: str,
                      statement: str, *, binding: bool = True) -> Iterator[Flowable]:
    """The signature with who signed when; with ``binding`` also what it bound (the hash)
    and whether the record still matches it (the one-page notice states only that)."""
    width, height = SIGNATURE_BOX
    if signature is None:
        box: Flowable = Placeholder(width, height, NOT_SIGNED)
        text = para(f"{NOT_SIGNED}：用户未在现场签字确认。")
    else:
        box = (fitted_image(signature.png, width, height, "签名") if signature.png
               else Placeholder(width, height, "签名文件缺失"))
        lines = [f"签字人：{signature.signer}", f"签字时间：{local_text(signature.signed_at)}"]
        if signature.by_user and binding:
            lines.append(f"经办：{signature.by_user}")
        if signature.content_hash and binding:  # in halves: 64 hex digits do not wrap
            lines.append("所签内容 SHA-256：" + signature.content_hash[:32] + "\n"
                         + signature.content_hash[32:])
        text = para("\n".join(lines) + ("\n" if binding else "；") + signature.binding)
    table = Table([[box, [para(statement), spacer(2), text]]],
                  colWidths=[width + 6 * mm, FRAME_WIDTH - width - 6 * mm])
    table.setStyle(grid_style(("BOX", (0, 0), (0, 0), 0.5, RULE), header=False, lines=False))
    yield KeepTogether([para(title, "h2"), table])


def history_section(report: InspectionReport, title: str) -> Iterator[Flowable]:
    if not report.history:
        return
    rows: list[list[object]] = [[para(t, "head") for t in ("时间", "状态变化", "操作人")]]
    for h in report.history:
        change = (f"{STATUS_ZH.get(h.from_status or '', h.from_status or '—')} → "
                  f"{STATUS_ZH.get(h.to_status, h.to_status)}")
        rows.append([para(local_text(h.at, "%Y-%m-%d %H:%M:%S"), "cell"), para(change, "cell"),
                     para(h.by_user or "—", "cell")])
    table = Table(rows, colWidths=[45 * mm, 60 * mm, FRAME_WIDTH - 105 * mm], repeatRows=1)
    table.setStyle(grid_style())
    yield KeepTogether([para(title, "h2"), table])

"""What every FieldApp PDF shares: the CJK font, styles, QR code, page decoration, determinism.

    pdf = build_pdf(story, meta=PdfMeta(title=…, author=…, issued_at=…), decorate=draw_footer)

PDFs are deterministic: reportlab's ``invariant`` mode fixes the ids and the file's digest,
and the creation date is the report's own time instead of the clock, so the same data gives
the same bytes on the tablet and on the server (same font file, same reportlab version).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial
from typing import Any
from xml.sax.saxutils import escape

from PIL import Image as PILImage
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    Image,
    Paragraph,
    SimpleDocTemplate,
    TableStyle,
)
from reportlab.platypus.flowables import Spacer

from fieldapp.local_time import LOCAL_ZONE
from fieldapp.resources import FONT_PATHS

FONT = "WenQuanYiMicroHei"
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 15 * mm, 15 * mm, 20 * mm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN_X

INK = colors.HexColor("#1f2328")
MUTED = colors.HexColor("#59636e")
RULE = colors.HexColor("#c8ccd1")
HEAD_FILL = colors.HexColor("#e8eef6")
SECTION_FILL = colors.HexColor("#f4f6f8")
FAIL_FILL = colors.HexColor("#fde2e1")
FAIL_INK = colors.HexColor("#b3261e")
LEVEL_INK = {"critical": colors.HexColor("#b3261e"), "serious": colors.HexColor("#b35c00"),
             "general": colors.HexColor("#7a6300")}


@cache
def font() -> str:
    """Register the bundled CJK font once; its name for styles and canvases."""
    path = next((p for p in FONT_PATHS if p.is_file()), None)
    if path is None:
        raise FileNotFoundError("no CJK font: run `make assets` (resources/fonts/) or install "
                                "fonts-wqy-microhei")
    pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=0))
    return FONT


@cache
def styles() -> dict[str, ParagraphStyle]:
    # CJK word wrap: Chinese has no spaces, so the default wrap would overflow a cell.
    base = ParagraphStyle("body", fontName=font(), fontSize=9.5, leading=13.5, textColor=INK,
                          wordWrap="CJK")
    return {
        "body": base,
        "indented": ParagraphStyle("indented", base, firstLineIndent=2 * 9.5),  # two characters
        "utility": ParagraphStyle("utility", base, fontSize=11, leading=15, textColor=MUTED),
        "title": ParagraphStyle("title", base, fontSize=18, leading=24),
        "h2": ParagraphStyle("h2", base, fontSize=12, leading=16, spaceBefore=9, spaceAfter=4),
        "cell": ParagraphStyle("cell", base, fontSize=9, leading=12),
        "cell_fail": ParagraphStyle("cell_fail", base, fontSize=9, leading=12,
                                    textColor=FAIL_INK),
        "head": ParagraphStyle("head", base, fontSize=9, leading=12, textColor=MUTED),
        "small": ParagraphStyle("small", base, fontSize=8, leading=10.5, textColor=MUTED),
        "caption": ParagraphStyle("caption", base, fontSize=8, leading=10.5, textColor=MUTED,
                                  alignment=1),
    }


def para(text: str | None, style: str = "body", color: colors.Color | None = None) -> Paragraph:
    """Text as a paragraph: escaped, since notes are typed by people, not markup."""
    chosen = styles()[style]
    if color is not None:
        chosen = ParagraphStyle(f"{style}-{color.hexval()}", chosen, textColor=color)
    return Paragraph(escape(text or "").replace("\n", "<br/>"), chosen)


def heading(text: str, room: float = 30 * mm) -> list[Flowable]:
    """A section heading that starts a new page unless ``room`` is left for it and the start
    of its content (keepWithNext would push a long table whole onto the next page instead,
    leaving the first page half empty)."""
    return [CondPageBreak(room), para(text, "h2")]


def grid_style(*extra: tuple[Any, ...], header: bool = True, lines: bool = True) -> TableStyle:
    """Table style: a light grid and a shaded header row; ``lines=False`` for layout tables."""
    commands: list[tuple[Any, ...]] = [("GRID", (0, 0), (-1, -1), 0.5, RULE)] if lines else []
    commands += [
        ("FONTNAME", (0, 0), (-1, -1), font()),  # for plain-string cells; else Helvetica
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL))
    return TableStyle([*commands, *extra])


def qr_code(value: str, size: float) -> Drawing:
    """A QR code (error correction M: survives a crease or a coffee stain) as a flowable."""
    widget = QrCodeWidget(value, barLevel="M", barBorder=2)
    x1, y1, x2, y2 = widget.getBounds()
    # initialFontName: else the drawing selects Helvetica, a font the PDF would not embed.
    drawing = Drawing(size, size, transform=[size / (x2 - x1), 0, 0, size / (y2 - y1), 0, 0],
                      initialFontName=font())
    drawing.add(widget)
    return drawing


def verify_uri(kind: str, report_id: str, content_hash: str, base: str | None = None) -> str:
    """What the QR code holds: which document, of which report, with which content. With the
    utility's public address (``base``) it is the public page any phone opens, no sign-in
    (``/verify/…`` on the server); without, the same path for the office's scanner."""
    if base:
        return f"{base.rstrip('/')}/verify/{kind}/{report_id}?sha256={content_hash}"
    return f"fieldapp://verify/{kind}/{report_id}?sha256={content_hash}"


# A photo above this is drawn as a placeholder, never decoded: a tablet's photo is a few
# megapixels, and an 8000×8000 PNG would cost 600 MB to print (the portal's limit, too).
MAX_PIXELS = 40_000_000


def fitted_image(data: bytes, max_width: float, max_height: float,
                 what: str = "照片") -> Flowable:
    """An image scaled to fit the box, keeping its proportions (JPEGs are embedded as is).

    Its size is read from the header before any pixel is decoded: a picture over MAX_PIXELS,
    or one that does not decode to the end, is a placeholder saying so, never an error (the
    office's PDF is then still printed, and nobody's memory is spent on an image bomb)."""
    size = _checked_size(data)
    if size is None:
        return Placeholder(max_width, max_height, f"{what}无法读取")
    if size[0] * size[1] > MAX_PIXELS:
        return Placeholder(max_width, max_height, f"{what}过大，未显示")
    width, height = size
    scale = min(max_width / width, max_height / height)
    return Image(io.BytesIO(data), width * scale, height * scale)


def _checked_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of an image that decodes, (huge, 1) past the limit, None if broken."""
    too_large = (MAX_PIXELS + 1, 1)
    try:
        # Opening reads only the header. Pillow's own bomb check refuses past twice its limit
        # (and only warns below it: no filter is changed here, other threads print too).
        with PILImage.open(io.BytesIO(data)) as im:
            width, height = im.size
            if width < 1 or height < 1:
                return None
            if width * height > MAX_PIXELS:
                return too_large
            if im.format == "JPEG":
                im.draft("RGB", (max(1, width // 8), max(1, height // 8)))  # 1/8 scale
            im.load()  # decoded to the end: a cut-off file is a placeholder, not a 500
    except PILImage.DecompressionBombError:
        return too_large
    except Exception:  # any way a file can fail to be a picture: shown as unreadable
        return None
    return width, height


class Placeholder(Flowable):
    """A framed box with a line of text, where a file is missing (or nobody signed)."""

    def __init__(self, width: float, height: float, text: str) -> None:
        super().__init__()
        self.width, self.height, self.text = width, height, text

    def draw(self) -> None:
        c = self.canv
        c.setStrokeColor(RULE)
        c.setDash(3, 2)
        c.rect(0, 0, self.width, self.height)
        c.setFillColor(MUTED)
        c.setFont(font(), 10)
        c.drawCentredString(self.width / 2, self.height / 2 - 4, self.text)


def spacer(height_mm: float) -> Spacer:
    return Spacer(1, height_mm * mm)


# -- the document --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PdfMeta:
    title: str
    author: str
    subject: str
    issued_at: str  # ISO 8601: the PDF's creation date


Decorate = Callable[[Canvas, int, int], None]  # (canvas, page number, page count)


class _FixedTime:
    """The parts of reportlab's TimeStamp that the PDF's Info dates are written from."""

    def __init__(self, moment: datetime) -> None:
        utcoffset = moment.utcoffset()
        offset = int(utcoffset.total_seconds()) if utcoffset else 0
        self.t = moment.timestamp()
        self.lt = moment.timetuple()
        self.YMDhms = tuple(self.lt)[:6]
        self.dhh, self.dmm = offset // 3600, offset % 3600 // 60
        self.tzname = moment.tzname()

    @property
    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.t, LOCAL_ZONE)


class _Canvas(Canvas):
    """Holds every page until the end, so each footer can say "page n of N"."""

    def __init__(self, *args: Any, issued_at: datetime, decorate: Decorate,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # reportlab has no setting for the creation date: its invariant date is 2000-01-01,
        # and a report should carry its own time, not the clock's.
        # (_doc and _startPage are reportlab's private parts, left out of its stubs)
        self._doc._timeStamp = _FixedTime(issued_at)  # type: ignore[attr-defined]
        self._decorate = decorate
        self._held: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._held.append(dict(self.__dict__))
        self._startPage()  # type: ignore[attr-defined]  # private, not in the stubs

    def save(self) -> None:
        for number, page in enumerate(self._held, 1):
            self.__dict__.update(page)
            self._decorate(self, number, len(self._held))
            super().showPage()
        super().save()


def build_pdf(story: Sequence[Flowable], meta: PdfMeta, decorate: Decorate) -> bytes:
    out = io.BytesIO()
    issued = datetime.fromisoformat(meta.issued_at) if meta.issued_at else None
    if issued is not None and issued.tzinfo is None:
        issued = issued.replace(tzinfo=LOCAL_ZONE)
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM, title=meta.title, author=meta.author, subject=meta.subject,
        creator="FieldApp", invariant=1, lang="zh-CN", initialFontName=font())
    doc.build(list(story), canvasmaker=partial(
        _Canvas, issued_at=(issued or datetime(2000, 1, 1, tzinfo=LOCAL_ZONE)),
        decorate=decorate))
    return out.getvalue()


def draw_footer(canvas: Canvas, page: int, total: int, *, left: str, hash_line: str,
                running_head: str | None = None) -> None:
    """Footer on every page (ids, content hash, page n/N); a running head from page 2."""
    canvas.saveState()
    canvas.setFont(font(), 7.5)
    canvas.setFillColor(MUTED)
    canvas.setStrokeColor(RULE)
    y = MARGIN_BOTTOM - 8 * mm
    canvas.line(MARGIN_X, y + 3.5 * mm, PAGE_WIDTH - MARGIN_X, y + 3.5 * mm)
    canvas.drawString(MARGIN_X, y, left)
    canvas.drawRightString(PAGE_WIDTH - MARGIN_X, y, f"第 {page} 页 / 共 {total} 页")
    canvas.drawString(MARGIN_X, y - 3.6 * mm, hash_line)
    if running_head and page > 1:
        top = PAGE_HEIGHT - MARGIN_TOP + 5 * mm
        canvas.drawString(MARGIN_X, top, running_head)
        canvas.line(MARGIN_X, top - 1.8 * mm, PAGE_WIDTH - MARGIN_X, top - 1.8 * mm)
    canvas.restoreState()

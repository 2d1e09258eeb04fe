"""Inspections done through the core API, and PDFs read back with poppler's command-line tools."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fieldapp.demo.photos import scene_photo
from fieldapp.local_time import now_iso
from fieldapp.position import Position
from fieldapp.replica import Replica
from tests.world import CHECKLIST, STROKES, start_checklist

# (item, note) failed in the rich inspection: one hazard of each level.
FAILED = {
    "water_heater_flue": "烟道与热水器排烟口脱节约3厘米",  # critical: 1 day
    "hose_age": "橡胶软管已龟裂，使用超过3年",  # serious: 7 days
    "alarm_present": "未安装燃气泄漏报警器",  # general: 30 days
}
HERE = Position(32.0201, 118.8002, 6.0, datetime(2026, 11, 24, 2, 0, tzinfo=UTC), "nmea", 1.5)


def rich_inspection(replica: Replica, job_id: str, folder: Path, *, photos: int = 2,
                    sign: bool = True, complete: bool = True,
                    failed: dict[str, str] | None = None) -> str:
    """A v1 checklist with three hazards (or ``failed``), site photos with GPS (of the first
    failed items), and the customer's signature."""
    failed = FAILED if failed is None else failed
    replica.jobs.transition(job_id, "accepted")
    replica.jobs.transition(job_id, "in_service")
    sub_id = start_checklist(replica, job_id)
    for item in replica.submissions.definition(*CHECKLIST)["items"]:
        replica.submissions.answer(sub_id, item["key"], "pass")
    replica.submissions.answer(sub_id, "cylinder_mix", "na")
    for key, note in failed.items():
        replica.submissions.answer(sub_id, key, "fail", note)
    replica.submissions.submit(sub_id)
    for n, key in enumerate([*failed, "meter_condition", "valve_condition"][:photos]):
        path = folder / f"IMG_{n}.jpg"
        scene_photo(1600, 1200, seed=n + 3).save(path, quality=90)
        replica.evidence.add_photo(job_id, path, question=key, position=HERE)
    if sign:
        replica.evidence.add_signature(job_id, STROKES, "陈桂芳")
    if complete:
        replica.jobs.transition(job_id, "completed")
    return sub_id


V2_ANSWERS: list[tuple[str, Any, str | None]] = [
    ("visit_outcome", "inspected", None),
    ("visit_time", "09:30", None),
    ("location", {"lat": 32.0201, "lon": 118.8002, "accuracy": 6.0}, None),
    ("meter_barcode", "GM0000000001", None),
    ("meter_reading", 1250.5, None),
    ("appliances[0].appliance_kind", "stove", None),
    ("appliances[0].appliance_brand", "方太 JZT-FD21BE", None),
    ("appliances[1].appliance_kind", "water_heater", None),
    ("appliances[1].appliance_year", 2016, None),
    ("stove_flameout", "fail", "灶具无熄火保护装置"),
    ("customer_briefed", "yes", None),
]


def v2_draft(replica: Replica, job_id: str) -> str:
    """A draft of the nested v2 form (groups, a repeat, selects, GPS, meter reading)."""
    replica.jobs.transition(job_id, "accepted")
    replica.jobs.transition(job_id, "in_service")
    job = replica.get("jobs", job_id)
    with replica.transaction():
        sub_id = replica.insert("submissions", {
            "job_id": job_id, "customer_id": job["customer_id"],
            "form_code": "household_inspection", "form_version": 2, "state": "draft",
            "started_at": now_iso(), "by_user": "tech01", "device_id": replica.device_id})
    for path, value, note in V2_ANSWERS:
        replica.submissions.answer(sub_id, path, value, note)
    return sub_id


# -- reading PDFs back -------------------------------------------------------------------------


def _run(*args: str | Path) -> str:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          check=True).stdout


def write(pdf: bytes, path: Path) -> Path:
    path.write_bytes(pdf)
    return path


def text_of(pdf: Path, page: int | None = None) -> str:
    """The text in drawing order: a table row's cells stay together, even multi-line ones."""
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return _run("pdftotext", "-raw", *pages, pdf, "-")


def page_count(pdf: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", _run("pdfinfo", pdf), re.M).group(1))


def info(pdf: Path, *options: str) -> dict[str, str]:
    lines = _run("pdfinfo", *options, pdf).splitlines()
    return dict(line.split(":", 1) for line in lines if ":" in line)


def images(pdf: Path) -> list[dict[str, str]]:
    """``pdfimages -list`` as one dict per image (page, width, height, color, enc…)."""
    lines = _run("pdfimages", "-list", pdf).splitlines()
    names = lines[0].split()
    return [dict(zip(names, line.split(), strict=False)) for line in lines[2:]]


def fonts(pdf: Path) -> str:
    return _run("pdffonts", pdf)


def render_page(pdf: Path, page: int, out_prefix: Path, dpi: int = 80) -> Path:
    _run("pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png",
         "-singlefile", pdf, out_prefix)
    return out_prefix.with_suffix(".png")


def qr_codes(pdf: Path, page: int, out_prefix: Path) -> list[str]:
    """The QR codes a phone finds on ``page`` printed at 150 dpi. Only QR codes are asked for,
    as a phone's scanner does: with every format on, zxing-cpp once found a second symbol on a
    page that prints one QR code (a CI run; formats without a check digit can be read out of
    text and lines)."""
    import zxingcpp
    from PIL import Image

    with Image.open(render_page(pdf, page, out_prefix, dpi=150)) as image:
        return [b.text for b in zxingcpp.read_barcodes(image,
                                                       formats=zxingcpp.BarcodeFormat.QRCode)]


def squash(text: str) -> str:
    """Text without whitespace: pdftotext spaces CJK runs and wraps table cells."""
    return re.sub(r"\s+", "", text)


REPAIR_ANSWERS: list[tuple[str, Any]] = [
    ("arrived_at", "10:05"),
    ("fault_category", "leak"),
    ("fault_description", "厨房灶前阀处有燃气味，肥皂水检测接口起泡"),
    ("gas_concentration", 3.5),
    ("cause", "hose_aged"),
    ("actions", ["replace_hose", "tighten"]),
    ("parts_used", "yes"),
    ("parts[0].part", "P-HOSE-15"),
    ("parts[0].quantity", 1),
    ("parts[1].part", "P-CLAMP"),
    ("parts[1].quantity", 2),
    ("parts[2].part", "other"),
    ("parts[2].part_other", "聚四氟乙烯生料带"),
    ("parts[2].quantity", 1),
    ("fixed", "yes"),
    ("finished_at", "10:50"),
    ("satisfaction", 4),
    ("signer_name", "周强"),
]


def repair_done(replica: Replica, job_id: str, folder: Path,
                retest: tuple[str, str | None] = ("pass", None),
                extra: Sequence[tuple[str, Any]] = (), photos: Sequence[str] = ()) -> str:
    """A repair report filled through the core (the signed-in technician's job); ``retest``
    is the leak re-test's answer and note, ``extra`` more answers, ``photos`` more photo
    questions to fill."""
    replica.jobs.transition(job_id, "accepted")
    replica.jobs.transition(job_id, "in_service")
    sub_id = replica.forms.start(job_id)
    for path, value in [*REPAIR_ANSWERS, *extra]:
        replica.submissions.answer(sub_id, path, value)
    replica.submissions.answer(sub_id, "leak_retest", *retest)
    photographed = ("before_photos", "after_photos", "leak_retest")[:3 if retest[0] == "fail"
                                                                    else 2] + tuple(photos)
    for n, question in enumerate(photographed):
        path = folder / f"{question}.jpg"
        scene_photo(1600, 1200, seed=20 + n).save(path, quality=90)
        replica.evidence.add_photo(job_id, path, question=question, position=HERE)
    replica.evidence.add_signature(job_id, STROKES, "周强")
    replica.forms.submit(sub_id)
    replica.jobs.transition(job_id, "completed")
    return sub_id

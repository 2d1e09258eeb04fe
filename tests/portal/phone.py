"""What the portal's phone walk-through needs besides the server: a phone's browser context,
photos a phone would take, the width check, and the technician's meter reading on the tablet.
Shared by tests/portal/test_portal_browser.py and scripts/portal_screenshots.py."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from fieldapp.local_time import LOCAL_ZONE
from fieldapp.replica import Replica

WIDTH = 390
# A mid-size phone in portrait (Playwright's iPhone 12/13 metrics), in Chinese. The portal's
# content policy forbids scripts; bypass_csp lets the accessibility checker be injected and
# changes nothing else, the pages having no script of their own.
PHONE: dict[str, Any] = {
    "viewport": {"width": WIDTH, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
    "has_touch": True, "locale": "zh-CN", "timezone_id": "Asia/Shanghai", "bypass_csp": True}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}


def overflow(page: Any) -> str | None:
    """Why the page scrolls sideways on the phone (the widest elements past its right edge),
    or None when it fits."""
    found = page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        const scroll = document.documentElement.scrollWidth;
        if (scroll <= width && window.innerWidth <= width) return null;
        const wide = [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > width + 0.5)
            .slice(0, 5)
            .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                 + (e.className && typeof e.className === 'string'
                    ? '.' + e.className.trim().split(/\\s+/).join('.') : '')
                 + ' right=' + Math.round(e.getBoundingClientRect().right));
        return `scrollWidth ${scroll} > ${width} (innerWidth ${window.innerWidth}): `
               + wide.join(', ');
    }""")
    return f"{page.url}: {found}" if found else None


def jpeg(path: Path, text: str, colour: tuple[int, int, int], size: tuple[int, int]) -> Path:
    """A photo-sized JPEG (a card or a page, with a little drawn on it), as a phone uploads."""
    img = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(img)
    w, h = size
    draw.rectangle([w // 12, h // 10, w - w // 12, h - h // 10], outline=(40, 40, 40), width=4)
    for i in range(6):
        y = h // 4 + i * h // 10
        draw.line([w // 6, y, w - w // 6 - i * 12, y], fill=(70, 70, 70), width=3)
    draw.text((w // 6, h // 8), text, fill=(0, 0, 0))
    img.save(path, "JPEG", quality=85)
    return path


def fill_transfer(page: Any, folder: Path) -> None:
    """The 过户 form filled as a customer would: the new owner, a day and the afternoon,
    and photos of an ID card and a deed."""
    page.locator("#new_owner").fill("张伟")
    page.locator("#new_phone").fill("13600002222")
    page.locator("#day").select_option(index=1)
    page.locator("input[name=slot][value=pm]").check()
    page.locator("#photo-id_card").set_input_files(
        str(jpeg(folder / "id_card.jpg", "ID", (226, 214, 190), (640, 404))))
    page.locator("#photo-deed").set_input_files(
        str(jpeg(folder / "deed.jpg", "DEED", (245, 240, 225), (480, 640))))


def read_meter(replica: Replica, job_id: str) -> str:
    """Fill and submit the meter-reading form of a job in service: read, 1 m³ used since the
    previous reading (within the usual use, so no photo of the dial is asked for); returns the
    submission id."""
    job = replica.jobs.get(job_id)
    meter = replica.customers.view360(job["customer_id"])["meters"][0]
    sub_id = replica.forms.start(job_id)
    previous = replica.submissions.answers(sub_id)["previous_reading"]["value"]
    for path, value in [("meter_barcode", meter["barcode"]),
                        ("read_on", datetime.now(LOCAL_ZONE).date().isoformat()),
                        ("meter_accessible", "yes"), ("reading", previous + 1.0)]:
        replica.forms.answer(sub_id, path, value)
    replica.forms.submit(sub_id)
    return sub_id

"""``FieldApp --self-test``: prove a build works on this machine without a server or a
person: an encrypted replica with the demo route, the main window listing it, the bundled
font, the forms, a meter barcode decoded back to its customer, a Chinese PDF. Each check
prints one line; the exit code is the number of checks that failed (0: all passed).

It runs in the packaged app (CI starts the frozen build offscreen with it) and from a
checkout (``python -m fieldapp.ui --self-test``), against a throwaway data folder.
"""

from __future__ import annotations

import io
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from PySide6.QtWidgets import QApplication

from fieldapp.ui.i18n import CATALOGUE

Check = Callable[[], str]
CHINESE_TITLE = CATALOGUE["app.title"][0]  # the app's own Chinese name must render


def run(out: TextIO) -> int:
    from fieldapp.ui import theme

    app = QApplication.instance() or QApplication([])
    family = theme.load_fonts()
    with tempfile.TemporaryDirectory(prefix="fieldapp-self-test-") as tmp:
        data = Path(tmp)
        checks: list[tuple[str, Check]] = [
            ("font", lambda: _font(family)),
            ("database", lambda: _database(data)),
            ("window", lambda: _window(app, data)),
            ("forms", _forms),
            ("barcode", lambda: _barcode(data)),
            ("camera", lambda: _camera(data)),
            ("pdf", _pdf),
            ("map", lambda: _map(app, data)),
            ("positioning", _positioning),
        ]
        failed = 0
        for name, check in checks:
            start = time.perf_counter()
            try:
                said = check()
            except Exception:  # every failure is reported; the rest still run
                failed += 1
                print(f"FAIL {name}: {traceback.format_exc(limit=3).strip()}", file=out)
            else:
                print(f"ok   {name}: {said} ({time.perf_counter() - start:.2f} s)", file=out)
    print("self-test passed" if not failed else f"self-test: {failed} failed", file=out)
    return failed


def _font(family: str) -> str:
    from PySide6.QtGui import QFont, QFontMetrics

    from fieldapp.ui.theme import FONTS_DIR

    assert any(FONTS_DIR.glob("*.tt[fc]")), f"no bundled font in {FONTS_DIR}"
    metrics = QFontMetrics(QFont(family))
    chinese = [ch for ch in CHINESE_TITLE if ord(ch) > 0x2E80]
    assert chinese and all(metrics.inFontUcs4(ord(ch)) for ch in chinese), \
        f"{family} lacks Chinese glyphs"
    return family


def _database(data: Path) -> str:
    from fieldapp.replica import Replica, store
    from fieldapp.ui.demo_seed import seed

    replica = Replica.open(data)
    try:
        seeded = seed(replica)
    finally:
        replica.close()
    assert not store.is_plain(data / store.DB_FILE), "the replica is not encrypted"
    return f"encrypted replica, {len(seeded.job_ids)} jobs today"


def _window(app: QApplication, data: Path) -> str:
    from fieldapp.ui.app import build_main_window

    window = build_main_window(data, "http://127.0.0.1:9")  # nothing listens: offline
    try:
        window.show()
        app.processEvents()
        rows = window.today.model.rowCount()
        assert rows > 0, "the job list is empty"
        return f"main window, {rows} jobs listed"
    finally:
        window.shutdown()
        window.close()


def _forms() -> str:
    from fieldapp.forms.form_files import FORMS_DIR, load_file

    forms = [load_file(p) for p in sorted(FORMS_DIR.glob("*.json"))]
    assert forms, f"no forms in {FORMS_DIR}"
    return f"{len(forms)} form definitions"


def _barcode(data: Path) -> str:
    import barcode
    from barcode.writer import ImageWriter

    from fieldapp.capture.barcode import decode_image
    from fieldapp.replica import Replica

    replica = Replica.open(data)
    try:
        meter = replica.db.execute("SELECT barcode, customer_id FROM meters LIMIT 1").fetchone()
        label = barcode.get("code128", meter[0], writer=ImageWriter()).render(
            {"write_text": False})
        png = io.BytesIO()
        label.save(png, format="PNG")
        [found] = decode_image(png.getvalue())
        hit = replica.customers.by_barcode(found.text)
        assert hit is not None and hit["customer"]["id"] == meter[1], found
        return f"{found.symbology} {found.text} -> {hit['customer']['name']}"
    finally:
        replica.close()


def _camera(data: Path) -> str:
    """The live-scan path on a simulated camera: a frame read by OpenCV, decoded."""
    import barcode
    from barcode.writer import ImageWriter
    from PIL import Image

    from fieldapp.capture.camera import FolderSource, decode_frame

    folder = data / "camera"
    folder.mkdir()
    frame = Image.new("RGB", (1280, 720), (150, 150, 150))
    label = barcode.get("code128", "SELFTEST01", writer=ImageWriter()).render(
        {"write_text": False})
    label.thumbnail((520, 300))
    frame.paste(label, (380, 220))
    frame.save(folder / "frame.png")
    source = FolderSource(folder)
    try:
        [found] = decode_frame(source.read())
    finally:
        source.close()
    assert found.text == "SELFTEST01", found
    return f"{found.symbology} {found.text} from a 1280x720 frame"


def _pdf() -> str:
    from fieldapp.reports.pdf_common import PdfMeta, build_pdf, font, para

    meta = PdfMeta(title="self-test", author="FieldApp", subject="self-test", issued_at="")
    pdf = build_pdf([para(CHINESE_TITLE)], meta,
                    lambda canvas, page, total: None)
    assert pdf.startswith(b"%PDF") and font().encode() in pdf, "no embedded CJK font"
    return f"{len(pdf):,} bytes with {font()} embedded"


def _map(app: QApplication, data: Path) -> str:
    """A PMTiles basemap written, opened and drawn by the map view: the tile reader and Qt's
    PNG decoding are in the build."""
    import io as _io

    from PIL import Image

    from fieldapp.basemap.mercator import tile_of
    from fieldapp.basemap.tiles import open_basemap
    from fieldapp.basemap.write import write_pmtiles
    from fieldapp.ui.widgets.tile_map import TileMap

    png = _io.BytesIO()
    Image.new("RGB", (256, 256), (200, 60, 40)).save(png, "PNG")
    x, y = tile_of(118.8, 32.02, 15)
    path = write_pmtiles(data / "self-test.pmtiles", [(15, x, y, png.getvalue())],
                         bounds=(118.79, 32.01, 118.81, 32.03), name="self-test")
    view = TileMap()
    view.resize(256, 256)
    view.set_basemap(open_basemap(path))
    view.centre_on(118.8, 32.02, 15)
    colour = view.grab().toImage().pixelColor(128, 128)
    view.set_basemap(None)
    assert (colour.red(), colour.green(), colour.blue()) == (200, 60, 40), colour.name()
    # A vector tile, decoded and drawn: all water.
    import mapbox_vector_tile

    from fieldapp.basemap import vector

    water = mapbox_vector_tile.encode([{"name": "water", "features": [{
        "geometry": "POLYGON ((0 0, 4096 0, 4096 4096, 0 4096, 0 0))", "properties": {}}]}])
    path = write_pmtiles(data / "self-test-vector.pmtiles", [(15, x, y, water)],
                         bounds=(118.79, 32.01, 118.81, 32.03), name="v", image="pbf")
    view.set_basemap(open_basemap(path))
    colour = view.grab().toImage().pixelColor(128, 128)
    view.set_basemap(None)
    assert colour.name() == vector.WATER, colour.name()
    return "a raster and a vector tile drawn from PMTiles"


def _positioning() -> str:
    from PySide6.QtPositioning import QGeoPositionInfoSource

    found = QGeoPositionInfoSource.availableSources()
    assert found, "no Qt Positioning plugin in the build"
    return "Qt Positioning: " + ", ".join(found)

"""Rendered pages of the PDF documents, for docs/screenshots/: the inspection report, the
rectification notice and the repair report, made from the tests' world (tests/world.py) with
the inspections the report tests check (tests/reports/reportkit.py).

    PYTHONPATH=. .venv/bin/python scripts/report_samples.py [--out docs/screenshots] [--pdf]

Pages are rendered with poppler's pdftoppm at 80 dpi; ``--pdf`` also keeps the PDFs.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from fieldapp.replica import Replica
from fieldapp.reports import inspection_pdf, rectification_pdf, repair_pdf
from fieldapp.reports.report_data import from_replica
from tests.reports.reportkit import repair_done, rich_inspection
from tests.world import seed_replica


def pages(pdf: bytes, name: str, out: Path, count: int, keep_pdf: bool) -> list[Path]:
    path = out / f"{name}.pdf"
    path.write_bytes(pdf)
    made = []
    for page in range(1, count + 1):
        png = out / f"{name}_p{page}"
        subprocess.run(["pdftoppm", "-r", "80", "-f", str(page), "-l", str(page), "-png",
                        "-singlefile", str(path), str(png)], check=True)
        made.append(png.with_suffix(".png"))
    if not keep_pdf:
        path.unlink()
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--pdf", action="store_true", help="keep the PDFs beside the pages")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        inspector = Replica.open(work / "tech01")
        seed_replica(inspector, "tech01")
        report = from_replica(inspector, rich_inspection(inspector, "job-1", work))
        made = pages(inspection_pdf.render(report), "inspection_report", args.out, 2, args.pdf)
        made += pages(rectification_pdf.render(report), "rectification_notice", args.out, 1,
                      args.pdf)
        inspector.close()
        repairer = Replica.open(work / "tech02")
        seed_replica(repairer, "tech02")
        repair = from_replica(repairer, repair_done(repairer, "job-3", work))
        made += pages(repair_pdf.render(repair), "repair_report", args.out, 2, args.pdf)
        repairer.close()
    for path in made:
        print(path)


if __name__ == "__main__":
    main()

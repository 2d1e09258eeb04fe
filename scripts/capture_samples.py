"""Sample output of the capture features, for docs/screenshots/: a watermarked evidence photo
and today's offline map for one demo technician (HTML, plus a PNG when chromium is present).

    PYTHONPATH=. .venv/bin/python scripts/capture_samples.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from fieldapp.capture.gps import SimulatedSource
from fieldapp.capture.photo import PhotoSettings, Stamp, process_photo
from fieldapp.demo.generate import generate
from fieldapp.demo.photos import scene_photo
from fieldapp.domain.route import Stop, plan_route
from fieldapp.local_time import LOCAL_ZONE
from fieldapp.position import Position
from fieldapp.reports.map import write_map

USER = "tech01"


def sample_photo(out: Path) -> Path:
    taken = datetime.now(LOCAL_ZONE).replace(hour=10, minute=24, second=37, microsecond=0)
    here = Position(32.020512, 118.801934, 4.8, taken - timedelta(seconds=1), "nmea", 1.0)
    original = io.BytesIO()
    scene_photo(3000, 2250).save(original, format="JPEG", quality=92)
    stamp = Stamp(taken, f"GD{taken:%Y%m%d}0017", "王建国", "320104003518", here)
    photo = process_photo(original.getvalue(), stamp, PhotoSettings())
    path = out / "watermarked_photo.jpg"
    path.write_bytes(photo.data)
    return path


def sample_map(out: Path) -> Path:
    data = generate()
    customers = {c["id"]: c for c in data.rows["customers"]}
    jobs = []
    statuses = ["completed", "completed", "in_service", "en_route", "accepted"]
    for n, job in enumerate(data.technician_jobs_today(USER)):
        customer = customers[job["customer_id"]]
        jobs.append({**job, "status": statuses[n] if n < len(statuses) else job["status"],
                     "customer_name": customer["name"], "customer_address": customer["address"],
                     "customer_lat": customer["lat"], "customer_lon": customer["lon"]})
    here = SimulatedSource([(jobs[2]["customer_lat"] + 0.002, jobs[2]["customer_lon"] - 0.003)],
                           accuracy_m=35).current()
    assert here is not None
    now = datetime.combine(data.today, datetime.min.time(), tzinfo=LOCAL_ZONE) \
        + timedelta(hours=11)
    open_jobs = [j for j in jobs if j["status"] not in ("completed", "cancelled")]
    route = plan_route([Stop(j["id"], j["customer_lat"], j["customer_lon"], j["priority"],
                             datetime.fromisoformat(j["due_at"])) for j in open_jobs],
                       start=(here.lat, here.lon), start_time=now)
    return write_map(out / "map.html", jobs, position=here, route=route,
                     title=f"今日工单 {data.today:%Y-%m-%d} · 王建国")


def screenshot(html: Path, png: Path) -> bool:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        return False
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        f"--user-data-dir={profile}", "--hide-scrollbars",
                        f"--screenshot={png}", "--window-size=1280,800",
                        "--virtual-time-budget=3000", html.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)
    return png.exists()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(sample_photo(args.out))
    html = sample_map(args.out)
    print(html)
    if screenshot(html, args.out / "map.png"):
        print(args.out / "map.png")


if __name__ == "__main__":
    main()

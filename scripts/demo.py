"""The README's first command: the sync server with demo data, plus the tablet client.

With a display, the client opens logged in as the demo inspector tech01. Without one,
a scripted demo completes one inspection offline through the core API (server stopped),
restarts the server, syncs, and prints the back-office address of the synced report.
The server keeps running until Ctrl+C so the report can be opened in a browser.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fieldapp.capture.gps import SimulatedSource  # noqa: E402
from fieldapp.demo.barcodes import write_barcode_png  # noqa: E402
from fieldapp.demo.photos import scene_photo  # noqa: E402
from fieldapp.local_time import LOCAL_ZONE  # noqa: E402
from fieldapp.position import Position  # noqa: E402
from fieldapp.replica import Replica  # noqa: E402
from fieldapp.sync.client import Progress, SyncClient  # noqa: E402

USER, PASSWORD = "tech01", "fieldapp"


class DemoServer:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir, self.port, self.proc = data_dir, port, None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / "server.log", "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "sync_server", "--data", str(self.data_dir),
                 "--port", str(self.port), "--demo"], cwd=ROOT, stdout=log,
                stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        for _ in range(600):
            if self.proc.poll() is not None:
                sys.exit(f"the server stopped; see {self.data_dir / 'server.log'}")
            try:
                if requests.get(self.url + "/api/v1/health", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        sys.exit("the server did not start within 60 s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def say(text: str) -> None:
    print(f"[{datetime.now(LOCAL_ZONE):%H:%M:%S}] {text}", flush=True)


def show_progress(p: Progress) -> None:
    extra = f" {p.bytes_done}/{p.bytes_total} B" if p.bytes_total else ""
    print(f"    同步 {p.phase:<6} {p.done}/{p.total}{extra}", flush=True)


def demo_photo(path: Path, seed: int = 7) -> Path:
    """A drawn stand-in for a camera photo (the watermark is burnt in when it is attached)."""
    scene_photo(seed=seed).save(path, quality=90)
    return path


def signature_strokes() -> list[list[list[float]]]:
    strokes, t = [], 0.0
    for k in range(3):
        stroke = []
        for i in range(40):
            x = 60 + k * 160 + i * 3
            y = 120 + 40 * math.sin(i / 5 + k)
            stroke.append([x, y, t, 0.5 + 0.3 * math.sin(i / 7)])
            t += 12
        strokes.append(stroke)
        t += 300
    return strokes


def inspect(replica: Replica, job_id: str, meter: dict, code: str, here: Position | None,
            work: Path) -> str:
    """Fill the household inspection as a technician would: inspected, the meter scanned and
    read, one stove, every item passed but an aged hose (noted and photographed)."""
    sub_id = replica.forms.start(job_id)

    def answer(path: str, value: object, note: str | None = None) -> None:
        replica.forms.answer(sub_id, path, value, note)

    answer("visit_outcome", "inspected")
    answer("visit_time", datetime.now(LOCAL_ZONE).strftime("%H:%M"))
    if here is not None:
        answer("location", {"lat": here.lat, "lon": here.lon,
                            "accuracy": float(here.accuracy_m or 0)})
    answer("meter_barcode", code)
    answer("meter_reading", round((meter["last_reading"] or 0) + 37.5, 1))
    replica.evidence.add_photo(job_id, demo_photo(work / "meter.jpg"), question="meter_photo",
                               position=here)
    answer("appliances[0].appliance_kind", "stove")
    answer("hose_age", "fail", "橡胶软管已老化龟裂，已告知用户更换")
    replica.evidence.add_photo(job_id, demo_photo(work / "hose.jpg", seed=11), question="hose_age",
                               position=here)
    # Items appear as earlier answers make them relevant: pass whatever is still open.
    while open_items := [f.path for f in replica.forms.screen(sub_id).fields
                         if f.type == "pass_fail_na" and f.value is None]:
        for path in open_items:
            answer(path, "pass")
    answer("customer_briefed", "yes")
    answer("signer_name", replica.jobs.get(job_id)["customer_name"])
    return sub_id


def scripted(server: DemoServer, work: Path) -> None:
    replica = Replica.open(work / "tablet-scripted")
    client = SyncClient(replica, server.url)
    client.login(USER, PASSWORD, device_name="demo tablet (scripted)")
    say(f"已登录 {replica.session.display_name}（{USER}），首次同步：")
    client.sync(progress=show_progress)
    jobs = [j for j in replica.jobs.today()
            if j["kind"] == "inspection" and j["status"] == "dispatched"]
    if not jobs:
        sys.exit("no dispatched inspection left today; delete var/demo to start over")
    job = jobs[0]
    say(f"今日工单 {len(replica.jobs.today())} 个；处理 {job['number']} {job['customer_name']}"
        f" {job['customer_address']}")

    server.stop()
    say("服务器已停止：以下全部离线完成")
    replica.jobs.transition(job["id"], "accepted")
    meter = replica.customers.view360(job["customer_id"])["meters"][0]
    label = write_barcode_png(meter["barcode"], work / "barcodes" / f"{meter['barcode']}.png")
    scan = replica.evidence.scan_image(label, job_id=job["id"])
    say(f"扫描表码 {scan['code']} → 客户 {scan['match']['customer']['name']}")
    replica.jobs.transition(job["id"], "in_service")
    # A simulated fix at the customer's door: the demo machine has no GPS receiver.
    full = replica.jobs.get(job["id"])
    here = SimulatedSource([(full["customer_lat"], full["customer_lon"])]).current()
    sub_id = inspect(replica, job["id"], meter, scan["code"], here, work)
    replica.evidence.add_signature(job["id"], signature_strokes(), job["customer_name"])
    replica.submissions.submit(sub_id)
    replica.jobs.transition(job["id"], "completed")
    say(f"安检完成，待上传 {replica.outbox.counts()['pending']} 条变更")

    server.start()
    say("服务器已恢复，同步：")
    report = client.sync(progress=show_progress)
    say(f"上传文件 {report.uploaded_files} 个，推送结果 {report.pushed}，"
        f"问题 {len(replica.outbox.problems())} 个")
    print(f"\n后台报告 / back-office report:  {server.url}/office/reports/{sub_id}")
    print(f"报告列表 / all reports:         {server.url}/office/")
    print(f"冲突审核 / conflicts review:    {server.url}/office/conflicts")
    print("后台登录 / sign in as:          supervisor（或 dispatcher、admin），密码 / password"
          f" {PASSWORD}\n", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--headless", action="store_true", help="run the scripted demo")
    parser.add_argument("--exit", action="store_true", help="stop the server after the demo")
    args = parser.parse_args()
    # A new day gets fresh demo data: the generated jobs are "today's".
    work = ROOT / "var" / "demo" / datetime.now(LOCAL_ZONE).date().isoformat()
    server = DemoServer(work / "server", args.port)
    say(f"启动同步服务器（演示数据）{server.url} …")
    server.start()
    say(f"网上营业厅 {server.url}/portal/ ：用任一演示客户的户号和手机号登录，"
        f"短信验证码写在 {server.data_dir / 'server.log'}")
    try:
        display = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        if display and not args.headless:
            say("打开平板客户端（安检员 tech01）")
            subprocess.run([sys.executable, "-m", "fieldapp.ui", "--data",
                            str(work / "tablet"), "--server", server.url, "--user", USER,
                            "--password", PASSWORD], cwd=ROOT, check=False,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
        else:
            scripted(server, work)
            if not args.exit:
                print("服务器继续运行，按 Ctrl+C 停止 / press Ctrl+C to stop", flush=True)
                server.proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()

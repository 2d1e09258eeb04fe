"""What a customer asks for online — 报修, 报装, 过户, an inspection appointment — becomes a
job in the dispatch center; its progress is read back from that job as the office and the
technician's synced work move it, and the customer rates it when it is done.

    details, photos, due = check(kind, form, files, customer, today)   # or PortalError
    request_id = submit(conn, blobs, clock, customer, kind, details, photos, due, now)
    progress(conn, customer_id, request_id)       # 审核中 → 待上门 → 服务中 → 已完成
    rate(conn, customer_id, request_id, 5, "师傅很细心", now)

Everything the customer typed and every photo is checked before anything is stored; one
request is one write transaction (its photos, the job, the request row), so a failure
leaves nothing half-made.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from fieldapp.ids import new_id
from fieldapp.local_time import LOCAL_ZONE
from sync_server.clock import ServerClock
from sync_server.errors import ApiError
from sync_server.portal.access import PortalError
from sync_server.portal.payments import PORTAL
from sync_server.portal.uploads import BadUpload, Photo, check_photo
from sync_server.services import dispatch
from sync_server.services.phones import phone_digits
from sync_server.storage.blobs import BlobStore
from sync_server.storage.db import Connection


@dataclass(frozen=True)
class Kind:
    name: str  # as the customer reads it
    job_kind: str
    photos: tuple[tuple[str, str, bool], ...] = ()  # (role, label, required)


KINDS = {
    "repair": Kind("报修", "repair", (("fault", "故障照片", False),)),
    "installation": Kind("报装", "installation"),
    "transfer": Kind("过户", "meter_reading", (("id_card", "新户主身份证照片", True),
                                              ("deed", "房产证或租赁合同照片", True))),
    "inspection": Kind("预约安检", "inspection"),
}
SLOTS = {"am": ("上午 9:00–12:00", 9), "pm": ("下午 14:00–17:00", 14)}
BOOK_DAYS = 30  # how far ahead a visit can be booked
STEPS = ("审核中", "待上门", "服务中", "已完成")
STEP_OF = {"pending": 0, "dispatched": 1, "accepted": 1, "en_route": 1, "in_service": 2,
           "completed": 3, "followed_up": 3,
           # handed back: to be sent out again; on hold: still being seen to
           "returned": 1, "suspended": 2}
MOVABLE = ("pending", "dispatched", "accepted")  # not yet on the way
PER_DAY = 5  # requests a customer may submit in 24 hours: each one sends someone out
URGENT_WORDS = ("漏气", "燃气味", "煤气味", "闻到气味")
def check(kind: str, form: dict[str, str], files: dict[str, bytes], customer: dict[str, Any],
          today: date) -> tuple[dict[str, str], list[Photo], str]:
    """The request's details, its photos and the visit time; every problem named at once."""
    spec = KINDS.get(kind)
    if spec is None:
        raise PortalError("请选择要办理的业务", 404, "unknown_kind")
    problems: list[str] = []
    details: dict[str, str] = {}
    text = form.get("description", "").strip()
    if kind in ("repair", "installation"):
        if not text:
            problems.append("请描述" + ("故障情况" if kind == "repair" else "要安装的燃气设备"))
        elif len(text) > 500:
            problems.append("描述不能超过 500 字")
        details["description"] = text
    if kind == "installation":
        address = form.get("address", "").strip() or str(customer.get("address") or "")
        if len(address) > 200:
            problems.append("地址不能超过 200 字")
        details["address"] = address
    if kind == "transfer":
        name = form.get("new_owner", "").strip()
        if not 2 <= len(name) <= 30:
            problems.append("请填写新户主姓名（2–30 字）")
        phone = phone_digits(form.get("new_phone", ""))
        if not re.fullmatch(r"1\d{10}", phone):
            problems.append("新户主手机号应为 11 位数字")
        details.update(new_owner=name, new_phone=phone)
    contact = phone_digits(form.get("contact", "")) or phone_digits(customer.get("phone"))
    if not re.fullmatch(r"1\d{10}", contact):
        problems.append("联系电话应为 11 位手机号")
    details["contact"] = contact
    due, problem = visit(form.get("day", ""), form.get("slot", ""), today)
    if problem:
        problems.append(problem)
    else:
        details["visit"] = due
    photos: list[Photo] = []
    for role, label, required in spec.photos:
        data = files.get(role, b"")
        if not data and not required:
            continue
        try:
            photos.append(check_photo(role, label, data))
        except BadUpload as exc:
            problems.append(str(exc))
    if problems:
        raise PortalError("；".join(problems), 422, "invalid_request")
    return details, photos, due


def visit(day: str, slot: str, today: date) -> tuple[str, str | None]:
    """The visit as a local due time, or the problem with what was chosen."""
    try:
        chosen = date.fromisoformat(day.strip())
    except ValueError:
        return "", "请选择上门日期"
    if not today < chosen <= today + timedelta(days=BOOK_DAYS):
        return "", f"上门日期应在明天到 {BOOK_DAYS} 天内"
    if slot not in SLOTS:
        return "", "请选择上午或下午"
    return f"{chosen.isoformat()} {SLOTS[slot][1]:02d}:00", None


def submit(conn: Connection, blobs: BlobStore, clock: ServerClock, customer: dict[str, Any],
           kind: str, details: dict[str, str], photos: list[Photo], due: str,
           now: datetime) -> str:
    """Store the photos, make (or, for an inspection already planned, move) the job, and
    record the request; returns its id."""
    spec = KINDS[kind]
    since = (now - timedelta(days=1)).isoformat(timespec="seconds")
    if conn.execute("SELECT count(*) FROM portal_requests WHERE customer_id = ?"
                    " AND created_at > ?", [customer["id"], since]).fetchone()[0] >= PER_DAY:
        raise PortalError(f"24 小时内最多在网上提交 {PER_DAY} 项业务；急事请致电 96777", 429,
                          "too_many_requests")
    planned = None
    if kind == "inspection":
        planned = conn.execute(
            "SELECT id, due_at FROM jobs WHERE customer_id = ? AND kind = 'inspection'"
            f" AND status IN ({', '.join('?' * len(MOVABLE))}) ORDER BY due_at LIMIT 1",
            [customer["id"], *MOVABLE]).fetchone()
    if planned is not None:
        details["moved_from"] = planned["due_at"]
        move(conn, clock, planned["id"], customer["id"], due)
        job_id = planned["id"]
    else:
        job_id = dispatch.create_job(conn, PORTAL, clock, {
            "kind": spec.job_kind, "customer": customer["id"], "due_at": due,
            "priority": 2 if any(w in details.get("description", "") for w in URGENT_WORDS)
            else 3, "summary": summary(kind, details, len(photos))})
    request_id = new_id()
    conn.execute("INSERT INTO portal_requests(id, customer_id, kind, job_id, details,"
                 " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                 [request_id, customer["id"], kind, job_id,
                  json.dumps(details, ensure_ascii=False), now.isoformat(timespec="seconds")])
    for photo in photos:
        _, error = blobs.put_chunk(conn, photo.sha256, 0, len(photo.data), photo.data)
        if error:
            raise error
        conn.execute("INSERT INTO portal_uploads(request_id, customer_id, role, sha256, mime,"
                     " size, width, height, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [request_id, customer["id"], photo.role, photo.sha256, photo.mime,
                      len(photo.data), photo.width, photo.height,
                      now.isoformat(timespec="seconds")])
    return request_id


def summary(kind: str, details: dict[str, str], photos: int) -> str:
    """The job's description as the dispatcher and the technician read it."""
    contact = f"联系电话 {details['contact']}"
    if kind == "repair":
        text = f"网上报修：{details['description']}（{contact}）"
    elif kind == "installation":
        text = f"网上报装：{details['description']}；地址 {details['address']}（{contact}）"
    elif kind == "transfer":
        text = (f"网上过户：新户主 {details['new_owner']}（{details['new_phone']}），"
                f"已上传身份证及房产证/租赁合同照片，请审核后上门抄表过户（{contact}）")
    else:
        text = f"网上预约安检（{contact}）"
    if photos and kind == "repair":
        text += f"，附照片 {photos} 张"
    return text[:500]


def move(conn: Connection, clock: ServerClock, job_id: str, customer_id: str, due: str) -> None:
    """Move a planned visit of this customer's to ``due`` (local time); refused once the
    technician is on the way."""
    job = conn.execute("SELECT * FROM jobs WHERE id = ? AND customer_id = ?",
                       [job_id, customer_id]).fetchone()
    if job is None:
        raise PortalError("没有找到这次预约", 404, "unknown_job")
    if job["status"] not in MOVABLE:
        raise PortalError("安检员已出发或工单已结束，无法在线改约，请致电 96777", 409,
                          "not_movable")
    local = datetime.fromisoformat(due).replace(tzinfo=LOCAL_ZONE).isoformat(timespec="seconds")
    try:
        dispatch.write(conn, PORTAL, clock, "jobs", job_id, "update", {"due_at": local},
                       old={"due_at": job["due_at"]}, base_version=job["version"])
    except ApiError as exc:
        raise PortalError("预约正在被处理，请稍后再试", 409, "busy") from exc


def listing(conn: Connection, customer_id: str, limit: int = 50) -> list[dict[str, Any]]:
    """The customer's requests, newest first, each with its job's number and step."""
    rows = conn.execute(
        "SELECT r.*, j.number, j.status, j.due_at FROM portal_requests r"
        " LEFT JOIN jobs j ON j.id = r.job_id WHERE r.customer_id = ?"
        " ORDER BY r.created_at DESC LIMIT ?", [customer_id, limit]).fetchall()
    return [_shown(dict(r)) for r in rows]


def progress(conn: Connection, customer_id: str, request_id: str) -> dict[str, Any]:
    """One request of this customer's with its steps and the job's history; another
    customer's request is "not found", as a missing one."""
    row = conn.execute(
        "SELECT r.*, j.number, j.status, j.due_at, u.display_name AS technician"
        " FROM portal_requests r LEFT JOIN jobs j ON j.id = r.job_id"
        " LEFT JOIN users u ON u.username = j.assignee"
        " WHERE r.id = ? AND r.customer_id = ?", [request_id, customer_id]).fetchone()
    if row is None:
        raise PortalError("没有找到这项业务", 404, "unknown_request")
    out = _shown(dict(row))
    out["history"] = [dict(h) for h in conn.execute(
        "SELECT to_status, at FROM job_status_history WHERE job_id = ? ORDER BY at",
        [row["job_id"]])]
    out["photos"] = [dict(p) for p in conn.execute(
        "SELECT role, width, height FROM portal_uploads WHERE request_id = ? ORDER BY id",
        [request_id])]
    return out


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    row["details"] = json.loads(row["details"] or "{}")
    row["kind_name"] = KINDS[row["kind"]].name if row["kind"] in KINDS else row["kind"]
    row["step"] = STEP_OF.get(row.get("status") or "pending", -1)
    row["step_name"] = STEPS[row["step"]] if row["step"] >= 0 else "已取消"
    return row


def rate(conn: Connection, customer_id: str, request_id: str, stars: int, comment: str,
         now: datetime) -> None:
    """The customer's 1–5 rating of a completed request, once."""
    row = progress(conn, customer_id, request_id)
    if row["step"] != len(STEPS) - 1:
        raise PortalError("业务完成后才能评价", 409, "not_done")
    if row["rating"] is not None:
        raise PortalError("您已评价过这项业务，谢谢", 409, "rated")
    if stars not in range(1, 6):
        raise PortalError("请选择 1–5 星", 422, "bad_rating")
    if len(comment.strip()) > 200:
        raise PortalError("评价内容不能超过 200 字", 422, "bad_rating")
    conn.execute("UPDATE portal_requests SET rating = ?, rating_comment = ?, rated_at = ?"
                 " WHERE id = ?", [stars, comment.strip() or None,
                                   now.isoformat(timespec="seconds"), request_id])

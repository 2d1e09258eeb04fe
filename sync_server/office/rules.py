"""规则 and 回访: the rules with what they did lately and the messages they sent (an admin
edits a rule's condition, text and switch), and the follow-up calls they created, which close
the job as 已回访 when done."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from fieldapp.domain.roles import ADMINS, OFFICE_ROLES
from fieldapp.ids import new_id
from fieldapp.local_time import now_iso
from sync_server.deps import server_of
from sync_server.errors import ApiError
from sync_server.office.auth import check_csrf
from sync_server.office.web import (
    NotYours,
    Office,
    RowId,
    pages_router,
    render_page,
    require,
)
from sync_server.services import dispatch, rule_book, rule_conditions
from sync_server.services.districts import customers_in, district_of

router = pages_router()
EDITORS = ADMINS
CALLERS = OFFICE_ROLES
SHOWN = 50  # recent firings and messages on the page


@router.get("/rules", response_class=HTMLResponse)
def rules_page(request: Request, who: Office, failed: str | None = None,
               error: str | None = None, saved: str | None = None) -> HTMLResponse:
    with server_of(request).db.read() as conn:
        items = rule_book.all_rules(conn)
        firings = conn.execute("SELECT f.*, r.name FROM rule_firings f JOIN rules r"
                               " ON r.id = f.rule_id ORDER BY f.id DESC LIMIT ?",
                               [SHOWN]).fetchall()
        # Messages went to customers: a district's account sees its district's only.
        scope, params = (" WHERE " + customers_in("n.customer_id"),
                         [district_of(who)]) if district_of(who) else ("", [])
        messages = conn.execute(f"SELECT n.* FROM notifications n{scope} ORDER BY n.id DESC"
                                " LIMIT ?", [*params, SHOWN]).fetchall()
    return render_page(request, who, "rules.html", {
        "items": items, "firings": firings, "messages": messages, "failed": failed,
        "error": error, "saved": saved, "events": rule_book.EVENTS, "actions": rule_book.ACTIONS,
        "can_edit": who.role in EDITORS, "default_limit": rule_book.DAILY_LIMIT,
        "describe": lambda event, condition: rule_conditions.describe(
            rule_book.EVENTS.get(event, ("", {}))[1], condition),
        "server_notifier": server_of(request).notifier.name})


# A task's customer: its own, else its job's (a task names at least one of them).
TASK_DISTRICT = ("(SELECT c.district FROM customers c WHERE c.id ="
                 " coalesce(t.customer_id, (SELECT j2.customer_id FROM jobs j2"
                 "  WHERE j2.id = t.job_id)))")


@router.get("/tasks", response_class=HTMLResponse)
def tasks_page(request: Request, who: Office, error: str | None = None) -> HTMLResponse:
    scope, params = (f" AND {TASK_DISTRICT} = ?", [district_of(who)]) if district_of(who) \
        else ("", [])
    with server_of(request).db.read() as conn:
        open_tasks = conn.execute(
            "SELECT t.*, c.name, c.phone, j.number, j.status FROM tasks t"
            " LEFT JOIN customers c ON c.id = t.customer_id LEFT JOIN jobs j ON j.id = t.job_id"
            " WHERE t.done_at IS NULL" + scope + " ORDER BY t.due_at", params).fetchall()
        done = conn.execute("SELECT t.*, j.number FROM tasks t LEFT JOIN jobs j"
                            " ON j.id = t.job_id WHERE t.done_at IS NOT NULL" + scope
                            + " ORDER BY t.done_at DESC LIMIT ?", [*params, SHOWN]).fetchall()
    return render_page(request, who, "tasks.html", {
        "open_tasks": open_tasks, "done": done, "error": error})


@router.post("/tasks/{task_id}/done")
def task_done(request: Request, who: Office, task_id: RowId,
              outcome: Annotated[str, Form(max_length=500)] = "",
              csrf: Annotated[str, Form(max_length=128)] = "") -> RedirectResponse:
    """A follow-up call made: the task is closed with what the customer said, and its job
    moves to 已回访 (the tablets see it at their next sync)."""
    check_csrf(request, csrf)
    require(who, CALLERS, "回访由调度员、主管或管理员登记")
    if not outcome.strip():
        return RedirectResponse(f"/office/tasks?error={quote('请填写回访结果')}#task-{task_id}",
                                status_code=303)
    server = server_of(request)
    scope, params = (f" AND {TASK_DISTRICT} = ?", [district_of(who)]) if district_of(who) \
        else ("", [])
    try:
        with server.db.write() as conn:
            task = conn.execute(f"SELECT * FROM tasks t WHERE t.id = ?{scope}",
                                [task_id, *params]).fetchone()
            if task is None:  # another district's task answers as an unknown one
                raise NotYours(404, "unknown_task", f"没有回访任务 #{task_id}")
            if task["done_at"]:
                raise ApiError(409, "task_done", f"回访任务 #{task_id} 已由 {task['done_by']}"
                               " 完成")
            conn.execute("UPDATE tasks SET done_at = ?, done_by = ?, outcome = ? WHERE id = ?",
                         [datetime.now(UTC).isoformat(timespec="seconds"), who.username,
                          outcome.strip(), task_id])
            job = conn.execute("SELECT * FROM jobs WHERE id = ?",
                               [task["job_id"] or ""]).fetchone()
            if job is not None and job["status"] == "completed":
                dispatch.write(conn, who, server.clock, "jobs", job["id"], "update",
                               {"status": "followed_up"}, old={"status": "completed"},
                               base_version=job["version"])
                dispatch.write(conn, who, server.clock, "job_status_history", new_id(),
                               "insert", {
                                   "job_id": job["id"], "customer_id": job["customer_id"],
                                   "from_status": "completed", "to_status": "followed_up",
                                   "at": now_iso(), "by_user": who.username,
                                   "device_id": who.device_id})
    except NotYours:
        raise
    except ApiError as exc:
        return RedirectResponse(f"/office/tasks?error={quote(exc.message)}", status_code=303)
    return RedirectResponse("/office/tasks", status_code=303)


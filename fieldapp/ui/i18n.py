"""Every user-visible string of the tablet UI, in Chinese (default) and English.

    tr("today.summary", date="11月24日", n=8)

The language comes from ``--lang``, else ``FIELDAPP_LANG``, else the stored setting, else
Chinese. Keeping both languages side by side in one table makes a missing translation
visible in review and lets a test check that no key lacks one.
"""

from __future__ import annotations

import os
from typing import Any

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

# key: (zh, en)
CATALOGUE: dict[str, tuple[str, str]] = {
    # -- application and top bar ------------------------------------------------------------
    "app.title": ("FieldApp 燃气外勤", "FieldApp Gas Field Service"),
    "top.user": ("{name} · {district}", "{name} · {district}"),
    "top.user_no_district": ("{name}", "{name}"),
    "top.online": ("在线", "Online"),
    "top.offline": ("离线", "Offline"),
    "top.syncing": ("同步中", "Syncing"),
    "top.unknown": ("未连接", "Not connected"),
    "top.auth": ("需重新登录", "Login needed"),
    "top.last_sync": ("上次同步 {time}", "Last sync {time}"),
    "top.never_synced": ("尚未同步", "Never synced"),
    "top.pending": ("待上传 {n}", "To upload {n}"),
    "top.problems": ("{n} 条被拒/冲突", "{n} rejected/conflicts"),
    "top.sync": ("同步", "Sync"),
    "top.switch_language": ("EN", "中文"),
    "progress.upload": ("上传照片与签名 {done}/{total} · {mb_done:.1f}/{mb_total:.1f} MB",
                        "Uploading files {done}/{total} · {mb_done:.1f}/{mb_total:.1f} MB"),
    "progress.push": ("上传记录 {done}/{total}", "Sending records {done}/{total}"),
    "progress.pull": ("下载更新 {done}", "Receiving updates {done}"),
    "progress.start": ("正在连接服务器…", "Connecting to the server…"),
    "sync.done": ("同步完成：上传 {files} 个文件、{pushed} 条记录，收到 {pulled} 条更新",
                  "Sync done: sent {files} files and {pushed} records, received {pulled} updates"),
    "sync.offline": ("服务器暂时连不上，继续离线工作，数据都保存在本机",
                     "The server cannot be reached; keep working offline, everything is saved"),
    "sync.jobs_left": ("{n} 个工单已改派给他人，已从本机移除", "{n} jobs were reassigned and left this tablet"),
    "sync.work_kept": ("{n} 条记录已改派，但本机有未被接受的工作，已保留待主管处理",
                       "{n} reassigned records keep work the server did not take; kept for the supervisor"),
    "sync.busy": ("正在同步，请稍候", "A sync is already running"),
    # -- login --------------------------------------------------------------------------------
    "login.title": ("登录", "Log in"),
    "login.intro": ("首次使用需联网登录一次，之后可离线工作。",
                    "Log in online once; after that the tablet works offline."),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.cancel": ("退出", "Quit"),
    "login.busy": ("正在登录…", "Logging in…"),
    "login.missing": ("请输入用户名和密码", "Enter your username and password"),
    "login.welcome": ("欢迎，{name}", "Welcome, {name}"),
    # -- today --------------------------------------------------------------------------------
    "today.title": ("今日工单", "Today's jobs"),
    "today.summary": ("{date} · 共 {n} 单", "{date} · {n} jobs"),
    "today.empty": ("今天没有工单，点“同步”获取最新派单", "No jobs today; tap Sync for new ones"),
    "today.overdue": ("逾期", "Overdue"),
    "today.scan": ("扫码找客户", "Scan to find customer"),
    "today.code_placeholder": ("手动输入表号或条码", "Type a meter number or barcode"),
    "today.find": ("查找", "Find"),
    "today.no_open_job": ("{name} 当前没有未完成的工单", "{name} has no open job"),
    "today.unknown_code": ("条码 {code} 不属于本机任何燃气表，可核对后手动输入",
                           "Code {code} matches no meter on this tablet; check and type it"),
    "today.map": ("今日地图", "Today's map"),
    "today.map_saved": ("地图已保存：{path}（可离线打开）", "Map saved: {path} (opens offline)"),
    "today.pick_image": ("选择表码照片", "Choose a barcode photo"),
    "today.image_filter": ("图片 (*.png *.jpg *.jpeg *.webp *.bmp)",
                           "Images (*.png *.jpg *.jpeg *.webp *.bmp)"),
    # -- job kinds, priorities, statuses, moves ----------------------------------------------
    "kind.inspection": ("安检", "Inspection"),
    "kind.repair": ("维修", "Repair"),
    "kind.meter_reading": ("抄表", "Meter reading"),
    "kind.rectification_check": ("整改复查", "Rectification check"),
    "kind.installation": ("安装", "Installation"),
    "priority.1": ("紧急", "Emergency"),
    "priority.2": ("加急", "Urgent"),
    "priority.3": ("普通", "Normal"),
    "priority.4": ("低", "Low"),
    "status.pending": ("待受理", "Pending"),
    "status.dispatched": ("已派单", "Dispatched"),
    "status.accepted": ("已接单", "Accepted"),
    "status.en_route": ("在途", "En route"),
    "status.in_service": ("服务中", "In service"),
    "status.completed": ("已完成", "Completed"),
    "status.followed_up": ("已回访", "Followed up"),
    "status.cancelled": ("已取消", "Cancelled"),
    "move.accepted": ("接单", "Accept"),
    "move.en_route": ("出发", "Set off"),
    "move.in_service": ("开始服务", "Start service"),
    "move.completed": ("完成", "Complete"),
    "move.dispatched": ("派单", "Dispatch"),
    "move.cancelled": ("取消工单", "Cancel job"),
    "move.followed_up": ("已回访", "Followed up"),
    "move.done": ("工单 {number} 已{status}", "Job {number}: {status}"),
    # -- job page -----------------------------------------------------------------------------
    "job.back": ("‹ 今日工单", "‹ Today"),
    "job.due": ("预约 {time}", "Due {time}"),
    "job.tab.customer": ("客户360", "Customer 360"),
    "job.tab.checklist": ("安检表 {done}/{total}", "Checklist {done}/{total}"),
    "job.tab.evidence": ("照片与扫码", "Photos and scan"),
    "job.tab.signature": ("签名", "Signature"),
    "job.tab.signature_done": ("签名 ✓", "Signature ✓"),
    "job.gone": ("该工单已不在本机（可能已被调度收回）", "This job is no longer on the tablet"),
    "job.customer_title": ("客户档案", "Customer record"),
    "job.close": ("关闭", "Close"),
    # -- customer 360 ---------------------------------------------------------------------------
    "customer.basic": ("基本信息", "Customer"),
    "customer.account": ("户号", "Account"),
    "customer.name": ("姓名", "Name"),
    "customer.phone": ("电话", "Phone"),
    "customer.address": ("地址", "Address"),
    "customer.district": ("片区", "District"),
    "customer.kind": ("类型", "Type"),
    "customer.kind.residential": ("居民", "Residential"),
    "customer.kind.commercial": ("工商业", "Commercial"),
    "customer.household": ("人口", "Household size"),
    "customer.household_n": ("{n} 人", "{n}"),
    "customer.tags": ("标签", "Tags"),
    "customer.no_tags": ("无", "None"),
    "customer.meters": ("燃气表", "Meters"),
    "customer.meter_line": ("表号 {serial} · {model} · {location}",
                            "Meter {serial} · {model} · {location}"),
    "customer.meter_barcode": ("条码 {barcode} · 安装于 {installed}",
                               "Barcode {barcode} · installed {installed}"),
    "customer.last_reading": ("最近读数 {value} m³（{date}）", "Last reading {value} m³ ({date})"),
    "customer.reading_value": ("{value:.1f} m³", "{value:.1f} m³"),
    "customer.readings": ("近期读数", "Recent readings"),
    "customer.contract": ("合同", "Contract"),
    "customer.contract_line": ("{number} · {tariff} · 签订 {signed} · {status}",
                               "{number} · {tariff} · signed {signed} · {status}"),
    "customer.contract.active": ("有效", "active"),
    "customer.payments": ("缴费记录", "Payments"),
    "customer.amount": ("¥{amount:.2f}", "¥{amount:.2f}"),
    "customer.jobs": ("历史工单", "Past jobs"),
    "customer.inspections": ("历史安检", "Past inspections"),
    "customer.failed_items": ("不合格 {n} 项", "{n} failed"),
    "customer.photos": ("照片 {n} 张", "{n} photos"),
    "customer.submission.draft": ("填写中", "draft"),
    "customer.submission.submitted": ("已提交", "submitted"),
    "customer.none": ("暂无记录", "Nothing yet"),
    # -- checklist ----------------------------------------------------------------------------
    "checklist.answer.pass": ("合格", "Pass"),
    "checklist.answer.fail": ("不合格", "Fail"),
    "checklist.answer.na": ("不适用", "N/A"),
    "checklist.progress": ("已检查 {done}/{total} 项", "{done} of {total} items checked"),
    "checklist.failed": ("不合格 {n} 项", "{n} failed"),
    "checklist.submit": ("提交安检表", "Submit checklist"),
    "checklist.submitted": ("安检表已于 {time} 提交", "Checklist submitted at {time}"),
    "checklist.start_service_first": ("请先点击「开始服务」，再填写安检表",
                                      "Tap Start service before filling the checklist"),
    "checklist.submitted_ok": ("安检表已提交", "Checklist submitted"),
    "checklist.note_placeholder": ("不合格说明（必填）：位置、情况、已告知用户的措施",
                                   "Why it failed (required): where, what, advice given"),
    "checklist.hazard": ("{level}", "{level}"),
    "checklist.problem.required": ("未作答", "not answered"),
    "checklist.problem.note_required": ("不合格项需填写说明", "a failed item needs a note"),
    "checklist.problem.invalid_choice": ("答案无效", "invalid answer"),
    "checklist.problem.unknown_question": ("表单中没有此项", "not in this form"),
    "checklist.problems_title": ("还有 {n} 项需要处理", "{n} items still need attention"),
    # -- evidence -------------------------------------------------------------------------------
    "evidence.photos": ("现场照片", "Photos"),
    "evidence.add_photo": ("从文件添加照片", "Add photo from file"),
    "evidence.photo_count": ("共 {n} 张", "{n} photos"),
    "evidence.no_photos": ("还没有照片", "No photos yet"),
    "evidence.photo_added": ("照片已保存", "Photo saved"),
    "evidence.photo_added_no_gps": ("照片已保存（无GPS定位）", "Photo saved (no GPS fix)"),
    "evidence.gps_fix": ("GPS {lat:.5f}, {lon:.5f} ±{accuracy}米{simulated}",
                         "GPS {lat:.5f}, {lon:.5f} ±{accuracy} m{simulated}"),
    "evidence.gps_none": ("无GPS定位", "No GPS fix"),
    "evidence.gps_unknown_accuracy": ("?", "?"),
    "evidence.gps_simulated": ("（模拟定位）", " (simulated)"),
    "evidence.pick_photo": ("选择照片", "Choose a photo"),
    "evidence.scan": ("表码核对", "Meter check"),
    "evidence.scan_image": ("从图片扫描表码", "Scan barcode from image"),
    "evidence.code_placeholder": ("或手动输入表号/条码", "or type the meter number"),
    "evidence.record_code": ("核对", "Check"),
    "evidence.match_ok": ("✓ 表码 {code} 属于本工单客户 {name}", "✓ {code} belongs to {name}"),
    "evidence.match_other": ("✗ 表码 {code} 属于其他客户 {name}，请核实地址",
                             "✗ {code} belongs to another customer, {name}; check the address"),
    "evidence.match_none": ("✗ 表码 {code} 不在本机档案中，已记录待核实",
                            "✗ {code} is not on this tablet; recorded for review"),
    "evidence.scans": ("扫码记录", "Scans"),
    "evidence.scan_line": ("{time}  {code}  {source}  {result}", "{time}  {code}  {source}  {result}"),
    "evidence.source.image": ("图片", "image"),
    "evidence.source.manual": ("手动", "manual"),
    "evidence.source.camera": ("相机", "camera"),
    "evidence.result.match": ("相符", "matches"),
    "evidence.result.other": ("不符", "other customer"),
    "evidence.result.unknown": ("未知", "unknown"),
    # -- signature ------------------------------------------------------------------------------
    "signature.hint": ("请客户在框内签名", "Customer signs inside the box"),
    "signature.clear": ("清除", "Clear"),
    "signature.undo": ("撤销", "Undo"),
    "signature.signer": ("签名人", "Signer"),
    "signature.signer_placeholder": ("签名人姓名", "Signer's name"),
    "signature.confirm": ("确认签名", "Confirm signature"),
    "signature.saved": ("签名已保存", "Signature saved"),
    "signature.saved_by": ("{name} 已于 {time} 签名", "Signed by {name} at {time}"),
    "signature.again": ("重新签名", "Sign again"),
    "signature.intro": ("本人确认上述安检内容属实，已知悉安全用气要求。",
                        "I confirm the inspection above and have been told how to use gas safely."),
    # -- errors (codes from fieldapp.errors and the server) -----------------------------------
    "error.illegal_transition": ("工单不能从“{current}”改为“{target}”",
                                 "A job cannot go from {current} to {target}"),
    "error.unknown_status": ("未知的工单状态", "Unknown job status"),
    "error.completion_requirements": ("还不能完成工单：缺少{missing}",
                                      "The job cannot be completed yet: missing {missing}"),
    "error.missing.checklist": ("已提交的安检表", "a submitted checklist"),
    "error.missing.signature": ("客户签名", "the customer's signature"),
    "error.list_sep": ("、", ", "),
    "error.incomplete_form": ("安检表还有 {n} 项未完成，请补全后再提交",
                              "{n} checklist items are incomplete; finish them and submit again"),
    "error.submission_closed": ("安检表已提交，不能再修改", "The checklist is submitted and closed"),
    "error.not_assigned": ("工单 {number} 不是派给您的，不能操作", "Job {number} is not assigned to you"),
    "error.job_not_in_service": ("请先点击「开始服务」，再填写安检表",
                                 "Tap Start service before filling the checklist"),
    "error.not_an_image": ("这个文件不是可读取的图片", "That file is not a readable image"),
    "error.unsupported_image": ("不支持 {format} 格式，请用 JPG 或 PNG",
                                "{format} is not supported; use JPG or PNG"),
    "error.file_not_found": ("找不到文件", "The file was not found"),
    "error.image_too_large": ("图片像素过大，无法处理，请用相机正常拍摄的照片",
                              "The image has too many pixels; use a normal camera photo"),
    "error.file_too_large": ("照片超过 25 MB，请压缩后再添加", "The photo is over 25 MB"),
    "error.no_barcode": ("图片中没有识别到条码，请重拍或手动输入",
                         "No barcode found in the image; retake it or type the code"),
    "error.empty_signature": ("请先签名", "Please sign first"),
    "error.bad_stroke": ("签名数据有误，请清除后重签", "The signature is damaged; clear and sign again"),
    "error.signer_name_required": ("请填写签名人姓名", "Enter the signer's name"),
    "error.not_logged_in": ("请先联网登录一次", "Log in online once first"),
    "error.other_user_pending": ("{username} 的数据尚未同步，暂不能换人登录",
                                 "{username}'s work is not synced yet; cannot switch user"),
    "error.unknown_record": ("记录不存在（可能已被收回）", "The record no longer exists"),
    "error.unknown_form": ("本机没有这份表单", "This form is not on the tablet"),
    "error.missing_blob": ("本机缺少该文件", "The file is missing on this tablet"),
    "error.server_unreachable": ("服务器连不上，已离线工作，数据保存在本机",
                                 "The server cannot be reached; working offline"),
    "error.bad_credentials": ("用户名或密码错误", "Wrong username or password"),
    "error.token_expired": ("登录已过期，请重新登录", "Your login has expired; log in again"),
    "error.invalid_token": ("登录信息无效，请重新登录", "Your login is invalid; log in again"),
    "error.missing_token": ("请重新登录", "Please log in again"),
    "error.device_revoked": ("本设备已被停用，请联系管理员",
                             "This tablet was revoked; contact the administrator"),
    "error.device_mismatch": ("设备信息不符，请重新登录", "Device mismatch; log in again"),
    "error.user_disabled": ("该账号已停用", "This account is disabled"),
    "error.client_outdated": ("应用版本过旧，请更新后再同步", "This app is outdated; update it"),
    "error.hash_mismatch": ("文件上传校验失败，下次同步会重传",
                            "An upload failed its check; it will be resent"),
    "error.bad_hash": ("文件校验值无效", "Invalid file checksum"),
    "error.wrong_offset": ("文件续传位置不符，下次同步会重试",
                           "Upload resume position mismatch; will retry"),
    "error.chunk_past_end": ("文件上传数据有误，下次同步会重试", "Upload data error; will retry"),
    "error.attachment_too_large": ("文件过大，服务器拒收", "The server refused a file as too big"),
    "error.malformed_request": ("服务器拒收了请求（{message}）",
                                "The server refused the request ({message})"),
    "error.incomplete_push_result": ("服务器未完整答复，下次同步会重试",
                                     "The server answered partly; will retry"),
    "error.bad_hlc": ("设备时钟异常，请检查时间设置", "The device clock looks wrong"),
    "error.internal_error": ("服务器出错，稍后会自动重试", "Server error; will retry later"),
    "error.server_generic": ("服务器拒绝了请求（{code}）", "The server refused the request ({code})"),
    "error.generic": ("操作失败（{code}）", "The action failed ({code})"),
    "error.unexpected": ("出现意外错误，已记录日志，数据未丢失",
                         "Something unexpected happened; it was logged and no data was lost"),
    # -- dates ----------------------------------------------------------------------------------
    "date.day": ("{month_name}月{day}日 {weekday}", "{weekday} {day} {month_name}"),
    "date.weekdays": ("周一,周二,周三,周四,周五,周六,周日", "Mon,Tue,Wed,Thu,Fri,Sat,Sun"),
    "date.months": ("1,2,3,4,5,6,7,8,9,10,11,12", "Jan,Feb,Mar,Apr,May,Jun,Jul,Aug,Sep,Oct,Nov,Dec"),
}

_language = DEFAULT_LANGUAGE


def resolve_language(cli: str | None = None, stored: str | None = None) -> str:
    """The language to start in: command line, then environment, then stored, then Chinese."""
    for choice in (cli, os.environ.get("FIELDAPP_LANG"), stored):
        if choice and choice.lower()[:2] in LANGUAGES:
            return choice.lower()[:2]
    return DEFAULT_LANGUAGE


def set_language(lang: str) -> None:
    global _language
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}")
    _language = lang


def language() -> str:
    return _language


def tr(key: str, **params: Any) -> str:
    """The text for ``key`` in the current language; a missing key shows itself, never crashes."""
    entry = CATALOGUE.get(key)
    if entry is None:
        return key
    text = entry[LANGUAGES.index(_language)]
    try:
        return text.format(**params) if params else text
    except (KeyError, IndexError, ValueError):
        return text


def pick(texts: dict[str, str] | str | None) -> str:
    """One language out of a data value like a form label ``{"zh": …, "en": …}``."""
    if texts is None:
        return ""
    if isinstance(texts, str):
        return texts
    return texts.get(_language) or texts.get(DEFAULT_LANGUAGE) or next(iter(texts.values()), "")

"""The only door from widgets into the core: small keyword-only functions, one module per area.

Reads return plain data; writes return the :class:`~fieldapp.changes.Changes` they made (or a
small result carrying them) so ``AppContext`` can announce them to every screen. Widgets run
them through ``AppContext.run`` on the one database worker (``taskman``), which turns a
:class:`~fieldapp.errors.FieldAppError` into a translated message; the slow ones in ``slow``
are :class:`~fieldapp.ui.taskman.SlowOp` started with ``AppContext.slow``. ``network`` runs
on the sync thread and reaches the replica only through the worker.

    session   who is signed in, unlock, sync status, settings, GPS
    jobs      today's list, a job, its moves, log, customer and parts
    forms     the job's form, answers, submitting, signatures
    evidence  photos and scans (the quick halves), whose meter a code is
    kb        the knowledge base
    problems  what the server would not take (problem_data: how it is shown)
    slow      photo, barcode image, PDF and map, off the UI thread and the database
    network   sync and login
    valves    关阀分析: the valves that shut off a leak, and each one closed
"""

from fieldapp.ui.ops import slow
from fieldapp.ui.ops.evidence import (
    ScanOutcome,
    ScanRow,
    blob_bytes,
    delete_photo,
    job_photos,
    job_scans,
    record_camera_scan,
    record_code,
    scan_form_barcode,
)
from fieldapp.ui.ops.forms import (
    add_signature,
    answer_form,
    form_screen,
    job_signatures,
    remove_form_instance,
    signature_status,
    submit_form,
)
from fieldapp.ui.ops.jobs import (
    add_interaction,
    completion_summary,
    customer_360,
    hand_back_job,
    hold_moves,
    hold_reason,
    job,
    job_log,
    next_moves,
    part_requests,
    parts_catalogue,
    request_part,
    resume_job,
    search_customers,
    suspend_job,
    today_jobs,
    toggle_customer_tag,
    transition_job,
    unacknowledged_emergencies,
)
from fieldapp.ui.ops.kb import kb_article, kb_categories, kb_in_category, kb_search
from fieldapp.ui.ops.network import login, sync
from fieldapp.ui.ops.problem_data import FieldConflict, ShownValue, SyncProblem
from fieldapp.ui.ops.problems import job_sync_state, sync_problems
from fieldapp.ui.ops.session import (
    GPS_ENV,
    GPS_KEY,
    LANGUAGE_KEY,
    LAST_SYNC_KEY,
    SyncStatus,
    erase_tablet,
    has_login,
    needs_unlock,
    position_source,
    save_setting,
    session,
    setting,
    sync_status,
)
from fieldapp.ui.ops.valves import (
    closed_valves,
    has_network,
    record_valve_closed,
    valve_isolation,
)

__all__ = [
    "GPS_ENV", "GPS_KEY", "LANGUAGE_KEY", "LAST_SYNC_KEY",
    "FieldConflict", "ScanOutcome", "ScanRow", "ShownValue", "SyncProblem", "SyncStatus",
    "add_interaction", "add_signature", "answer_form", "blob_bytes", "completion_summary",
    "customer_360", "delete_photo", "erase_tablet", "form_screen", "has_login", "job",
    "job_log", "job_photos", "job_scans", "job_signatures", "job_sync_state", "kb_article",
    "kb_categories", "kb_in_category", "kb_search", "login", "needs_unlock", "next_moves",
    "part_requests", "parts_catalogue", "position_source", "record_camera_scan", "record_code",
    "remove_form_instance", "request_part", "save_setting", "scan_form_barcode",
    "search_customers", "session", "setting", "signature_status", "slow", "submit_form",
    "sync", "sync_problems", "sync_status", "today_jobs", "transition_job",
    "unacknowledged_emergencies", "hand_back_job", "hold_moves", "hold_reason", "resume_job",
    "suspend_job", "toggle_customer_tag", "closed_valves", "has_network",
    "record_valve_closed", "valve_isolation",
]

"""The one place where error codes from the core and the server become sentences.

The core raises :class:`~fieldapp.errors.FieldAppError` with a ``code`` and ``params``; this
module picks the catalogue entry and fills in the parameters in the user's language. Screens
never format an error themselves: they pass it to ``AppContext.show_error``.
"""

from __future__ import annotations

import logging
from typing import Any

from fieldapp.errors import FieldAppError, ServerRejected
from fieldapp.ui.i18n import CATALOGUE, pick, tr

log = logging.getLogger("fieldapp.ui")


def _status(value: Any) -> str:
    return tr(f"status.{value}")


def _missing(params: dict[str, Any]) -> dict[str, Any]:
    parts = [tr(f"error.missing.{m}") for m in params.get("missing", [])]
    return {"missing": tr("error.list_sep").join(parts)}


def _transition(params: dict[str, Any]) -> dict[str, Any]:
    return {"current": _status(params.get("current")), "target": _status(params.get("target"))}


def _incomplete(params: dict[str, Any]) -> dict[str, Any]:
    return {"n": len(params.get("problems", []))}


def _constraint(params: dict[str, Any]) -> dict[str, Any]:
    """The form's own words for the constraint, when it has them."""
    said = pick(params.get("constraint_message"))
    return {"rule": said or tr("error.constraint_default")}


# Codes whose parameters need translating before they fit the sentence.
_PARAM_MAKERS = {
    "completion_requirements": _missing,
    "illegal_transition": _transition,
    "incomplete_form": _incomplete,
    "constraint": _constraint,
}


def describe(error: BaseException) -> str:
    """A sentence for the technician; unexpected exceptions get a calm generic one."""
    if not isinstance(error, FieldAppError):
        log.error("unexpected error", exc_info=error)
        return tr("error.unexpected")
    params = dict(error.params)
    maker = _PARAM_MAKERS.get(error.code)
    if maker:
        params.update(maker(error.params))
    params.setdefault("message", str(error))
    key = f"error.{error.code}"
    if key in CATALOGUE:
        return tr(key, **params)
    if isinstance(error, ServerRejected):
        return tr("error.server_generic", code=error.code)
    return tr("error.generic", code=error.code)


def describe_problem(code: str) -> str:
    """One checklist item's problem (``required``, ``note_required``…) as a short phrase."""
    key = f"checklist.problem.{code}"
    return tr(key) if key in CATALOGUE else code


def describe_rejection(reason: str | None) -> str:
    """Why the server refused a change (a code from ``sync_server/sync/merge.py``), in words.

    ``invalid_answer:<problem>`` carries the answer's problem after the colon. A code this
    version does not know is still shown, named, so that no refusal passes unexplained.
    """
    if not reason:
        return tr("problems.reason_missing")
    code, _, problem = reason.partition(":")
    if code == "invalid_answer":
        return tr("reason.invalid_answer", problem=_answer_problem(problem or reason))
    key = f"reason.{reason}"
    return tr(key) if key in CATALOGUE else tr("problems.reason_generic", code=reason)


def _answer_problem(code: str) -> str:
    for key in (f"answer_problem.{code}", f"checklist.problem.{code}"):
        if key in CATALOGUE:
            return tr(key)
    return tr("problems.answer_generic", code=code)


_VERDICT_LEVEL = {"match": "success", "other": "error", "unknown": "error", "found": "info"}


def scan_verdict(code: str, verdict: str, customer_name: str) -> tuple[str, str]:
    """Whose meter a scanned or typed code is, in words, with the level to show it at."""
    key = {"match": "evidence.match_ok", "other": "evidence.match_other"}.get(
        verdict, "evidence.match_none")
    return tr(key, code=code, name=customer_name), _VERDICT_LEVEL[verdict]

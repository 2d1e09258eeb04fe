"""Filling any form definition on the tablet: the job's submission, its prefilled hidden
answers, and a screen model the generic form view draws (no Qt here).

    sub_id = replica.forms.start(job_id)              # the form for the job's kind
    screen = replica.forms.screen(sub_id)             # relevant questions, in order
    replica.forms.answer(sub_id, "parts[0].quantity", 2)
    replica.forms.submit(sub_id)                      # refused with every problem, or closed

Answers are stored one row per question path (``parts[1].quantity``) exactly as the
checklist's are, so saving, syncing, server validation, hazards and the PDFs work for
every form the same way. A repeat instance exists once one of its questions is answered;
until then the view asks for ``extra`` empty instances to show.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fieldapp.changes import Changes
from fieldapp.domain import form_choice
from fieldapp.domain.kinds import FORM_FOR_KIND
from fieldapp.errors import InvalidInput
from fieldapp.forms.definition import ATTACHED_TYPES, Question, shown_text
from fieldapp.forms.loader import as_definition
from fieldapp.forms.paths import nest
from fieldapp.forms.state import FormState
from fieldapp.replica.form_start import dynamic_defaults, prefill
from fieldapp.replica.submissions import SIGNED
from fieldapp.reports import documents

if TYPE_CHECKING:
    from fieldapp.replica import Replica

# The form each job kind is filled on.
HIDDEN = frozenset({"hidden", "calculate"})
_INSTANCE = re.compile(r"(.+)\[(\d+)\]")  # a repeat instance's path: appliances[1]


@dataclass
class Field:
    """One question as the view shows it."""

    path: str
    key: str
    type: str
    label: str
    depth: int  # nesting in groups and repeats
    required: bool = False
    hint: str = ""
    unit: str = ""
    value: Any = None
    note: str | None = None
    choices: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    text: str = ""  # a note's text, or a read-only calculation's result
    previous: Any = None  # a meter reading's previous value
    hazard_level: str | None = None
    count: int = 0  # a repeat's instances, or a photo question's photos
    can_add: bool = False  # a repeat that may take one more instance
    wanted: int | None = None  # a repeat_count: exactly this many instances
    can_remove: bool = False  # a repeat instance the technician may take out
    problem: str | None = None  # a problem code with the value as it stands
    kb_query: str | None = None  # what to look up in the knowledge base for this answer


@dataclass
class FormScreen:
    submission_id: str
    title: str
    state: str  # draft / submitted
    fields: list[Field]
    answered: int
    total: int
    failed: int = 0  # pass/fail items answered "fail"
    submitted_at: str | None = None
    hazards: list[dict[str, Any]] = field(default_factory=list)  # issued at submission
    documents: list[str] = field(default_factory=list)  # "report", "notice"
    last_answered: str | None = None  # where the technician left off


class Forms:
    def __init__(self, replica: Replica) -> None:
        self.r = replica

    def form_code(self, job_id: str) -> str:
        """The form a new submission of the job uses: the utility's choice for its kind and
        its customer's kind (fieldapp/domain/form_choice.py), else the standard one."""
        job = self.r.jobs.get(job_id)
        customer = self.r.find("customers", job["customer_id"]) if job["customer_id"] else None
        setting = self.r.find("org_settings", form_choice.SETTING)
        code = form_choice.form_for(job["kind"], customer["kind"] if customer else None,
                                    form_choice.chosen(setting["value"] if setting else None))
        if code is None:
            raise InvalidInput("no_form_for_kind", f"{job['kind']} jobs have no form",
                               kind=job["kind"])
        return code

    def for_job(self, job_id: str) -> dict[str, Any] | None:
        """The job's submission of its form; None before it starts, or for a kind of job
        that has no form. Whatever form it was started on: a form chosen for the kind since
        does not hide a draft."""
        if self.r.jobs.get(job_id)["kind"] not in FORM_FOR_KIND:
            return None
        rows = list(self.r.db.query(
            "SELECT * FROM submissions WHERE job_id = ? ORDER BY started_at DESC LIMIT 1",
            [job_id]))
        return rows[0] if rows else None

    def start(self, job_id: str) -> str:
        """The job's submission on the newest version of its form, created on first use with
        its hidden answers filled from the replica (a draft keeps the version it started on)."""
        code = self.form_code(job_id)
        with self.r.transaction():
            existing = self.for_job(job_id)
            if existing:
                return str(existing["id"])
            definition = self.r.submissions.definition(code)
            sub_id = self.r.submissions.create(job_id, code, definition["version"])
            job = self.r.get("jobs", job_id)
            answers = prefill(self.r, job, definition)
            answers.update(dynamic_defaults(definition, answers))
            for path, value in answers.items():
                self.r.submissions.answer(sub_id, path, value)
        return sub_id

    def asks_signature(self, submission: Mapping[str, Any]) -> bool:
        """Whether the submission's form has a signature question of its own."""
        raw = self.r.submissions.definition(submission["form_code"],
                                            submission["form_version"])
        return any(q.type == "signature" for q in as_definition(raw).by_key.values())

    def answer(self, submission_id: str, path: str, value: Any,
               note: str | None = None) -> Changes:
        return self.r.submissions.answer(submission_id, path, value, note)

    def submit(self, submission_id: str) -> Changes:
        return self.r.submissions.submit(submission_id)

    def _version(self, submission_id: str) -> tuple[str, int]:
        sub = self.r.get("submissions", submission_id)
        return sub["form_code"], sub["form_version"]

    def remove_instance(self, submission_id: str, instance: str) -> Changes:
        """Take out one instance of a repeat (``appliances[1]``): the later ones move up and
        the last one's answers are emptied (answer rows are evidence and stay; a null answer
        is no answer). Refused while it or a later instance has photos, which belong to
        their question: delete those first. Nothing saved in it: no change."""
        match = _INSTANCE.fullmatch(instance)
        if match is None:
            raise InvalidInput("not_an_instance", f"{instance} is not a repeat instance",
                               instance=instance)
        base, index = match.group(1), int(match.group(2))
        repeat = as_definition(self.r.submissions.definition(
            *self._version(submission_id))).by_key.get(base.rsplit(".", 1)[-1].split("[")[0])
        if repeat is None or repeat.type != "repeat":
            raise InvalidInput("not_an_instance", f"{instance} is not a repeat instance",
                               instance=instance)
        if _prefilled(repeat):
            raise InvalidInput("instance_fixed", f"{instance} comes from the job",
                               instance=instance)
        inside = re.compile(rf"{re.escape(base)}\[(\d+)\]\.(.+)")
        changes = Changes()
        with self.r.transaction():
            sub = self.r.get("submissions", submission_id)
            saved: dict[int, dict[str, Mapping[str, Any]]] = {}
            for path, row in self.r.submissions.answers(submission_id).items():
                found = inside.fullmatch(path)
                if found and int(found.group(1)) >= index and row["value"] is not None:
                    saved.setdefault(int(found.group(1)), {})[found.group(2)] = row
            photos = [q for q in self.r.submissions.attachments_by_question(sub["job_id"])
                      if (found := inside.fullmatch(q)) and int(found.group(1)) >= index]
            if photos:
                raise InvalidInput("instance_has_photos", f"{instance}: photos {photos}",
                                   instance=instance, questions=photos)
            for i in range(index, max(saved, default=index - 1) + 1):
                moved, current = saved.get(i + 1, {}), saved.get(i, {})
                for rest in sorted(set(moved) | set(current)):
                    new = moved.get(rest) or {"value": None, "note": None}
                    old = current.get(rest) or {"value": None, "note": None}
                    if (new["value"], new["note"]) != (old["value"], old["note"]):
                        changes |= self.answer(submission_id, f"{base}[{i}].{rest}",
                                               new["value"], new["note"])
        return changes

    def screen(self, submission_id: str, extra: Mapping[str, int] | None = None,
               lang: str = "zh") -> FormScreen:
        """The relevant questions of the submission in order, with ``extra`` empty instances
        added to the repeats named by path (a tap on "add" before anything is answered)."""
        sub = self.r.get("submissions", submission_id)
        raw = self.r.submissions.definition(sub["form_code"], sub["form_version"])
        d = as_definition(raw)
        answers = self.r.submissions.answers(submission_id)
        values = {p: a["value"] for p, a in answers.items()}
        nested = nest(values)
        for repeat_path, n in (extra or {}).items():
            _pad(nested, repeat_path, n)
        state = FormState(d, nested)
        attached = self.r.submissions.attachments_by_question(sub["job_id"])
        found: dict[str, str] = {}
        for problem in self.r.submissions.problems(submission_id):
            found.setdefault(problem.question_path, problem.code)  # the first, as they are fixed
        fields = []
        instances: set[str] = set()
        for q, idx in state.walk():
            if q.type in HIDDEN:
                continue
            if q.repeats and (head := _instance_head(state, q, idx, lang)).path not in instances:
                instances.add(head.path)
                fields.append(head)
            path = state.path(q, idx)
            fields.append(_field(state, q, idx, path, answers.get(path), attached, found,
                                 lang))
        valued = [f for f in fields if f.type not in ("group", "note", "repeat", "instance")]
        answered = [f for f in valued if f.value not in (None, "", []) or f.count]
        # Out of what must be answered and what was, so a finished form reads n/n.
        total = len({id(f) for f in valued if f.required} | {id(f) for f in answered})
        title = shown_text(d.title, lang, d.raw.get("default_language")) or d.code
        hazards = (self.r.submissions.hazards(sub["job_id"]) if sub["state"] == "submitted"
                   else [])
        shown = {f.path for f in fields}
        # The clock's stamp orders saves that happen within one millisecond, too.
        last = max(((a.get("hlc") or "", p) for p, a in answers.items() if p in shown),
                   default=None)
        return FormScreen(submission_id, title, sub["state"], fields, len(answered), total,
                          last_answered=last[1] if last else None,
                          failed=sum(1 for f in valued if f.value == "fail"
                                     and f.type == "pass_fail_na"),
                          submitted_at=sub["submitted_at"], hazards=hazards,
                          documents=documents.available(sub["state"], len(hazards)))


def _field(state: FormState, q: Question, idx: tuple[int, ...], path: str,
           answer: Mapping[str, Any] | None, attached: Mapping[str, list[str]],
           found: Mapping[str, str], lang: str) -> Field:
    def text(labels: Mapping[str, str] | None) -> str:
        return shown_text(labels, lang, state.definition.raw.get("default_language"))

    hint = text(q.raw.get("hint")) if isinstance(q.raw.get("hint"), dict) \
        else str(q.raw.get("hint") or "")
    f = Field(path=path, key=q.key, type=q.type, label=state.piped(text(q.label), q, idx),
              depth=len(q.repeats) + _groups(state, q), required=state.required(q, idx),
              hint=state.piped(hint, q, idx), unit=str(q.raw.get("unit") or ""))
    f.value = answer["value"] if answer else None
    f.note = answer["note"] if answer else None
    f.choices = [(c.value, text(c.label)) for c in state.choices(q, idx)]
    if q.type == "note":
        f.text = str(state.value(q, idx) or "") if q.calculation else ""
    if q.type == "meter_reading" and q.previous is not None:
        f.previous = state.evaluate(q.previous, q, idx)
    if q.type == "pass_fail_na" and isinstance(q.hazard_level_on_fail, str):
        level = state.definition.hazard_levels.get(q.hazard_level_on_fail)
        f.hazard_level = text(level.label) if level else q.hazard_level_on_fail
    if q.type == "repeat":
        f.count = state.instance_count(q, idx)
        wanted = state.repeat_count(q, idx)
        f.wanted = wanted
        f.can_add = (f.count < wanted if wanted is not None
                     else q.max_repeat is None or f.count < q.max_repeat)
    if q.type in ATTACHED_TYPES:
        f.count = len(set(f.value or []) | set(attached.get(path, ())))
    if q.type == "pass_fail_na":  # photos of a failed item
        f.count = len(attached.get(path, ()))
    if q.type == "signature":  # the customer signs the job on the signature tab
        f.count = len(attached.get(SIGNED, ()))
        if found.get(path) == "signature_void":  # signed before a change: sign again
            f.problem, f.count = "signature_void", 0
    if f.value is not None or q.type == "repeat":
        f.problem = found.get(path) if found.get(path) != "required" else None
    f.kb_query = kb_query(q, f.value, [(c.value, (c.label or {}).get("zh", ""))
                                       for c in state.choices(q, idx)])
    return f


# Chinese characters count as word characters, so \b would miss "显示E02": ASCII bounds.
FAULT_CODE = re.compile(r"(?<![A-Z0-9])[A-Z]{1,2}-?\d{2,3}(?![0-9])")


def kb_query(q: Question, value: Any, choices: list[tuple[str, str]]) -> str | None:
    """A fault question's answer as a knowledge-base search: a fault code typed in the
    description (E02), else the chosen category's Chinese name (the articles are Chinese and
    tag the categories they cover). Questions opt in with ``"kb": true`` or a ``fault_`` key."""
    if not (q.raw.get("kb") or q.key.startswith("fault_")) or value in (None, ""):
        return None
    if q.type in ("select_one", "select_multiple"):
        chosen = value if isinstance(value, list) else [value]
        names = [name for v, name in choices if v in chosen and v != "other" and name]
        return names[0] if names else None
    code = FAULT_CODE.search(str(value).upper())
    return code.group(0) if code else None


def _instance_head(state: FormState, q: Question, idx: tuple[int, ...], lang: str) -> Field:
    """The heading of the repeat instance ``q`` is in: "燃气具 2", with its own depth."""
    repeat = state.definition.by_key[q.repeats[-1]]
    labels = repeat.label or {}
    path = "".join(f"{r}[{i}]." for r, i in zip(q.repeats, idx, strict=True))[:-1]
    name = re.split(r"[（(]", labels.get(lang) or labels.get("zh") or repeat.key)[0].strip()
    return Field(path=path, key=repeat.key, type="instance", label=f"{name} {idx[-1] + 1}",
                 depth=len(repeat.repeats) + _groups(state, repeat) + 1,
                 can_remove=not _prefilled(repeat))


def _prefilled(repeat: Question) -> bool:
    """Whether the repeat's instances come from the job (a check's hazards), not the user."""
    return any(c.type == "hidden" and c.raw.get("source") for c in repeat.children)


def _groups(state: FormState, q: Question) -> int:
    depth, parent = 0, q.parent
    while parent:
        if state.definition.by_key[parent].type == "group":
            depth += 1
        parent = state.definition.by_key[parent].parent
    return depth


def _pad(nested: dict[str, Any], repeat_path: str, extra: int) -> None:
    """Add ``extra`` empty instances to the repeat at ``repeat_path`` (``a`` or ``a[1].b``)."""
    container: Any = nested
    *steps, leaf = repeat_path.split(".")
    for step in steps:
        key, _, index = step.partition("[")
        instances = container.setdefault(key, [])
        i = int(index.rstrip("]"))
        while len(instances) <= i:
            instances.append({})
        container = instances[i]
    container.setdefault(leaf, []).extend({} for _ in range(extra))

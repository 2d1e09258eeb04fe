"""The submissions of every form on the tablet: created for a job in service, one saved answer
at a time, checked against their own form version, and submitted (which issues the hazards
and rectification notice the answers call for)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fieldapp.changes import Changes
from fieldapp.errors import InvalidInput, NotFound
from fieldapp.forms import checklist, engine
from fieldapp.forms.loader import as_definition
from fieldapp.forms.paths import nest
from fieldapp.local_time import now_iso
from fieldapp.replica import readings, rectification

if TYPE_CHECKING:
    from fieldapp.replica import Replica

FORM_CODE = "household_inspection"
SIGNED = "\0signature"  # not a path: where attachments_by_question puts the signatures


class Submissions:
    def __init__(self, replica: Replica) -> None:
        self.r = replica

    def definition(self, code: str = FORM_CODE, version: int | None = None) -> dict[str, Any]:
        """The given version of a form, or its newest one: synced from the server, else the
        bundled one."""
        sql = "SELECT definition FROM form_definitions WHERE code = ?"
        params: list[Any] = [code]
        if version is not None:
            sql += " AND form_version = ?"
            params.append(version)
        for (text,) in self.r.db.execute(sql + " ORDER BY form_version DESC LIMIT 1", params):
            definition: dict[str, Any] = json.loads(text)
            return definition
        bundled = {v: d for (c, v), d in checklist.bundled_definitions().items() if c == code}
        if not bundled or (version is not None and version not in bundled):
            raise NotFound("unknown_form", f"no form {code} v{version}", form=code,
                           version=version)
        return bundled[version if version is not None else max(bundled)]

    def create(self, job_id: str, code: str, version: int) -> str:
        """A new draft submission of a form for one of the technician's jobs in service;
        call inside a transaction."""
        session = self.r.require_session()
        job = self.r.jobs.require_mine(job_id)
        if job["status"] != "in_service":
            raise InvalidInput("job_not_in_service", "start the service before the form",
                               status=job["status"])
        return self.r.insert("submissions", {
            "job_id": job_id, "customer_id": job["customer_id"], "form_code": code,
            "form_version": version, "state": "draft", "started_at": now_iso(),
            "by_user": session.username, "device_id": self.r.device_id,
        })

    def answer(self, submission_id: str, question: str, value: str | None,
               note: str | None = None) -> Changes:
        """Save one answer now (every tap is durable)."""
        session = self.r.require_session()
        with self.r.transaction():
            sub = self.r.get("submissions", submission_id)
            if sub["state"] != "draft":
                raise InvalidInput("submission_closed", "the checklist was already submitted",
                                   submission_id=submission_id)
            definition = self.definition(sub["form_code"], sub["form_version"])
            problem = engine.check_answer(definition, question, value)
            if problem:
                # A constraint's own words ("0–100 %LEL") say more than "out of range".
                raise InvalidInput(problem.code, f"{question}: {problem.code}",
                                   question=question, value=value,
                                   constraint_message=problem.params.get("message"))
            fields = {"value": json.dumps(value), "note": note, "answered_at": now_iso(),
                      "by_user": session.username, "device_id": self.r.device_id}
            row = self.r.db.execute(
                "SELECT id FROM answers WHERE submission_id = ? AND question = ?",
                [submission_id, question]).fetchone()
            if row:
                self.r.update("answers", row[0], fields)
                answer_id = row[0]
            else:
                answer_id = self.r.insert("answers", {
                    "submission_id": submission_id, "job_id": sub["job_id"],
                    "customer_id": sub["customer_id"], "question": question, **fields})
        return Changes.of("answers", ids=(answer_id,))

    def answers(self, submission_id: str) -> dict[str, dict[str, Any]]:
        rows = self.r.db.query("SELECT * FROM answers WHERE submission_id = ?", [submission_id])
        return {row["question"]: {**row, "value": json.loads(row["value"] or "null")}
                for row in rows}

    def problems(self, submission_id: str, *,
                 judge_signature: bool = True) -> list[checklist.Problem]:
        """Everything that stops the form from closing. The customer's signature counts
        only while it still matches the content (``forms.signing``): one given before a
        later change is void and reported as ``signature_void``."""
        from fieldapp.replica import signing

        sub = self.r.get("submissions", submission_id)
        answers = self.answers(submission_id)
        definition = self.definition(sub["form_code"], sub["form_version"])
        attached = self.attachments_by_question(sub["job_id"])
        signatures = attached.pop(SIGNED, [])
        void = False
        if judge_signature and signatures and sub["state"] == "draft":
            latest = self.r.evidence.signatures(sub["job_id"])[-1]
            void = not signing.binds(self.r, submission_id, latest)
        if void:
            signatures = []
        asked = [q for q in as_definition(definition).by_key.values()
                 if q.type == "signature" and not q.repeats]
        for q in asked:
            if signatures:
                attached.setdefault(q.key, signatures)
        found = checklist.problems(
            definition, nest({q: a["value"] for q, a in answers.items()}),
            {q: a["note"] for q, a in answers.items()}, attached)
        if not void:
            return found
        # The void signature's question says why it is unanswered; a form without one (the
        # flat checklist) is blocked as well, under the name of the job's signature.
        found = [checklist.Problem(p.question_path, "signature_void")
                 if p.question_path in {q.key for q in asked} else p for p in found]
        if not asked:
            found.append(checklist.Problem("signature", "signature_void"))
        return found

    def attachments_by_question(self, job_id: str) -> dict[str, list[str]]:
        """Photo ids per question path captured for the job; the job's signatures under
        ``SIGNED`` (a signature question is answered by the customer signing the job)."""
        found: dict[str, list[str]] = {}
        for row in self.r.db.query("SELECT id, question, kind FROM attachments"
                                   " WHERE job_id = ? ORDER BY captured_at", [job_id]):
            key = SIGNED if row["kind"] == "signature" else row["question"]
            if key:
                found.setdefault(key, []).append(row["id"])
        return found

    def submit(self, submission_id: str) -> Changes:
        """Close the form; refuses with every problem listed if it is incomplete. What the
        answers call for is written with it: hazards, the rectification notice and its check
        jobs, the meter's reading."""
        found = self.problems(submission_id)
        if found:
            raise InvalidInput("incomplete_form", f"{len(found)} problems",
                               problems=[(p.question_path, p.code) for p in found])
        submitted_at = now_iso()
        with self.r.transaction():
            sub = self.r.get("submissions", submission_id)
            self.r.update("submissions", submission_id,
                          {"state": "submitted", "submitted_at": submitted_at})
            answers = self.answers(submission_id)
            nested = nest({q: a["value"] for q, a in answers.items()})
            written = rectification.issue(
                self.r, sub, self.definition(sub["form_code"], sub["form_version"]), nested,
                {q: a["note"] for q, a in answers.items()}, submitted_at)
            if sub["form_code"] == rectification.CHECK_KIND:
                checked = rectification.record_check(self.r, sub, nested)
                if checked:
                    written = {**written, "hazards": [*written.get("hazards", []), *checked]}
            read = readings.record(self.r, sub, self.definition(sub["form_code"],
                                                                 sub["form_version"]),
                                   nested, submitted_at)
            if read:
                written = {**written, "readings": read}
        ids = {submission_id, *(i for group in written.values() for i in group)}
        return Changes(frozenset({"submissions", *written}), frozenset(ids))

    def hazards(self, job_id: str) -> list[dict[str, Any]]:
        """The hazards an inspection of this job found, most urgent first."""
        return list(self.r.db.query("SELECT * FROM hazards WHERE job_id = ? ORDER BY due_at,"
                                    " question", [job_id]))

"""The server holds a submission to the signature it carries: at submit it recomputes the hash
of what the customer signed from its own records, and refuses (and keeps) a submit whose
signature does not match or that lacks the signature its form requires. Through the real
server, from a real tablet and from a plain HTTP client."""

from __future__ import annotations

import json
import time
from pathlib import Path

from fieldapp.forms import signed_content
from fieldapp.ids import new_id
from fieldapp.local_time import now_iso
from tests.conftest import ServerProcess, synced_tablet
from tests.server.test_sync_api import login, mutation, push, version
from tests.world import STROKES, fill_household


def server_hash(server: ServerProcess, submission_id: str, signed_at: str) -> str:
    return signed_content.content_hash(server.query, submission_id, signed_at)


def signed_draft(server: ServerProcess, tmp_path: Path) -> tuple[str, str]:
    """tech01's household inspection filled and signed on a real tablet, synced as a draft:
    (submission id, the tablet's device id)."""
    replica, client = synced_tablet(server, tmp_path / "pad")
    sub_id = fill_household(replica, "job-1", tmp_path, {"hose_age": "软管老化"})
    replica.evidence.add_signature("job-1", STROKES, "户主")
    client.sync()
    return sub_id, replica.device_id


def submit(server: ServerProcess, headers: dict, device: str, sub_id: str) -> dict:
    resp = push(server, headers, device, [mutation(
        "submissions", sub_id, {"state": "submitted", "submitted_at": now_iso()},
        old={"state": "draft", "submitted_at": None},
        base_version=version(server, "submissions", sub_id))])
    assert resp.status_code == 200, resp.text
    [result] = resp.json()["results"]
    return result


def kept(server: ServerProcess, record_id: str) -> list[dict]:
    return server.query("SELECT field, reason, kept, preserved, preserved_by FROM conflicts"
                        " WHERE record_id = ? ORDER BY id", [record_id])


def test_a_tablet_signature_binds_what_the_server_holds(server: ServerProcess, tmp_path: Path):
    replica, client = synced_tablet(server, tmp_path / "pad")
    sub_id = fill_household(replica, "job-1", tmp_path, {"hose_age": "软管老化"})
    replica.evidence.add_signature("job-1", STROKES, "户主")
    replica.forms.submit(sub_id)
    client.sync()
    assert server.scalar("SELECT state FROM submissions WHERE id = ?", [sub_id]) == "submitted"
    [sig] = server.query("SELECT content_hash, signed_at FROM signatures WHERE job_id = 'job-1'")
    assert sig["content_hash"] == server_hash(server, sub_id, sig["signed_at"])
    assert sig["content_hash"] == replica.evidence.signatures("job-1")[0]["content_hash"]
    assert kept(server, sub_id) == []


def test_answers_changed_after_signing_make_the_submit_refused_and_kept(
        server: ServerProcess, tmp_path: Path):
    # The same account and tablet id, from a plain HTTP client: the answer itself applies
    # (it is the device's own evidence), the submit over it does not.
    sub_id, device = signed_draft(server, tmp_path)
    forger = login(server, "tech01", device)
    [answer] = server.query("SELECT id, value, version FROM answers WHERE submission_id = ?"
                            " AND question = 'visit_time'", [sub_id])
    changed = push(server, forger, device, [mutation(
        "answers", answer["id"], {"value": json.dumps("23:59")}, old={"value": answer["value"]},
        base_version=answer["version"], hlc=f"{int(time.time() * 1000):018d}:00000:{device}")])
    assert changed.json()["results"][0]["status"] == "applied", changed.json()

    result = submit(server, forger, device, sub_id)
    assert (result["status"], result["reason"]) == ("rejected", "signature_mismatch")
    assert "signature does not match" in result["message"]
    assert server.scalar("SELECT state FROM submissions WHERE id = ?", [sub_id]) == "draft"
    rows = kept(server, sub_id)
    assert {(r["field"], r["reason"], json.loads(r["kept"]), json.loads(r["preserved"]))
            for r in rows if r["field"] == "state"} == {
        ("state", "signature_mismatch", "draft", "submitted")}
    assert {r["preserved_by"] for r in rows} == {"tech01"}


def test_a_forged_signature_hash_is_refused(server: ServerProcess, tmp_path: Path):
    sub_id, _ = signed_draft(server, tmp_path)
    forger = login(server, "tech01", "pad-forger")
    [sig] = server.query("SELECT * FROM signatures WHERE job_id = 'job-1'")
    fields = {k: sig[k] for k in ("job_id", "customer_id", "attachment_id", "signer_name",
                                  "strokes", "by_user", "device_id")}
    forged = push(server, forger, "pad-forger", [mutation(
        "signatures", new_id(), {**fields, "signed_at": now_iso(), "content_hash": "0" * 64},
        op="insert")])
    assert forged.json()["results"][0]["status"] == "applied"
    result = submit(server, forger, "pad-forger", sub_id)
    assert (result["status"], result["reason"]) == ("rejected", "signature_mismatch")
    assert server.scalar("SELECT state FROM submissions WHERE id = ?", [sub_id]) == "draft"


def test_a_form_that_needs_a_signature_is_not_submitted_without_one(server: ServerProcess):
    headers = login(server, "tech01", "pad-plain")
    draft, direct = new_id(), new_id()
    base = {"job_id": "job-2", "customer_id": "cust-2", "form_code": "household_inspection",
            "form_version": 2, "started_at": now_iso(), "submitted_at": None,
            "by_user": "tech01", "device_id": "pad-plain"}
    resp = push(server, headers, "pad-plain", [
        mutation("submissions", draft, {**base, "state": "draft"}, op="insert"),
        mutation("answers", new_id(), {
            "submission_id": draft, "job_id": "job-2", "customer_id": "cust-2",
            "question": "visit_outcome", "value": json.dumps("inspected"), "note": None,
            "answered_at": now_iso(), "by_user": "tech01", "device_id": "pad-plain"},
            op="insert")])
    assert [r["status"] for r in resp.json()["results"]] == ["applied", "applied"]
    result = submit(server, headers, "pad-plain", draft)
    assert (result["status"], result["reason"]) == ("rejected", "signature_missing")
    assert server.scalar("SELECT state FROM submissions WHERE id = ?", [draft]) == "draft"
    assert [r["reason"] for r in kept(server, draft)] == ["signature_missing"] * 2

    # Straight in as submitted (a repair report always asks for the signature): refused the
    # same way, the whole record kept.
    tech02 = login(server, "tech02", "pad-plain-2")
    resp = push(server, tech02, "pad-plain-2", [mutation("submissions", direct, {
        **base, "job_id": "job-3", "customer_id": "cust-3", "form_code": "repair_report",
        "form_version": 1, "by_user": "tech02", "device_id": "pad-plain-2",
        "state": "submitted"}, op="insert")])
    [refused] = resp.json()["results"]
    assert (refused["status"], refused["reason"]) == ("rejected", "signature_missing")
    assert server.query("SELECT id FROM submissions WHERE id = ?", [direct]) == []
    [whole] = kept(server, direct)
    assert whole["reason"] == "signature_missing"
    assert json.loads(whole["preserved"])["state"] == "submitted"


def test_a_form_without_a_signature_question_submits_unsigned(server: ServerProcess):
    """The flat v1 checklist asks for the signature at completion, not in the form."""
    headers = login(server, "tech01", "pad-plain")
    sub = new_id()
    resp = push(server, headers, "pad-plain", [mutation("submissions", sub, {
        "job_id": "job-2", "customer_id": "cust-2", "form_code": "household_inspection",
        "form_version": 1, "state": "draft", "started_at": now_iso(), "submitted_at": None,
        "by_user": "tech01", "device_id": "pad-plain"}, op="insert")])
    assert resp.json()["results"][0]["status"] == "applied"
    assert submit(server, headers, "pad-plain", sub)["status"] == "applied"

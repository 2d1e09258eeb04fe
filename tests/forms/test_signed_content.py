"""The customer's signature binds the hash of what was shown: given only on a complete form,
void after any change to an answer, a hazard's note or a photo, and submitting waits for a
new one."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from PIL import Image

from fieldapp.errors import InvalidInput
from fieldapp.forms import signed_content
from fieldapp.replica import Replica, signing
from tests.world import STROKES, fill_household


def content(replica: Replica, sub_id: str, signed_at: str) -> signed_content.SignedContent:
    return signed_content.load(signing.query_of(replica), sub_id, signed_at)


def test_a_half_filled_form_cannot_be_signed_and_says_what_is_missing(fresh_replica: Replica):
    r = fresh_replica
    r.jobs.transition("job-1", "accepted")
    r.jobs.transition("job-1", "in_service")
    sub_id = r.forms.start("job-1")
    r.forms.answer(sub_id, "visit_outcome", "inspected")
    screen = r.forms.screen(sub_id)
    assert screen.answered < screen.total
    with pytest.raises(InvalidInput) as refused:
        r.evidence.add_signature("job-1", STROKES, "户主")
    assert refused.value.code == "form_incomplete"
    gaps = {g["question"]: g for g in refused.value.params["missing"]}
    assert "meter_reading" in gaps and gaps["meter_reading"]["label"]
    assert "customer_signature" not in gaps  # the signature answers itself
    assert refused.value.params["count"] == len(gaps)
    assert list(r.db.query("SELECT * FROM signatures")) == []
    assert signing.status(r, "job-1").state == signing.NONE


def test_a_signature_stores_the_hash_of_exactly_what_was_shown(fresh_replica: Replica,
                                                                tmp_path: Path):
    r = fresh_replica
    sub_id = fill_household(r, "job-1", tmp_path, {"hose_age": "软管老化"})
    r.evidence.add_signature("job-1", STROKES, "户主")
    [sig] = r.evidence.signatures("job-1")
    shown = content(r, sub_id, sig["signed_at"])
    assert sig["content_hash"] == shown.hash == hashlib.sha256(
        shown.text.encode()).hexdigest()
    canonical = json.loads(shown.text)
    assert canonical["submission_id"] == sub_id
    assert canonical["answers"]["meter_reading"]["value"] == shown.canonical["answers"][
        "meter_reading"]["value"]
    assert [h["question"] for h in canonical["hazards"]] == ["hose_age"]
    assert canonical["hazards"][0]["note"] == "软管老化"
    photos = {p["sha256"] for p in r.evidence.photos("job-1")}
    assert {p["sha256"] for p in canonical["photos"]} == photos and len(photos) == 2
    assert "recordings" not in canonical  # none: hashed as before recordings existed
    # Canonical: sorted keys, no spaces; the same content gives the same text.
    assert shown.text == json.dumps(canonical, sort_keys=True, ensure_ascii=False,
                                    separators=(",", ":"))
    assert signing.status(r, "job-1").state == signing.VALID
    r.forms.submit(sub_id)
    assert r.get("submissions", sub_id)["state"] == "submitted"


@pytest.mark.parametrize("change", ["answer", "hazard_note", "photo_added", "photo_removed",
                                    "recording_added"])
def test_a_change_after_signing_voids_the_signature_until_signed_again(
        fresh_replica: Replica, tmp_path: Path, change: str):
    r = fresh_replica
    sub_id = fill_household(r, "job-1", tmp_path, {"hose_age": "软管老化"})
    r.evidence.add_signature("job-1", STROKES, "户主")
    if change == "answer":
        r.forms.answer(sub_id, "visit_time", "10:15")
    elif change == "hazard_note":
        r.forms.answer(sub_id, "hose_age", "fail", "软管老化，已龟裂")
    elif change == "recording_added":
        from tests.server.test_recordings import tone
        r.evidence.add_recording("job-1", tone(tmp_path / "hiss.wav"))
    elif change == "photo_added":
        photo = tmp_path / "late.jpg"
        Image.new("RGB", (320, 240), (10, 200, 30)).save(photo)
        r.evidence.add_photo("job-1", photo, question="meter_photo")
    else:
        r.evidence.delete_photo(r.evidence.photos("job-1")[-1]["id"])
        if change == "photo_removed":  # the failed item needs its photo again
            photo = tmp_path / "again.jpg"
            Image.new("RGB", (320, 240), (200, 10, 30)).save(photo)
            r.evidence.add_photo("job-1", photo, question="hose_age")
    assert signing.status(r, "job-1").state == signing.VOID
    with pytest.raises(InvalidInput) as refused:
        r.forms.submit(sub_id)
    assert ("customer_signature", "signature_void") in refused.value.params["problems"]
    field = next(f for f in r.forms.screen(sub_id).fields if f.key == "customer_signature")
    assert field.problem == "signature_void"

    r.evidence.add_signature("job-1", STROKES, "户主")
    again = signing.status(r, "job-1")
    assert (again.state, again.voided) == (signing.VALID, 1)
    r.forms.submit(sub_id)
    assert r.get("submissions", sub_id)["state"] == "submitted"
    assert len(r.evidence.signatures("job-1")) == 2  # the void one stays as evidence


def test_the_flat_checklist_is_blocked_by_a_void_signature_too(fresh_replica: Replica):
    from tests.world import answer_checklist

    r = fresh_replica
    sub_id = answer_checklist(r, "job-1")
    r.evidence.add_signature("job-1", STROKES, "陈桂芳")
    r.submissions.answer(sub_id, "hose_age", "fail", "龟裂")
    with pytest.raises(InvalidInput) as refused:
        r.submissions.submit(sub_id)
    assert ("signature", "signature_void") in refused.value.params["problems"]
    r.evidence.add_signature("job-1", STROKES, "陈桂芳")
    r.submissions.submit(sub_id)


def test_the_hash_ignores_what_the_customer_did_not_sign_for(fresh_replica: Replica,
                                                             tmp_path: Path):
    """Hazard rows written at submit and closed later by a rectification check, and the
    signature question's own answer, are not part of what was signed."""
    r = fresh_replica
    sub_id = fill_household(r, "job-1", tmp_path, {"hose_age": "软管老化"})
    r.evidence.add_signature("job-1", STROKES, "户主")
    r.forms.submit(sub_id)
    [hazard] = r.submissions.hazards("job-1")
    with r.transaction():
        r.update("hazards", hazard["id"], {"status": "rectified"})
    assert signing.status(r, "job-1").state == signing.VALID

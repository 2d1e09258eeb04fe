"""The report states what the customer signed: the hash, when, by whom, and whether the record
still matches it, read back from the PDF."""

from __future__ import annotations

from pathlib import Path

from fieldapp.replica import Replica
from fieldapp.reports import inspection_pdf
from fieldapp.reports.report_data import from_replica
from tests.reports.reportkit import squash, text_of, write
from tests.world import STROKES, fill_household


def printed(replica: Replica, sub_id: str, path: Path) -> str:
    return squash(text_of(write(inspection_pdf.render(from_replica(replica, sub_id)), path)))


def test_the_pdf_states_the_signed_hash_and_that_nothing_changed(fresh_replica: Replica,
                                                                  tmp_path: Path):
    r = fresh_replica
    sub_id = fill_household(r, "job-1", tmp_path)
    r.evidence.add_signature("job-1", STROKES, "户主")
    r.forms.submit(sub_id)
    [sig] = r.evidence.signatures("job-1")
    signature = from_replica(r, sub_id).signature
    assert signature is not None
    assert (signature.content_hash, signature.intact, signature.voided) == (
        sig["content_hash"], True, 0)
    text = printed(r, sub_id, tmp_path / "report.pdf")
    assert f"所签内容SHA-256：{sig['content_hash']}" in text
    assert "签字人：户主" in text and "经办：tech01" in text
    assert "签名后内容未改动" in text and "作废" not in text


def test_the_pdf_says_a_signature_was_voided_and_given_again(fresh_replica: Replica,
                                                              tmp_path: Path):
    r = fresh_replica
    sub_id = fill_household(r, "job-1", tmp_path)
    r.evidence.add_signature("job-1", STROKES, "户主")
    r.forms.answer(sub_id, "visit_time", "10:05")  # changed after the customer signed
    draft = from_replica(r, sub_id).signature
    assert draft is not None and draft.intact is False
    assert "签名后内容有改动：此签名已作废" in printed(r, sub_id, tmp_path / "void.pdf")

    r.evidence.add_signature("job-1", STROKES, "户主")
    r.forms.submit(sub_id)
    text = printed(r, sub_id, tmp_path / "resigned.pdf")
    assert "此前1次签名因签名后内容改动已作废，客户已重新签名；签名后内容未改动" in text
    latest = r.evidence.signatures("job-1")[-1]["content_hash"]
    assert f"所签内容SHA-256：{latest}" in text

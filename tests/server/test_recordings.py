"""Audio and video evidence: a recording kept on the tablet as recorded (hashed like a
photo, its kind read from its bytes), pushed, checked again by the server, and played in
the office's report in Chromium."""

from __future__ import annotations

import hashlib
import math
import struct
import wave
from pathlib import Path

import pytest

from fieldapp.errors import InvalidInput, NotFound
from fieldapp.file_kinds import sniff
from fieldapp.forms import engine
from fieldapp.ids import new_id
from fieldapp.local_time import now_iso
from fieldapp.replica import Replica
from fieldapp.sync.client import SyncClient
from tests.conftest import ServerProcess
from tests.server.test_office_browser import sign_in
from tests.server.test_office_files import png, upload
from tests.server.test_sync_api import login, mutation, push
from tests.world import PASSWORD, complete_inspection


def tone(path: Path, seconds: float = 1.0, rate: int = 8000) -> Path:
    """A real WAV file: a 440 Hz tone, as a tablet's recorder would save the hiss of a leak."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i
                                                                          / rate)))
                                 for i in range(int(seconds * rate))))
    return path


@pytest.mark.parametrize(("head", "kind"), [
    (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "audio/mp4"),
    (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00", "video/mp4"),
    (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "video/quicktime"),
    (b"\x00\x00\x00\x14ftyp3gp5\x00\x00\x00\x00", "video/3gpp"),
    (b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio/mpeg"), (b"\xff\xfb\x90\x64", "audio/mpeg"),
    (b"\xff\xf1\x50\x80", "audio/aac"), (b"OggS\x00\x02", "audio/ogg"),
    (b"#!AMR\n", "audio/amr"), (b"fLaC\x00\x00\x00\x22", "audio/flac"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", "video/webm"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", "audio/wav"),
    (b"\x00\x00\x00\x20ftyp", None), (b"ID", None), (b"RIFF\x24\x00\x00\x00AVI ", None)],
    ids=["m4a", "mp4", "mov", "3gp", "mp3-id3", "mp3-frame", "aac", "ogg", "amr", "flac",
         "webm", "wav", "cut-mp4", "cut-id3", "avi"])
def test_recordings_are_told_by_their_bytes(head: bytes, kind: str | None) -> None:
    assert sniff(head) == kind


def test_the_server_holds_a_recording_to_what_its_bytes_are(server: ServerProcess,
                                                             tmp_path: Path) -> None:
    tech = login(server, "tech01", "pad-1")
    wav = tone(tmp_path / "leak.wav").read_bytes()
    wav_sha, png_sha = upload(server, tech, wav), upload(server, tech, png())

    def attach(sha: str, kind: str, size: int) -> dict:
        return push(server, tech, "pad-1", [mutation("attachments", new_id(), {
            "sha256": sha, "job_id": "job-1", "customer_id": "cust-1", "kind": kind,
            "mime": "audio/wav", "size": size, "captured_at": now_iso()},
            op="insert")]).json()["results"][0]

    before = server.scalar("SELECT count(*) FROM attachments")
    for sha, kind, size in ((png_sha, "audio", len(png())), (wav_sha, "photo", len(wav)),
                            (wav_sha, "video", len(wav))):
        refused = attach(sha, kind, size)
        assert (refused["status"], refused["reason"]) == ("rejected", "attachment_kind"), kind
    assert server.scalar("SELECT count(*) FROM attachments") == before
    assert attach(wav_sha, "audio", len(wav))["status"] == "applied"


def test_a_recording_on_the_tablet_is_played_in_the_office(server: ServerProcess, browser,
                                                          tmp_path: Path) -> None:
    replica = Replica.open(tmp_path / "tablet")
    client = SyncClient(replica, server.url)
    client.login("tech01", PASSWORD)
    client.sync()
    fake = tmp_path / "notes.mp3"
    fake.write_text("not a recording", encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        replica.evidence.add_recording("job-1", fake)
    assert refused.value.code == "not_a_recording"
    with pytest.raises(NotFound):  # another technician's job is not on this tablet
        replica.evidence.add_recording("job-3", tone(tmp_path / "x.wav"))

    sub_id = complete_inspection(replica, "job-1", tmp_path / "photo.jpg")
    wav = tone(tmp_path / "阀门关闭.wav", seconds=1.5)
    attachment = replica.evidence.add_recording("job-1", wav)
    kept = replica.get("attachments", attachment)
    assert (kept["kind"], kept["mime"], kept["size"]) == ("audio", "audio/wav",
                                                          wav.stat().st_size)
    assert kept["sha256"] == hashlib.sha256(wav.read_bytes()).hexdigest()
    assert replica.evidence.read_blob(kept["sha256"]) == wav.read_bytes()  # as recorded
    client.sync()
    assert server.scalar("SELECT kind FROM attachments WHERE id = ?", [attachment]) == "audio"

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server.url}/office/reports/{sub_id}")
    sign_in(page, "dispatcher")
    assert "阀门关闭.wav" in page.locator("#recordings").inner_text()
    page.wait_for_function("document.querySelector('#recordings audio').readyState >= 1")
    duration = page.evaluate("document.querySelector('#recordings audio').duration")
    assert abs(duration - 1.5) < 0.05  # Chromium decoded it from the office's file door
    replica.close()


def test_audio_and_video_questions_count_their_recordings() -> None:
    definition = {"code": "leak", "version": 1, "title": {"zh": "漏气"}, "items": [
        {"key": "hiss", "type": "audio", "required": True, "min_count": 2, "max_count": 3,
         "label": {"zh": "漏气声录音"}},
        {"key": "valve", "type": "video", "label": {"zh": "关阀录像"}}]}

    def found(files: dict[str, list[str]]) -> list[tuple[str, str]]:
        return [(p.question_path, p.code) for p in engine.problems(definition, {}, files)]

    assert found({}) == [("hiss", "required")]
    assert found({"hiss": ["a"]}) == [("hiss", "too_few_recordings")]
    assert found({"hiss": ["a", "b"], "valve": ["c"]}) == []
    assert found({"hiss": ["a", "b", "c", "d"]}) == [("hiss", "too_many_recordings")]

"""Camera frames without a camera: a folder of images and a video file stand in for the
device; a barcode is read from a 1280×720 frame in one pass; a missing camera is said."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from fieldapp.capture.camera import (
    CameraUnavailable,
    FolderSource,
    camera_from_config,
    decode_frame,
    frame_jpeg,
)
from fieldapp.demo.barcodes import write_barcode_png

CODE = "GM3201000002"


def meter_frame(folder: Path, code: str = CODE, seed: int = 1) -> Path:
    """A 1280×720 'photo' of a meter label: the barcode small on a noisy grey wall."""
    rng = np.random.default_rng(seed)
    wall = rng.normal(150, 25, (720, 1280)).clip(0, 255).astype(np.uint8)
    frame = Image.fromarray(wall).convert("RGB")
    label = Image.open(write_barcode_png(code, folder / "label.png")).convert("RGB")
    label.thumbnail((520, 300))
    frame.paste(label, (380, 220))
    path = folder / "frames" / f"b-{code}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.save(path)
    return path


def blank_frame(folder: Path, name: str = "a-empty.png") -> Path:
    path = folder / "frames" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (1280, 720), (90, 90, 90)).save(path)
    return path


def test_a_folder_plays_its_images_in_order_and_over(tmp_path: Path) -> None:
    blank_frame(tmp_path)
    meter_frame(tmp_path)
    source = camera_from_config(f"file:{tmp_path / 'frames'}")
    assert isinstance(source, FolderSource)
    frames = [source.read() for _ in range(3)]
    assert [f.shape for f in frames] == [(720, 1280, 3)] * 3
    assert decode_frame(frames[0]) == []
    assert [d.text for d in decode_frame(frames[1])] == [CODE]
    assert np.array_equal(frames[0], frames[2])  # round again
    source.close()


def test_a_video_file_loops_like_a_camera(tmp_path: Path) -> None:
    still = cv2.imread(str(meter_frame(tmp_path)))
    video = tmp_path / "scan.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (1280, 720))
    for _ in range(3):
        writer.write(still)
    writer.release()
    source = camera_from_config(f"file:{video}")
    read = [source.read() for _ in range(5)]  # past the end: from the start again
    assert all(f is not None and f.shape == (720, 1280, 3) for f in read)
    assert [d.text for d in decode_frame(read[4])] == [CODE]
    source.close()


@pytest.mark.parametrize(("spec", "code"), [
    ("7", "camera_unavailable"),  # no such device here
    ("webcam", "camera_unknown"),
    ("file:/nowhere/at/all", "camera_unavailable"),
])
def test_a_missing_camera_is_said(spec: str, code: str) -> None:
    with pytest.raises(CameraUnavailable) as raised:
        camera_from_config(spec)
    assert raised.value.code == code


def test_a_frame_kept_as_a_photo_is_a_jpeg(tmp_path: Path) -> None:
    frame = cv2.imread(str(meter_frame(tmp_path)))
    jpeg = frame_jpeg(frame)
    assert jpeg[:2] == b"\xff\xd8"
    back = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert back.shape == frame.shape
    assert [d.text for d in decode_frame(back)] == [CODE]

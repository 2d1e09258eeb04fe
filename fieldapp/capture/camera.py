"""Camera frames for live barcode scanning and evidence photos, through OpenCV's
VideoCapture (DirectShow / Media Foundation on the Windows tablets, V4L2 on Linux).

    source = camera_from_config("0")              # the first camera
    source = camera_from_config("file:demo/cam")  # a folder of images or a video: simulated
    frame = source.read()                          # BGR numpy array, or None for no frame now
    found = decode_frame(frame)                    # barcodes in one frame, one quick pass
    jpeg = frame_jpeg(frame)                       # what 拍照 keeps (then watermarked as any)

QtMultimedia is not in PySide6-Essentials; OpenCV (headless, so its own Qt never meets
ours) hands frames straight to the decoders as arrays. A camera that is missing or busy is
:class:`CameraUnavailable`, said in words; the file picker stays the way round it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np

from fieldapp.capture.barcode import Decoded, decode_fast
from fieldapp.errors import FieldAppError

CAMERA_ENV = "FIELDAPP_CAMERA"
FRAME_SIZE = (1280, 720)  # asked of a device; it may give what it has
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


class CameraUnavailable(FieldAppError):
    pass


class FrameSource(Protocol):
    def read(self) -> np.ndarray | None: ...
    def close(self) -> None: ...


class VideoSource:
    """A camera by index, or a video file (which loops, like a camera that never ends)."""

    def __init__(self, target: int | str, size: tuple[int, int] = FRAME_SIZE) -> None:
        import cv2

        self._cv2 = cv2
        self.target = target
        self.capture = cv2.VideoCapture(target)
        if not self.capture.isOpened():
            self.capture.release()
            raise CameraUnavailable("camera_unavailable", f"no camera at {target!r}",
                                    target=str(target))
        if isinstance(target, int):
            self.capture.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
            self.capture.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])

    def read(self) -> np.ndarray | None:
        ok, frame = self.capture.read()
        if not ok and isinstance(self.target, str):  # a file at its end: from the start
            self.capture.set(self._cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self.capture.read()
        return frame if ok else None

    def close(self) -> None:
        self.capture.release()


class FolderSource:
    """The images of a folder in name order, over and over: a camera for demos and tests."""

    def __init__(self, folder: Path | str) -> None:
        import cv2

        self.paths = sorted(p for p in Path(folder).iterdir()
                            if p.suffix.lower() in IMAGE_SUFFIXES) if Path(folder).is_dir() \
            else []
        if not self.paths:
            raise CameraUnavailable("camera_unavailable", f"no images in {folder}",
                                    target=str(folder))
        self._cv2 = cv2
        self._next = 0

    def read(self) -> np.ndarray | None:
        path = self.paths[self._next % len(self.paths)]
        self._next += 1
        # imdecode, not imread: imread cannot open a non-ASCII path on Windows.
        return self._cv2.imdecode(np.fromfile(path, dtype=np.uint8), self._cv2.IMREAD_COLOR)

    def close(self) -> None:
        pass


def camera_from_config(spec: str | None) -> FrameSource:
    """``0``, ``1``… a camera by index; ``file:PATH`` a folder of images or a video file.
    ``FIELDAPP_CAMERA`` overrides the tablet's setting."""
    spec = (os.environ.get(CAMERA_ENV) or spec or "0").strip()
    if spec.isdigit():
        return VideoSource(int(spec))
    kind, _, arg = spec.partition(":")
    if kind == "file" and arg:
        return FolderSource(arg) if Path(arg).is_dir() else VideoSource(arg)
    raise CameraUnavailable("camera_unknown", f"unknown camera {spec!r}: use 0, 1… or file:PATH",
                            target=spec)


# The box drawn on the preview, as fractions of the frame: the label is aimed into it, and
# only it is decoded (40% of the frame, so well under the 50 ms a frame may take).
GUIDE = (0.1875, 0.1875, 0.8125, 0.8125)


def guide_box(width: int, height: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = GUIDE
    return int(width * x0), int(height * y0), int(width * x1), int(height * y1)


def decode_frame(frame: np.ndarray) -> list[Decoded]:
    """Barcodes in the guide box of one frame, in a single pass: the next frame is the
    retry, and a photo of the label through 从图片选择 gets the thorough treatment."""
    gray = frame if frame.ndim == 2 else frame[:, :, 1]  # green: the sharpest channel
    x0, y0, x1, y1 = guide_box(gray.shape[1], gray.shape[0])
    return decode_fast(np.ascontiguousarray(gray[y0:y1, x0:x1]))


def frame_jpeg(frame: np.ndarray, quality: int = 95) -> bytes:
    import cv2

    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise CameraUnavailable("frame_unencodable", "the frame could not be saved")
    return data.tobytes()


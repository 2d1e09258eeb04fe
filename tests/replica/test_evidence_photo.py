"""Photos attached to a job through the replica: what is stored, where it was taken, migrations."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import piexif
import pytest
import sqlite_utils
from PIL import Image

from fieldapp.capture.gps import SimulatedSource
from fieldapp.capture.photo import dms_to_degrees
from fieldapp.demo.photos import scene_photo
from fieldapp.errors import InvalidInput
from fieldapp.local_time import LOCAL_ZONE
from fieldapp.position import Position
from fieldapp.replica import Replica, store
from sync_server.storage.sqlite_database import Database

TAKEN = datetime(2026, 11, 24, 10, 5, 0, tzinfo=LOCAL_ZONE)


@pytest.fixture
def photo_file(tmp_path: Path) -> Path:
    path = tmp_path / "IMG_2041.JPG"
    scene_photo(2400, 1800).save(path, quality=92)
    return path


def _comment(data: bytes) -> str:
    raw = piexif.load(data)["0th"][piexif.ImageIFD.XPComment]
    return bytes(raw).decode("utf-16-le").rstrip("\0")


def test_the_stored_photo_is_the_watermarked_jpeg_with_its_position(
        fresh_replica: Replica, photo_file: Path) -> None:
    here = Position(32.0203, 118.8011, 4.0, TAKEN.astimezone(UTC), "nmea", 3.25)
    attachment_id = fresh_replica.evidence.add_photo("job-1", photo_file, "hose_age",
                                                     position=here, taken_at=TAKEN)

    row = fresh_replica.get("attachments", attachment_id)
    data = fresh_replica.evidence.read_blob(row["sha256"])
    assert hashlib.sha256(data).hexdigest() == row["sha256"]
    assert data != photo_file.read_bytes()
    assert (row["mime"], row["size"], row["filename"]) == ("image/jpeg", len(data), "IMG_2041.jpg")
    assert (row["lat"], row["lon"], row["accuracy_m"], row["fix_age_s"]) == \
        (32.0203, 118.8011, 4.0, 3.2)
    assert row["captured_at"] == "2026-11-24T10:05:00+08:00"
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "JPEG" and img.size == (1920, 1440)
    gps = piexif.load(data)["GPS"]
    assert dms_to_degrees(gps[piexif.GPSIFD.GPSLatitude], gps[piexif.GPSIFD.GPSLatitudeRef]) \
        == pytest.approx(32.0203, abs=1e-7)
    # The watermark names the job, the customer's account and the technician signed in.
    assert _comment(data) == ("2026-11-24 10:05:00 北京时间 GPS 32.020300°N 118.801100°E ±4m"
                              " 工单 GD202611240001  户号 320100000001 技术员 王建国")
    # The position travels to the server with the record.
    entry = json.loads(fresh_replica.db.execute(
        "SELECT fields FROM outbox WHERE record_id = ?", [attachment_id]).fetchone()[0])
    assert (entry["lat"], entry["lon"], entry["accuracy_m"], entry["fix_age_s"]) == \
        (32.0203, 118.8011, 4.0, 3.2)


def test_no_fix_still_saves_the_photo_and_says_so(fresh_replica: Replica,
                                                  photo_file: Path) -> None:
    attachment_id = fresh_replica.evidence.add_photo("job-1", photo_file)

    row = fresh_replica.get("attachments", attachment_id)
    assert (row["lat"], row["lon"], row["accuracy_m"], row["fix_age_s"]) == (None,) * 4
    data = fresh_replica.evidence.read_blob(row["sha256"])
    assert "无GPS定位" in _comment(data) and piexif.load(data)["GPS"] == {}


def test_a_simulated_fix_is_marked_as_such(fresh_replica: Replica, photo_file: Path) -> None:
    position = SimulatedSource().current()
    attachment_id = fresh_replica.evidence.add_photo("job-1", photo_file, position=position)
    data = fresh_replica.evidence.read_blob(fresh_replica.get("attachments",
                                                              attachment_id)["sha256"])
    assert "[模拟定位]" in _comment(data)
    assert piexif.load(data)["GPS"][piexif.GPSIFD.GPSProcessingMethod].endswith(b"SIM")


def test_the_tablet_setting_changes_size_and_quality(fresh_replica: Replica,
                                                     photo_file: Path) -> None:
    fresh_replica.set_state("photo.long_edge", "1024")
    fresh_replica.set_state("photo.quality", "70")
    attachment_id = fresh_replica.evidence.add_photo("job-1", photo_file)
    data = fresh_replica.evidence.read_blob(fresh_replica.get("attachments",
                                                              attachment_id)["sha256"])
    reference = io.BytesIO()
    Image.new("RGB", (8, 8)).save(reference, format="JPEG", quality=70)
    with Image.open(io.BytesIO(data)) as img, Image.open(reference) as ref:
        assert img.size == (1024, 768) and img.quantization == ref.quantization


def test_a_bad_setting_falls_back_to_the_defaults(fresh_replica: Replica) -> None:
    fresh_replica.set_state("photo.quality", "300")
    fresh_replica.set_state("photo.long_edge", "big")
    settings = fresh_replica.evidence.photo_settings()
    assert (settings.long_edge, settings.quality) == (1920, 85)


def test_a_refused_photo_leaves_nothing_behind(fresh_replica: Replica, tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    with pytest.raises(InvalidInput) as err:
        fresh_replica.evidence.add_photo("job-1", broken)
    assert err.value.code == "not_an_image"
    assert fresh_replica.evidence.photos("job-1") == []
    assert fresh_replica.db.execute("SELECT count(*) FROM blobs").fetchone()[0] == 0


# -- schema --------------------------------------------------------------------------------

GPS_COLUMNS = {"lat": "REAL", "lon": "REAL", "accuracy_m": "REAL", "fix_age_s": "REAL"}


def _columns(conn: sqlite3.Connection) -> dict[str, str]:
    return {r[1]: r[2] for r in conn.execute("PRAGMA table_info(attachments)")}


def test_a_version_1_replica_gains_the_gps_columns_and_keeps_its_photos(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite_utils.Database(sqlite3.connect(path))
    db.execute("CREATE TABLE schema_migrations "
               "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    with db.atomic():
        store.MIGRATIONS[1][1](db)  # exactly what a tablet released with version 1 has
        db.execute("INSERT INTO schema_migrations VALUES (1, 'v1', '2026-11-01')")
        db.execute("INSERT INTO attachments (id, sha256, customer_id, kind) "
                   "VALUES ('a1', 'abc', 'cust-1', 'photo')")
    db.conn.close()

    upgraded = store.open_db(path)
    assert store.schema_version(upgraded) == store.SCHEMA_VERSION >= 2
    columns = _columns(upgraded.conn)
    assert GPS_COLUMNS.items() <= columns.items()
    row = upgraded.execute("SELECT sha256, lat FROM attachments WHERE id = 'a1'").fetchone()
    assert tuple(row) == ("abc", None)


def test_the_server_schema_has_the_same_gps_columns(tmp_path: Path) -> None:
    database = Database(tmp_path / "server.sqlite3")
    with database.read() as conn:
        assert GPS_COLUMNS.items() <= _columns(conn).items()
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
    assert 3 in versions


def test_a_photo_of_a_completed_job_cannot_be_taken_back(fresh_replica: Replica,
                                                         photo_file: Path) -> None:
    open_photo = fresh_replica.evidence.add_photo("job-1", photo_file)
    fresh_replica.evidence.delete_photo(open_photo)  # the job is still open
    assert fresh_replica.find("attachments", open_photo) is None

    kept = fresh_replica.evidence.add_photo("job-1", photo_file)
    with fresh_replica.transaction():
        fresh_replica.update("jobs", "job-1", {"status": "completed"})
    with pytest.raises(InvalidInput) as refused:
        fresh_replica.evidence.delete_photo(kept)
    assert refused.value.code == "job_closed"
    assert fresh_replica.find("attachments", kept) is not None

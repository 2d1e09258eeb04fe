"""A position fix as every part of the product reads it: the tablet's capture stamps photos
with it and reports draw and print it, on the tablet and on the server. Shared, so neither
of the latter needs the tablet's position drivers (``fieldapp.capture.gps``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Position:
    lat: float  # WGS-84 degrees, as GNSS receivers report them (not China's GCJ-02)
    lon: float
    accuracy_m: float | None  # horizontal, metres; None when the source cannot say
    fix_time: datetime  # when the fix was taken (UTC, from the receiver when it has one)
    source: str  # "sim" or "nmea"; a platform source would add its own name
    age_s: float = 0.0  # how long ago the source received this fix, at the time of asking

    @property
    def simulated(self) -> bool:
        return self.source == "sim"


def valid_coordinates(lat: float, lon: float) -> bool:
    return (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90
            and -180 <= lon <= 180)

"""Web Mercator, the projection every PMTiles and MBTiles tile pyramid is cut in: a point's
place in "world pixels" at a zoom (256 x 2^zoom a side), and back."""

from __future__ import annotations

import math

TILE = 256
MAX_LAT = 85.0511287798  # the square world's edge: atan(sinh(pi))


def world(lon: float, lat: float, zoom: float) -> tuple[float, float]:
    """(x, y) in pixels from the world's north-west corner at ``zoom``."""
    size = TILE * math.pow(2.0, zoom)
    lat = max(-MAX_LAT, min(MAX_LAT, lat))
    s = math.sin(math.radians(lat))
    return ((lon + 180.0) / 360.0 * size,
            (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * size)


def lonlat(x: float, y: float, zoom: float) -> tuple[float, float]:
    size = TILE * math.pow(2.0, zoom)
    lon = x / size * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / size))))
    return lon, lat


def tile_of(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    x, y = world(lon, lat, zoom)
    last = 2 ** zoom - 1
    return min(last, max(0, int(x // TILE))), min(last, max(0, int(y // TILE)))


def metres_per_pixel(lat: float, zoom: float) -> float:
    return 40075016.686 * math.cos(math.radians(lat)) / (TILE * math.pow(2.0, zoom))


def in_world(bounds: tuple[float, float, float, float]) -> bool:
    """Whether (west, south, east, north) are degrees inside the Mercator square: a file whose
    bounds are metres of a projected grid, or swapped, is not."""
    w, s, e, n = bounds
    return (-180.0 <= w < e <= 180.0 and -MAX_LAT - 1e-6 <= s < n <= MAX_LAT + 1e-6)

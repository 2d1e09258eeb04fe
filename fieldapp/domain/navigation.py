"""Links out of the app for a job: turn-by-turn navigation in the phone's or tablet's map
app, and a call to the customer. The map link is AMap's (高德) URI API, which opens the
installed app or its web page; it takes the GNSS (WGS-84) position as it is."""

from __future__ import annotations

from urllib.parse import quote, urlencode

AMAP_MARKER = "https://uri.amap.com/marker"


def navigation_url(lat: float | None, lon: float | None, name: str) -> str | None:
    if lat is None or lon is None:
        return None
    return AMAP_MARKER + "?" + urlencode({
        "position": f"{lon:.6f},{lat:.6f}", "name": name, "coordinate": "wgs84",
        "callnative": 1}, quote_via=quote)


def phone_url(phone: str | None) -> str | None:
    digits = "".join(ch for ch in (phone or "") if ch.isdigit() or ch == "+")
    return f"tel:{digits}" if len(digits) >= 5 else None

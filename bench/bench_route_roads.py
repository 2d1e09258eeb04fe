"""How much a day's route shortens when it is planned along the roads rather than as the
crow flies, both driven along the same roads; and what the planning costs.

Run by hand: ``PYTHONPATH=. .venv/bin/python bench/bench_route_roads.py``.

Two cities, each every demo technician's jobs of the demo's busiest day:
- the demo's own districts, on their street grid (``fieldapp.demo.network``'s roads layer);
- the same districts with a river across the middle of each, crossed by two bridges (every
  street crossing it removed but two): where the crow's order sends a technician to the
  far bank and back.
Baseline in the same run: the previous design, the route planned as the crow flies.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from datetime import datetime
from datetime import time as day_time
from typing import Any

from fieldapp.demo import network
from fieldapp.demo.generate import generate
from fieldapp.domain.route import Stop, plan_route
from fieldapp.local_time import LOCAL_ZONE
from fieldapp.network import geojson
from fieldapp.network.model import ROADS
from fieldapp.network.roads import Roads


def days(data: Any) -> dict[str, list[list[Stop]]]:
    """Each district's technicians' stops on the day with the most jobs."""
    where = {c["id"]: c for c in data.rows["customers"]}
    by_day: dict[str, int] = defaultdict(int)
    for j in data.rows["jobs"]:
        by_day[j["due_at"][:10]] += 1
    busiest = max(by_day, key=lambda d: by_day[d])
    out: dict[str, dict[str, list[Stop]]] = defaultdict(lambda: defaultdict(list))
    for j in data.rows["jobs"]:
        c = where[j["customer_id"]]
        if j["assignee"] and j["due_at"][:10] == busiest and c.get("lat") is not None:
            out[c["district"]][j["assignee"]].append(
                Stop(j["id"], c["lat"], c["lon"], j["priority"] or 3, None))
    return {d: [s for s in techs.values() if len(s) >= 3] for d, techs in out.items()}


def river(roads_text: str) -> str:
    """The streets with a river across the district's middle: every north-south street
    crossing it is gone but the fourth and the third from last (the bridges)."""
    doc = json.loads(roads_text)
    rows = sorted({round(p[1], 6) for f in doc["features"] for p in f["geometry"]["coordinates"]})
    middle = (rows[len(rows) // 2 - 1] + rows[len(rows) // 2]) / 2  # between two streets
    crossing = [f for f in doc["features"]
                if min(p[1] for p in f["geometry"]["coordinates"]) < middle
                < max(p[1] for p in f["geometry"]["coordinates"])]
    crossing.sort(key=lambda f: f["geometry"]["coordinates"][0][0])
    bridges = {id(crossing[3]), id(crossing[-3])} if len(crossing) > 6 else set()
    doc["features"] = [f for f in doc["features"] if f not in crossing or id(f) in bridges]
    return json.dumps(doc, ensure_ascii=False)


def measure(name: str, with_river: bool) -> None:
    data = generate()
    meters = {m["customer_id"]: m["barcode"] for m in data.rows["meters"]}
    districts = sorted({c["district"] for c in data.rows["customers"] if c["district"]})
    start = datetime.combine(datetime.now(LOCAL_ZONE).date(), day_time(8, 0), LOCAL_ZONE)
    crow_km = road_km = crow_s = road_s = 0.0
    routes = 0
    for district, technicians in sorted(days(data).items()):
        customers = [c for c in data.rows["customers"] if c["district"] == district]
        text = network.layers(customers, meters, f"D{districts.index(district) + 1}")[ROADS]
        features, _ = geojson.read(river(text) if with_river else text, ROADS)
        roads = Roads.of(features)
        for stops in technicians:
            t0 = time.perf_counter()
            crow = plan_route(stops, start=None, start_time=start)
            t1 = time.perf_counter()
            road = plan_route(stops, start=None, start_time=start, distance=roads.matrix_km)
            t2 = time.perf_counter()
            place = {s.id: (s.lat, s.lon) for s in stops}
            crow_km += roads.along_km([place[i] for i in crow.order])  # type: ignore[misc]
            road_km += road.total_km
            crow_s, road_s, routes = crow_s + t1 - t0, road_s + t2 - t1, routes + 1
    print(f"{name}: {routes} routes; along the roads, the crow's order {crow_km:.1f} km,"
          f" the roads' order {road_km:.1f} km: {100 * (1 - road_km / crow_km):.1f}% shorter"
          f" (ratio {road_km / crow_km:.3f})")
    print(f"  planning per route: as the crow flies {1000 * crow_s / routes:.1f} ms,"
          f" along the roads {1000 * road_s / routes:.1f} ms"
          f" ({road_s / crow_s:.1f}x)")


if __name__ == "__main__":
    measure("demo street grid", with_river=False)
    measure("with a river and two bridges", with_river=True)

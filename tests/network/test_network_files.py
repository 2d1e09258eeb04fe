"""The GIS's layers as they come: what refuses a file, what is flagged, and what is joined."""

from __future__ import annotations

import json

import pytest

from fieldapp.network import geojson
from fieldapp.network.build import build
from fieldapp.network.isolation import isolate
from fieldapp.network.model import PIPES, SOURCES, VALVES, NetworkFileError
from tests.network.network_files import at, collection, layers, line, network, point


def codes(net) -> list[tuple[str, str]]:
    return sorted((p.code, p.feature) for p in net.problems)


def test_the_known_network_reads_clean_and_its_valves_cut_the_pipes():
    net = network(layers())
    assert net.problems == []
    # M1 cut at V1, the B1 tee, V2 and the two service tees; B1 at SL3's tee and V3; B2 at
    # the SL4 tee and V4: 6 + 3 + 3 pieces of main, and the 4 service lines.
    assert sum(e.kind == PIPES for e in net.edges) == 12 and len(net.edges) == 16
    assert sorted(d.id for d in net.devices) == ["S1", "S2", "V1", "V2", "V3", "V4"]
    m1 = [e for e in net.edges if e.id == "M1"]
    assert sum(e.length_m for e in m1) == pytest.approx(300.0, abs=0.01)
    assert all(e.properties["material"] == "PE" for e in m1)  # the GIS's attributes kept


def test_a_pipe_that_stops_short_and_a_valve_off_every_pipe_are_flagged():
    files = layers()
    files[PIPES] = collection(*json.loads(files[PIPES])["features"],
                              line("X1", (151.5, -100), (260, -100)))  # 1.5 m from B1
    files[VALVES] = collection(*json.loads(files[VALVES])["features"], point("V9", 200, -90))
    net = network(files)
    assert codes(net) == [("no_source", ""), ("off_pipe", "V9"), ("unjoined_end", "X1")]
    words = {p.code: p.zh for p in net.problems}
    assert words["unjoined_end"] == ("管线 X1：端点距管线 B1 仅 1.5 米，但未连接"
                                     "（两段管线是否应相接？）")
    assert words["off_pipe"] == ("阀门 V9：不在任何管线上（最近的管线 X1 相距 10.0 米），"
                                 "关阀分析不计此点")
    assert "1 条管线（含 X1）" in words["no_source"]
    assert "V9" not in {d.id for d in net.devices}
    # The rest of the network still answers at a leak.
    assert [v.id for v in isolate(net, **at(175, 1)).close] == ["V1", "V3"]


@pytest.mark.parametrize(("text", "code"), [
    ("{not json", "not_json"),
    (b"\xff\xfe{", "not_json"),
    ("[1, 2]", "not_features"),
    ('{"type": "Topology"}', "not_features"),
    ('{"type": "FeatureCollection", "features": {}}', "not_features"),
    (collection(point("V1", 0, 0), crs={"type": "name", "properties": {
        "name": "urn:ogc:def:crs:EPSG::3857"}}), "crs"),
    # metres of a Gauss-Krüger zone, as a GIS exports by default
    (json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
     "geometry": {"type": "Point", "coordinates": [40512345.6, 3545678.9]}}]}), "not_degrees"),
    (collection(point("V1", 0, 0), point("V1", 5, 0)), "duplicate_id"),
])
def test_a_file_that_cannot_be_taken_is_refused_in_words(text, code):
    with pytest.raises(NetworkFileError) as refused:
        geojson.read(text, VALVES)
    assert [p.code for p in refused.value.problems] == [code]
    assert all(p.severity == "error" and p.zh for p in refused.value.problems)


def test_cgcs2000_is_taken_as_wgs84_and_features_of_the_wrong_kind_are_flagged():
    polygon = {"type": "Feature", "id": "A1", "properties": {},
               "geometry": {"type": "Polygon", "coordinates": [[[118.78, 32.04]] * 4]}}
    broken = [{"type": "Feature", "id": "N1", "properties": None, "geometry": None},
              {"type": "Feature", "id": "N2", "geometry": {"type": "LineString",
                                                           "coordinates": [["a", 1], 5]}},
              {"type": "Feature", "id": "N3", "geometry": {"type": "LineString",
                                                           "coordinates": 7}},
              "not a feature", 12]
    text = collection(line("P1", (0, 0), (10, 0)), line("P2", (20, 0), (20, 0)), polygon,
                      *broken, crs={"type": "name", "properties": {"name": "EPSG:4490"}})
    features, problems = geojson.read(text, PIPES)
    assert [f.id for f in features] == ["P1", "P2"]
    assert sorted((p.code, p.feature) for p in problems) == [
        ("no_geometry", "#7"), ("no_geometry", "#8"), ("no_geometry", "N1"),
        ("no_geometry", "N2"), ("no_geometry", "N3"), ("wrong_geometry", "A1")]
    net = build({PIPES: features, SOURCES: []})
    assert [(p.code, p.feature) for p in net.problems] == [("too_short", "P2"),
                                                           ("no_source", "")]

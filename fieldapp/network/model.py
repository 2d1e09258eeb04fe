"""What the network modules hand each other: a GIS feature as read, and a problem found in
the files, named by layer and feature, in words (Chinese first, as the office reads them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fieldapp.errors import InvalidInput

# The job's record of a valve closed at a leak (an interaction; its text the valve's id).
VALVE_CLOSED = "valve_closed"

# The layers a utility's GIS exports, one file each.
PIPES, VALVES, SOURCES, SERVICE_LINES = "pipes", "valves", "sources", "service_lines"
ROADS = "roads"  # street centrelines: not gas, the graph road distances are measured on
LAYER_ZH = {PIPES: "管线", VALVES: "阀门", SOURCES: "气源（调压站）", SERVICE_LINES: "入户管",
            ROADS: "道路中心线"}

# code → the sentence, with the problem's params. "error" refuses the file (nothing of it is
# taken); "warning" is flagged, and the rest of the network is taken.
MESSAGES_ZH: dict[str, str] = {
    "not_json": "不是 GeoJSON 文件：{reason}",
    "not_shapefile": "不是可读的 Shapefile 压缩包（.zip，含 .shp、.shx、.dbf）：{reason}",
    "not_features": "不是 GeoJSON 要素集（FeatureCollection），而是 {found}",
    "crs": "坐标系 {crs} 不是 WGS-84 经纬度；请从 GIS 按 EPSG:4326 导出",
    "not_degrees": "坐标 {value} 不是经纬度（疑为投影坐标）；请从 GIS 按 EPSG:4326 导出",
    "duplicate_id": "编号 {id} 重复（另见第 {other} 个要素）",
    "no_geometry": "没有几何图形，已跳过",
    "wrong_geometry": "几何类型是 {found}，此图层应为 {wanted}，已跳过",
    "too_short": "管线长度为零，已跳过",
    "unjoined_end": "端点距管线 {other} 仅 {gap_m} 米，但未连接（两段管线是否应相接？）",
    "off_pipe": "不在任何管线上（最近的管线 {pipe} 相距 {gap_m} 米），关阀分析不计此点",
    "no_source": "与任何气源都不相连的一段管网：{count} 条管线（含 {sample}）",
}


@dataclass(frozen=True)
class Problem:
    code: str
    layer: str
    feature: str  # the feature's id, or "#N" (its place in the file) when it has none
    severity: str = "warning"  # or "error"
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def zh(self) -> str:
        where = f"{LAYER_ZH.get(self.layer, self.layer)} {self.feature}：" if self.feature else (
            f"{LAYER_ZH.get(self.layer, self.layer)}：")
        return where + MESSAGES_ZH[self.code].format(**self.params)


class NetworkFileError(InvalidInput):
    """A network file that cannot be taken at all; nothing of it is used."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("network_file_refused", "; ".join(p.zh for p in problems),
                         problems=problems)
        self.problems = problems


@dataclass(frozen=True)
class Feature:
    layer: str
    place: int  # its place in the file, from 1
    id: str
    lines: list[list[tuple[float, float]]]  # (lon, lat) points; one line for a point feature
    properties: dict[str, Any]

"""The in-app map's texts (zh, en): the map page and the basemap's state."""

MAP: dict[str, tuple[str, str]] = {
    "progress.basemap": ("下载离线底图 {mb_done:.1f}/{mb_total:.1f} MB",
                         "Fetching the offline basemap {mb_done:.1f}/{mb_total:.1f} MB"),
    "map.title": ("今日地图 · {n} 个工单", "Today's map · {n} jobs"),
    "map.back": ("返回", "Back"),
    "map.fit": ("全部工单", "All jobs"),
    "map.network": ("管网", "Gas mains"),
    "map.me": ("我的位置", "My position"),
    "map.zoom_in": ("放大", "Zoom in"),
    "map.zoom_out": ("缩小", "Zoom out"),
    "map.export": ("另存网页地图", "Save as web page"),
    "map.basemap": ("底图：{name}（{zooms} 级{synced}）", "Basemap: {name} (zoom {zooms}{synced})"),
    "map.basemap_synced": ("，已同步", ", synced"),
    "map.no_basemap": ("没有离线底图：同步后自动下载本区底图，或把 .pmtiles / .mbtiles 文件放到 {folder}",
                       "No offline basemap: a sync fetches the district's, or put a .pmtiles / "
                       ".mbtiles file in {folder}"),
    "map.refused": ("未使用 {name}：{reason}", "Not used: {name}: {reason}"),
    "map.outside": ("底图不覆盖今日工单所在区域", "The basemap does not cover today's jobs"),
    "map.route_road": ("路线 {km:.1f} 公里（沿道路；按直线距离排的顺序走则为 {crow:.1f} 公里）",
                       "Route {km:.1f} km along the roads ({crow:.1f} km in the "
                       "as-the-crow-flies order)"),
    "map.route_crow": ("路线 {km:.1f} 公里（直线距离：本区没有道路数据）",
                       "Route {km:.1f} km as the crow flies (no roads for this district)"),
    "map.no_position": ("还没有定位", "No position fix yet"),
    "map.legend": ("编号为路线顺序 · 虚线为路线 · 黄线为燃气管线 · 方块为阀门（红色已关）",
                   "Numbers are the route order · dashes the route · yellow the gas mains · "
                   "squares the valves (red: closed)"),
}

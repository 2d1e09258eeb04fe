"""The gas network as a graph: pipes, valves, sources (regulator stations) and service
lines, read from the utility's GIS (``geojson.py``), joined into nodes and edges
(``build.py``), and the valves that isolate a leak found on it (``isolation.py``).

Plain Python on purpose: the tablet runs the isolation offline in a basement, and a
graph of a district's few thousand pipes needs a Dijkstra and a breadth-first search (a few
dozen lines), not a graph library and GEOS in the frozen build.
"""

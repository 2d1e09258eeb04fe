"""Offline basemaps: the streets and buildings under the tablet's map, read from a PMTiles or
MBTiles file the utility's GIS provides (``tiles``), placed by Web Mercator (``mercator``)."""

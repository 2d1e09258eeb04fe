"""Documents made on the tablet: offline maps (map.py) and, later, PDF reports."""

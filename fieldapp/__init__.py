"""FieldApp core: rules shared with the server (domain/, forms/, reports/, records, wire),
the tablet's offline replica (replica/) and its sync client (sync/). Never imports Qt."""

__version__ = "0.1.0"

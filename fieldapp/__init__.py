"""FieldApp core: the offline replica, domain rules and sync client. Never imports Qt."""

__version__ = "0.1.0"

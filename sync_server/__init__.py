"""FieldApp sync server: sync API, device auth and the back office, over SQLite."""

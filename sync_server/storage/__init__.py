"""Where the server keeps things: the database on two backends, and attachment bytes.

    db.py        schema migrations, one connection per request, SQLite by default
    postgres.py  the one place that knows how PostgreSQL differs from SQLite
    rows.py      a record's current row, or the tombstone a delete left
    objects.py   the object-store interface for attachment bytes, and its filesystem backend
    blobs.py     content-addressed attachments with resumable chunked upload
    server_state.py  the server's own state keys
    backup.py    backup and restore of a SQLite server (database, attachments, audit key)
"""

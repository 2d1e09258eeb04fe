"""The tablet's replica: the local encrypted database and a manager per area over it. Only
the tablet loads this package; what the server shares lives in domain/, forms/, reports/.

    core.py          Replica: the entry object, its one write path (row + outbox entry)
    store.py         the SQLite/SQLCipher file and its migrations
    db_key.py        the database key in the OS key store; sealed.py: files encrypted at rest
    unlock.py        the technician's offline unlock (PIN, idle lock); wipe.py: remote wipe
    integrity.py     the start-up check, and the rescue of unsent work from a damaged file
    settings.py      the tablet's own settings
    jobs.py customers.py interactions.py parts.py        the managers of work and customers
    submissions.py filling.py signing.py readings.py rectification.py   forms being filled
    form_start.py    what a form holds when it starts (prefilled sources, dynamic defaults)
    evidence.py      photos, signatures and scans; kb.py: the knowledge base's search
"""

from fieldapp.replica.core import Replica, Session

__all__ = ["Replica", "Session"]

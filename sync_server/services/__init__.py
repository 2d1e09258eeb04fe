"""The business rules every front end (sync API, back office, portal, the timer) shares.

    auth.py, token_rotation.py, throttle.py   users, tokens, sign-in and password guessing
    districts.py   the district an office account is limited to
    installation.py  `init`: the first admin, the utility's name and districts, the forms
    audit.py, audit_anchor.py   the chained change log, anchored outside the database
    dispatch.py    creating jobs, choosing a technician, assigning
    alerts.py      jobs nobody accepted in time, jobs past their deadline
    rules.py       event → condition → action, stored as data
    notify.py      sending what the rules queued, outside any transaction
    billing.py     bills from readings, reminders, dunning, payments
    kpis.py        the figures the business watches
    review.py      the supervisor's review of conflicts
"""

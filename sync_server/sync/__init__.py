"""The sync API's server side: what a tablet pushes is checked, merged and logged; what it
pulls is the current state of its scope after a cursor.

    api.py            the routes under /api/v1: login, refresh, push, pull, attachments, wipe
    push.py           a batch as a whole: refused before anything, or applied in one transaction
    write_checks.py   what a mutation must pass before the merge touches a row
    merge.py          field-level three-way merge and the change log
    parking.py        mutations waiting for their parent, and every mutation's stored answer
    conflict_rows.py  what the server keeps of a value it did not apply
    evidence_check.py the server's own check of a signature on submit
    pull.py           changes after a cursor, in the device's scope
"""
